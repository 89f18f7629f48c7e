/** Command-line inputs as model input tensors: images through the preprocessing, .npy arrays as they are. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../engine/model';
import { parseNpy } from '../engine/npy';
import { imageToInput, type Preprocessing } from '../engine/preprocess';
import { readImageFile } from '../node/imageFile';
import { InputError } from './usage';

/** A batch tensor for one input file: [1, ...] for an image, the array's own batch for a .npy. */
export async function readInput(file: string, inputShape: Shape, preprocessing: Preprocessing): Promise<tf.Tensor> {
  const name = path.basename(file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new InputError(`${file}: no such file`);
  }
  if (name.toLowerCase().endsWith('.npy')) return npyInput(name, bytes, inputShape);
  const image = await readImageFile(file).catch((error: Error) => {
    throw new InputError(error.message);
  });
  return imageToInput(image, preprocessing);
}

function npyInput(name: string, bytes: Uint8Array, inputShape: Shape): tf.Tensor {
  let array;
  try {
    array = parseNpy(bytes);
  } catch (error) {
    throw new InputError(`${name} ${(error as Error).message}`);
  }
  // The model input's shape without its batch axis: an array of exactly that shape gets one added.
  const sample = inputShape.slice(1);
  const shape = array.shape.length === sample.length ? [1, ...array.shape] : array.shape;
  const fits = shape.length === inputShape.length && shape.every((d, i) => i === 0 || inputShape[i] === null || inputShape[i] === d);
  if (!fits) {
    throw new InputError(`${name} has shape (${array.shape.join(', ')}), but the model takes (${inputShape.map((d) => d ?? 'None').join(', ')})`);
  }
  return tf.tensor(array.data, shape);
}
