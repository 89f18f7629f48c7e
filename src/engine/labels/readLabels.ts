/**
 * Class names for a model's outputs, from the files people keep beside their models: Teachable
 * Machine's metadata.json, labels.txt / classes.txt (one name per line, or `index,name`), Labels.json
 * (an array, or an object keyed by index); ImageNet's names when the model has 1000 classes.
 */
import { readOptionalBeside } from '../confinedPath';
import type { ModelSource } from '../modelSource';
import { IMAGENET_CLASSES } from './imagenetClasses';
import { classesOfUnits } from '../classCount';

export interface ClassLabels {
  names: readonly string[];
  /** Where the names came from, for the user: a file name, or "ImageNet". */
  origin: string;
}

const TEXT_FILES = ['labels.txt', 'Labels.txt', 'classes.txt'];
const JSON_FILES = ['metadata.json', 'labels.json', 'Labels.json'];

/** The first label file beside the model that names exactly `classCount` classes, if any. */
export async function readLabels(source: ModelSource, classCount: number): Promise<ClassLabels | undefined> {
  for (const file of [...JSON_FILES, ...TEXT_FILES]) {
    const bytes = await readOptionalBeside(source, file, 'has the label file');
    if (!bytes) continue;
    const text = new TextDecoder().decode(bytes);
    const names = file.endsWith('.json') ? namesFromJson(text) : namesFromText(text);
    // A single sigmoid unit tells two classes apart: its label file names both.
    if (names?.length === classesOfUnits(classCount)) return { names, origin: file };
  }
  if (classCount === IMAGENET_CLASSES.length) return { names: IMAGENET_CLASSES, origin: 'ImageNet' };
  return undefined;
}

export function namesFromText(text: string): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  // `0,tench` or `0 tench` forms: drop the index when every line starts with its own.
  const indexed = lines.every((line, i) => new RegExp(`^${i}[,:\\s]`).test(line));
  return indexed ? lines.map((line) => line.replace(/^\d+[,:\s]\s*/, '')) : lines;
}

export function namesFromJson(text: string): string[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const candidate = isObject(json) && Array.isArray(json.labels) ? json.labels : json;
  if (Array.isArray(candidate)) return candidate.every((n) => typeof n === 'string') ? candidate : undefined;
  if (isObject(candidate)) {
    const entries = Object.entries(candidate);
    const names: string[] = [];
    for (const [key, value] of entries) {
      const index = Number(key);
      if (!Number.isInteger(index) || typeof value !== 'string' || index < 0 || index >= entries.length) return undefined;
      names[index] = value;
    }
    return names.length === entries.length ? names : undefined;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
