/**
 * Activation maximisation (feature visualisation, as in Lucid): the input image that most excites a
 * channel or unit of a layer, or a class's score, found by gradient ascent on the image.
 *
 * Gradient ascent on raw pixels gives high-frequency noise the network happens to respond to. What makes
 * the images recognisable, following Olah et al., "Feature Visualization" (Distill, 2017) and Lucid:
 *  - the image is parameterised by its 1/f-scaled Fourier spectrum, in a decorrelated colour space,
 *    squashed into [0, 1] by a sigmoid (fourierImage.ts);
 *  - each step sees a randomly jittered, scaled and rotated copy (imageTransforms.ts), so the result
 *    must work under small transformations, which removes most adversarial high-frequency patterns;
 *  - Adam, with Lucid's learning rate (0.05) and step count (512).
 * Random draws come from a seeded generator, so a run is reproducible.
 *
 * Layer outputs are taken to be channels-last (NHWC, or [batch, units]), as every reader produces them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../execute';
import { nodeIndex, type RunnableModel } from '../graph';
import { checkpoint, type Progress } from '../progress';
import { classScores, scoreNode } from '../explain/scores';
import type { Preprocessing, RgbaImage } from '../preprocess';
import { imageParameterization, type ParameterizationOptions } from './fourierImage';
import {
  affineResample,
  defaultTransforms,
  IDENTITY,
  randomAffine,
  randomSource,
  type Affine,
  type TransformSettings,
} from './imageTransforms';
import { classesOfUnits } from '../classCount';

export type MaximizationTarget =
  /** The mean activation of one channel of a layer (Lucid's `channel` objective). */
  | { kind: 'channel'; layer: string; channel: number }
  /**
   * One unit: a channel at one spatial position, the centre by default (Lucid's `neuron`). For a
   * linear unit this is the objective whose optimum is the filter's own sign pattern.
   */
  | { kind: 'neuron'; layer: string; channel: number; x?: number; y?: number }
  /** A class's score: the pre-softmax logit where the model has one (`model.logits`). */
  | { kind: 'class'; classIndex: number };

export interface MaximizationOptions {
  target: MaximizationTarget;
  /** How a [0, 1] RGB image becomes the model's input: size, channels, pixel scale. */
  preprocessing: Preprocessing;
  /** The synthesised image's size; the model's input size by default (resampled to it otherwise). */
  size?: number | { width: number; height: number };
  /** Lucid: 512. */
  steps?: number;
  /** Adam's learning rate; Lucid: 0.05. */
  learningRate?: number;
  /** Same seed, same result (on the same backend). Random when absent. */
  seed?: number;
  /** The random transformations of each step; `false` for none. Missing fields take the defaults. */
  transforms?: false | Partial<TransformSettings>;
  parameterization?: ParameterizationOptions;
  /** Steps between `onStep` calls; about 32 pictures per run by default. The last step always reports. */
  reportEvery?: number;
  /** The image so far, for showing the optimisation live; awaited before the next step. */
  onStep?: (step: number, total: number, image: RgbaImage, objective: number) => void | Promise<void>;
  /** Progress after each step, and a cancellation token (as the explanation methods take). */
  progress?: Progress;
  /** Cancels at the next step: the run rejects with `ExplanationCancelled`. */
  token?: { readonly cancelled: boolean };
}

export interface MaximizationResult {
  /** The synthesised image (RGB; grayscale models get equal channels), opaque. */
  image: RgbaImage;
  /** The objective at each step, on that step's transformed image, before the step's update. */
  objective: number[];
  /** The objective on the final image as it is (untransformed, not quantised to bytes). */
  score: number;
  /** The seed used (the one given, or the one drawn). */
  seed: number;
}

export const DEFAULT_STEPS = 512;
export const DEFAULT_LEARNING_RATE = 0.05;

export async function maximizeActivation(model: RunnableModel, options: MaximizationOptions): Promise<MaximizationResult> {
  const steps = Math.floor(options.steps ?? DEFAULT_STEPS);
  const learningRate = options.learningRate ?? DEFAULT_LEARNING_RATE;
  if (!(steps >= 0)) throw new Error(`steps must be a non-negative number (got ${options.steps})`);
  if (!(learningRate > 0)) throw new Error(`the learning rate must be positive (got ${options.learningRate})`);
  const p = options.preprocessing;
  const { width, height } = typeof options.size === 'number' ? { width: options.size, height: options.size } : (options.size ?? p);
  if (!(width >= 1 && height >= 1)) throw new Error(`the image size must be at least 1x1 (got ${width}x${height})`);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const every = Math.max(1, Math.floor(options.reportEvery ?? Math.round(steps / 32)));
  const transforms = options.transforms === false ? undefined : { ...defaultTransforms(height, width), ...options.transforms };
  const resample = transforms !== undefined || width !== p.width || height !== p.height;

  const objectiveOf = objectiveFunction(model, options.target);
  const random = randomSource(seed);
  const param = imageParameterization(height, width, p.channels === 'gray' ? 1 : 3, random.gaussian, options.parameterization);
  const optimizer = tf.train.adam(learningRate);
  const pending: tf.Scalar[] = [];
  const values: number[] = [];
  const progress: Progress = {
    report: options.progress?.report ? (done, total) => options.progress!.report!(done, total) : undefined,
    token: {
      get cancelled() {
        return Boolean(options.token?.cancelled || options.progress?.token?.cancelled);
      },
    },
  };
  /** The model's objective on the current image seen through `affine`. */
  const objectiveThrough = (affine: Affine) =>
    tf.tidy(() => {
      let image = param.image();
      if (resample) image = affineResample(image, p.height, p.width, affine);
      return objectiveOf(toModelInput(image, p));
    });
  const readPending = async () => {
    if (!pending.length) return;
    const stacked = tf.stack(pending);
    const costs = await stacked.data();
    stacked.dispose();
    tf.dispose(pending.splice(0));
    for (const cost of costs) values.push(-cost);
  };

  try {
    // Checks the target against the model (unknown layer, channel out of range...) before any step.
    tf.dispose(objectiveThrough(IDENTITY));
    for (let step = 1; step <= steps; step++) {
      const affine = transforms ? randomAffine(random, transforms) : IDENTITY;
      pending.push(tf.tidy(() => optimizer.minimize(() => tf.neg(objectiveThrough(affine)) as tf.Scalar, true, param.variables)!));
      if (step % every === 0 || step === steps) {
        await readPending();
        if (options.onStep) await options.onStep(step, steps, await pictureOf(param.image()), values[values.length - 1]);
      }
      await checkpoint(progress, step, steps);
    }
    const final = objectiveThrough(IDENTITY);
    const score = (await final.data())[0];
    final.dispose();
    return { image: await pictureOf(param.image()), objective: values, score, seed };
  } finally {
    tf.dispose(pending);
    optimizer.dispose();
    param.dispose();
  }
}

