/**
 * Folders of images for the dataset commands (`embed`, `neighbours`, `top-patches`): listing them, and
 * running them through a model batch by batch, decoding each batch only when it is needed, so a folder
 * of 10,000 images never sits in memory at once.
 */
import { type Dirent, existsSync, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { isInsideFolder } from '../engine/confinedPath';
import { analyseFolder, defaultFeatureLayer, type FolderFeatures } from '../engine/dataset/features';
import { labelByFolder, type FolderImage } from '../engine/dataset/imageFolder';
import type { Progress } from '../engine/progress';
import { nodeIndex } from '../engine/graph';
import { DEFAULT_LIMITS, limitsOf } from '../engine/limits';
import { imageToInput } from '../engine/preprocess';
import { readImageFile } from '../node/imageFile';
import { hasImageExtension, NODE_IMAGE_FORMATS } from '../shared/imageFormats';
import type { OpenedModel } from './modelFiles';
import { InputError } from './usage';

/**
 * The images under `folder`, recursively, hidden files and folders skipped, sorted and labelled by
 * their class subfolder (paths relative to the folder, with '/' separators). Only regular files are
 * listed (a FIFO named x.png would block the pass), and symbolic links only where they lead to a file or
 * folder inside the folder, each folder listed once however many links lead to it (a cycle would never end).
 */
export async function listImages(folder: string): Promise<FolderImage[]> {
  const info = await stat(folder).catch(() => undefined);
  if (!info) throw new InputError(`${folder}: no such folder`);
  if (!info.isDirectory()) throw new InputError(`${folder} is not a folder`);
  const root = await realpath(folder);
  const found: string[] = [];
  const visited = new Set<string>();
  const visit = async (directory: string, real: string, prefix: string): Promise<void> => {
    if (visited.has(real)) return;
    visited.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch {
      throw new InputError(`${directory}: cannot list this folder`);
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(directory, entry.name);
      let kind: Stats | Dirent = entry;
      let target = path.join(real, entry.name);
      if (entry.isSymbolicLink()) {
        target = await realpath(full).catch(() => '');
        if (!target || !isInsideFolder(root, target, path.sep)) continue;
        const linked = await stat(target).catch(() => undefined);
        if (!linked) continue;
        kind = linked;
      }
      if (kind.isDirectory()) await visit(full, target, `${prefix}${entry.name}/`);
      else if (kind.isFile() && hasImageExtension(NODE_IMAGE_FORMATS, entry.name)) found.push(`${prefix}${entry.name}`);
    }
  };
  await visit(folder, root, '');
  if (found.length === 0) throw new InputError(`${folder} has no images (${NODE_IMAGE_FORMATS.names})`);
  return labelByFolder(found);
}

/** A layer named on the command line must be one of the model's. */
export function requireLayer(opened: OpenedModel, modelFile: string, layer: string): void {
  if (!nodeIndex(opened.model).has(layer)) {
    throw new InputError(`${path.basename(modelFile)} has no layer "${layer}" (list its layers with: convlens summary ${modelFile})`);
  }
}

/** The layer features are read at: the one asked for, checked, or the one before the classifier. */
export function featureLayer(opened: OpenedModel, modelFile: string, layer: string | undefined): string {
  if (layer !== undefined) {
    requireLayer(opened, modelFile, layer);
    return layer;
  }
  try {
    return defaultFeatureLayer(opened.model);
  } catch (error) {
    throw new InputError(
      `${path.basename(modelFile)}: ${(error as Error).message} with --layer (list its layers with: convlens summary ${modelFile})`,
    );
  }
}

/**
 * Every file through the model, in batches: features at `layer`, and predictions. `files` are paths
 * as the user can find them, which name them in messages; an image over `maxPixels` is refused.
 */
export async function analyseFiles(
  opened: OpenedModel,
  modelFile: string,
  files: readonly string[],
  layer: string,
  progress?: Progress,
  peakLayer?: string,
  maxPixels: number = limitsOf(opened.source).imagePixels,
): Promise<FolderFeatures> {
  const loadBatch = async (start: number, end: number): Promise<tf.Tensor4D> => {
    const inputs: tf.Tensor4D[] = [];
    try {
      for (const file of files.slice(start, end)) inputs.push(imageToInput(await decode(file, maxPixels), opened.input.preprocessing));
      return inputs.length === 1 ? inputs.pop()! : tf.concat(inputs);
    } finally {
      tf.dispose(inputs);
    }
  };
  try {
    return await analyseFolder(opened.model, { count: files.length, loadBatch, featureLayer: layer, peakLayer, progress });
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${path.basename(modelFile)}: ${(error as Error).message}`);
  }
}

/**
 * One image's pixels, refused over `maxPixels`; a file that cannot be decoded is named by its path, not
 * just its base name.
 */
export async function decode(file: string, maxPixels: number = DEFAULT_LIMITS.imagePixels) {
  if (!existsSync(file)) throw new InputError(`${file}: no such file`);
  try {
    return await readImageFile(file, maxPixels);
  } catch (error) {
    const message = (error as Error).message;
    const base = path.basename(file);
    throw new InputError(message.startsWith(base) ? `${file}${message.slice(base.length)}` : `${file}: cannot be read`);
  }
}

/** The predicted class's name: the model's label, else "class N". */
export function className(opened: OpenedModel, index: number): string {
  return opened.labels?.names[index] ?? `class ${index}`;
}

/**
 * Progress on stderr, only where stderr is a terminal: stdout stays clean for JSON and pipes.
 * `done()` clears the line.
 */
export function terminalProgress(): { progress(task: string): Progress | undefined; status(text: string): void; done(): void } {
  const stream = process.stderr;
  if (!stream.isTTY) return { progress: () => undefined, status: () => undefined, done: () => undefined };
  let shown = '';
  const status = (text: string) => {
    if (text !== shown) stream.write(`\r\x1b[K${text}`);
    shown = text;
  };
  return {
    progress: (task) => ({ report: (done, total) => status(`${task} ${Math.round((100 * done) / total)}%`) }),
    status,
    done() {
      if (shown) stream.write('\r\x1b[K');
      shown = '';
    },
  };
}
