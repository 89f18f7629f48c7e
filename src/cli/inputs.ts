/**
 * Command-line inputs as model input tensors: images through the preprocessing, .npy arrays as they are
 * in the model's own layout (or as height × width × channels images; see engine/arrayInput.ts).
 * An input is read only when it is a regular file of bounded size (a FIFO, a device or a folder given as
 * an input is refused before it is opened), and an image only when its header's size is within the limit.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { byteSize } from '../engine/confinedPath';
import { DEFAULT_LIMITS } from '../engine/limits';
import { arrayAsInput, type ModelInputs } from '../engine/arrayInput';
import { parseNpy } from '../engine/npy';
import { imageToInput, type Preprocessing } from '../engine/preprocess';
import { decodeImageBytes } from '../node/imageFile';
import { IMAGE_FILE_LIMIT, IMAGE_FILE_MAX_BYTES } from '../engine/confinedPath';
import { readRegularFile } from '../node/regularFile';
import { InputError } from './usage';

/** A .npy input holds tensor data: it gets the model limit's bytes. */
const NPY_MAX_BYTES = DEFAULT_LIMITS.modelBytes;

/**
 * A batch tensor for one input file, in the engine's layout (images NHWC): [1, ...] for an image, the
 * array's own batch for a .npy. Images of more than `maxPixels` pixels are refused before they are decoded.
 */
export async function readInput(
  file: string,
  model: ModelInputs,
  preprocessing: Preprocessing,
  maxPixels: number = DEFAULT_LIMITS.imagePixels,
): Promise<tf.Tensor> {
  const name = path.basename(file);
  const npy = name.toLowerCase().endsWith('.npy');
  const bytes = await readInputFile(file, npy);
  if (npy) return npyInput(name, bytes, model);
  const image = await decodeImageBytes(name, bytes, maxPixels).catch((error: Error) => {
    throw new InputError(error.message);
  });
  return imageToInput(image, preprocessing);
}

async function readInputFile(file: string, npy: boolean): Promise<Uint8Array> {
  const refuse = (reason: string) => new InputError(`${path.basename(file)} ${reason}`);
  const limit = npy ? `the ${byteSize(NPY_MAX_BYTES)} ConvLens reads from an input array` : IMAGE_FILE_LIMIT;
  try {
    return await readRegularFile(file, npy ? NPY_MAX_BYTES : IMAGE_FILE_MAX_BYTES, refuse, limit);
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' || code === 'ENOTDIR' ? `${file}: no such file` : `${file} cannot be read (${code ?? (error as Error).message}).`,
    );
  }
}

function npyInput(name: string, bytes: Uint8Array, model: ModelInputs): tf.Tensor {
  try {
    const { shape, data } = arrayAsInput(parseNpy(bytes), model);
    return tf.tensor(data, shape);
  } catch (error) {
    throw new InputError(`${name} ${(error as Error).message}`);
  }
}

/**
 * The input as one image, as methods that explain or score a single image need it; an array holding a
 * batch is refused in the model's own terms (channels first for an NCHW model). `takes` names what
 * needs it, with its verb: `explanations take`.
 */
export async function readOneImage(
  file: string,
  model: ModelInputs,
  preprocessing: Preprocessing,
  maxPixels: number,
  takes: string,
): Promise<tf.Tensor4D> {
  const tensor = await readInput(file, model, preprocessing, maxPixels);
  if (tensor.shape.length === 4 && tensor.shape[0] === 1) return tensor as tf.Tensor4D;
  tensor.dispose();
  const axes = model.inputLayouts?.[0] === 'NCHW' ? '1, channels, height, width' : '1, height, width, channels';
  throw new InputError(`${path.basename(file)} must be one image; ${takes} inputs of shape (${axes})`);
}