/**
 * The scalar to maximise, from a [1, H, W, C] model input. Throws, naming the problem, for a layer the
 * model lacks or a channel, unit or class it does not have.
 */
export function objectiveFunction(model: RunnableModel, target: MaximizationTarget): (input: tf.Tensor4D) => tf.Scalar {
  const run = (input: tf.Tensor4D, node: string) => runGraph(model, singleInput(model, input), [node])[0];
  if (target.kind === 'class') {
    const node = scoreNode(model);
    return (input) =>
      tf.tidy(() => {
        const output = run(input, node);
        const units = output.size / output.shape[0]!;
        const classCount = classesOfUnits(units);
        if (!Number.isInteger(target.classIndex) || target.classIndex < 0 || target.classIndex >= classCount) {
          throw new Error(`class ${target.classIndex} does not exist: the model has classes 0 to ${classCount - 1}`);
        }
        return tf.sum(classScores(output, [target.classIndex])) as tf.Scalar;
      });
  }
  if (!nodeIndex(model).has(target.layer)) throw new Error(`the model has no layer "${target.layer}"`);
  return (input) =>
    tf.tidy(() => {
      const output = run(input, target.layer);
      const shape = output.shape;
      const channels = shape[shape.length - 1];
      if (!Number.isInteger(target.channel) || target.channel < 0 || target.channel >= channels) {
        throw new Error(`layer "${target.layer}" has channels 0 to ${channels - 1} (asked for ${target.channel})`);
      }
      const begin = shape.map(() => 0);
      const size = shape.map(() => -1);
      begin[shape.length - 1] = target.channel;
      size[shape.length - 1] = 1;
      if (target.kind === 'neuron' && shape.length === 4) {
        const [, h, w] = shape;
        const y = target.y ?? Math.floor(h / 2);
        const x = target.x ?? Math.floor(w / 2);
        if (!(Number.isInteger(x) && Number.isInteger(y) && x >= 0 && x < w && y >= 0 && y < h)) {
          throw new Error(`layer "${target.layer}" is ${w}x${h}: there is no unit at x=${x}, y=${y}`);
        }
        [begin[1], begin[2], size[1], size[2]] = [y, x, 1, 1];
      }
      // Mean over the batch and spatial positions (a single position for a neuron).
      return tf.mean(tf.slice(output, begin, size)) as tf.Scalar;
    });
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];

/**
 * A [H, W, C] image with values in [0, 1] (C = 3 or 1) as the model's [1, H, W, C'] input, the way
 * `imageToInput` prepares decoded pixels (same channel handling and scaling), but differentiably.
 */
export function toModelInput(image: tf.Tensor3D, p: Preprocessing): tf.Tensor4D {
  return tf.tidy(() => {
    let x: tf.Tensor = image;
    const channels = image.shape[2];
    if (p.channels === 'gray') {
      if (channels === 3) x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true);
    } else {
      if (channels === 1) x = tf.tile(x, [1, 1, 3]);
      if (p.channels === 'bgr' || p.scale === 'caffe') x = tf.reverse(x, -1);
    }
    const colour = x.shape[2] === 3;
    switch (p.scale) {
      case '0-1':
        break;
      case '-1-1':
        x = tf.sub(tf.mul(x, 2), 1);
        break;
      case '0-255':
        x = tf.mul(x, 255);
        break;
      case 'torch':
        x = colour ? tf.div(tf.sub(x, tf.tensor1d(IMAGENET_MEAN)), tf.tensor1d(IMAGENET_STD)) : tf.div(tf.sub(x, 0.5), 0.5);
        break;
      case 'caffe':
        x = colour ? tf.sub(tf.mul(x, 255), tf.tensor1d(CAFFE_MEAN_BGR)) : tf.sub(tf.mul(x, 255), 127.5);
        break;
    }
    return tf.expandDims(x, 0) as tf.Tensor4D;
  });
}

/** A [H, W, C] image in [0, 1] as opaque RGBA bytes; takes ownership of (disposes) the tensor. */
export async function pictureOf(image: tf.Tensor3D): Promise<RgbaImage> {
  const [height, width, channels] = image.shape;
  const values = await image.data();
  image.dispose();
  const data = new Uint8ClampedArray(4 * width * height);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) data[4 * i + c] = Math.round(255 * values[i * channels + (channels === 1 ? 0 : c)]);
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}
