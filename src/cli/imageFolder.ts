/**
 * Folders of images for the dataset commands (`embed`, `neighbours`, `top-patches`): listing them, and
 * running them through a model batch by batch, decoding each batch only when it is needed, so a folder
 * of 10,000 images never sits in memory at once.
 */
import { type Dirent, existsSync, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { analyseFolder, defaultFeatureLayer, type FolderFeatures } from '../engine/dataset/features';
import { filesUnder, type EntryKind, type WalkedFileSystem } from '../engine/dataset/folderWalk';
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
 * The images under `folder`, recursively (the rules: engine/dataset/folderWalk.ts), sorted and labelled
 * by their class subfolder (paths relative to the folder, with '/' separators).
 */
export async function listImages(folder: string): Promise<FolderImage[]> {
  const info = await stat(folder).catch(() => undefined);
  if (!info) throw new InputError(`${folder}: no such folder`);
  if (!info.isDirectory()) throw new InputError(`${folder} is not a folder`);
  const found = await filesUnder(diskFolders, folder, (name) => hasImageExtension(NODE_IMAGE_FORMATS, name));
  if (found.length === 0) throw new InputError(`${folder} has no images (${NODE_IMAGE_FORMATS.names})`);
  return labelByFolder(found);
}

const kindOf = (entry: Dirent | Stats): EntryKind =>
  entry.isSymbolicLink() ? 'link' : entry.isDirectory() ? 'folder' : entry.isFile() ? 'file' : 'other';

/** Node's file system as the folder walk sees it. */
const diskFolders: WalkedFileSystem<string> = {
  async list(directory) {
    try {
      return (await readdir(directory, { withFileTypes: true })).map((entry) => [entry.name, kindOf(entry)] as const);
    } catch {
      throw new InputError(`${directory}: cannot list this folder`);
    }
  },
  child: (directory, name) => path.join(directory, name),
  async resolve(location) {
    const real = await realpath(location).catch(() => undefined);
    const info = real ? await stat(real).catch(() => undefined) : undefined;
    return real && info ? { real, kind: kindOf(info) } : undefined;
  },
  nameOf: (directory) => directory,
  separator: path.sep,
};

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
