/**
 * Methods that attribute the score to input pixels through gradients: saliency, guided backprop,
 * deconvnet, SmoothGrad and integrated gradients (docs/explanations.md). Maps are [batch, H, W], not yet
 * normalised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Feeds, runGraph, type RunOptions } from '../execute';
import { withDeconvnetRelus } from '../gradients';
import type { RunnableModel } from '../graph';
import { nativeInputGradient } from '../nativeForward';
import { batches, checkpoint, type Progress } from '../progress';
import { classScores, type KeptTargets, readTargets, type RequestedClasses, scoreNode, targetScoreSum } from './scores';
import type { TargetScore } from './targets';

/**
 * What is differentiated: the score of class `classes[b]` for each image b (one class: for every row), or
 * a resolved target (targets.ts).
 */
export type Explained = readonly number[] | TargetScore;

export interface GradientOptions {
  batchSize: number;
  progress?: Progress;
}

export interface SmoothGradOptions extends GradientOptions {
  samples: number;
  /** Noise standard deviation as a fraction of the input's value range. */
  level: number;
  /** Noise to use instead of random draws, [samples, H, W, C] (tests reproduce a reference with it). */
  noise?: tf.Tensor4D;
  seed?: number;
}

export interface IntegratedOptions extends GradientOptions {
  steps: number;
  /** The baseline input; zeros by default. */
  baseline?: tf.Tensor;
}

/** The feeds with `x` as the (first) input, and that input's id. */
function feedingX(feeds: Feeds, x: tf.Tensor): { inputId: string; fed: Feeds } {
  const [inputId] = [...feeds.keys()];
  return { inputId, fed: new Map([...feeds, [inputId, x]]) };
}

/** What is differentiated, as a score of some of the model's outputs. */
interface OutputScore {
  outputs: readonly string[];
  score(outputs: tf.Tensor[]): tf.Scalar;
}

/** `explained` as a score of the outputs it reads (`images`: the image each row comes from, for a target). */
function scoreOfOutputs(model: RunnableModel, explained: Explained, images: readonly number[]): OutputScore {
  return isClassList(explained)
    ? { outputs: [scoreNode(model)], score: ([output]) => tf.sum(classScores(output, explained)) }
    : { outputs: explained.outputs, score: (outputs) => tf.sum(explained.scores(outputs, images)) };
}

/** ∂score(outputs)/∂x, the network run from `feeds` with `x` as its input. */
function differentiate(model: RunnableModel, feeds: Feeds, x: tf.Tensor, { outputs, score }: OutputScore, options: RunOptions): tf.Tensor {
  return tf.grad((input: tf.Tensor) => score(runGraph(model, feedingX(feeds, input).fed, outputs, options)))(x);
}

/**
 * ∂(Σ_b score_b)/∂x for a batch x; each image gets its own class, or the target's score of the image
 * `images` says each row comes from (every image in order by default).
 */
export function inputGradient(
  model: RunnableModel,
  feeds: Feeds,
  x: tf.Tensor,
  explained: Explained,
  options: RunOptions = {},
  images: readonly number[] = [],
): tf.Tensor {
  return differentiate(model, feeds, x, scoreOfOutputs(model, explained, images), options);
}

/**
 * `inputGradient` with plain backpropagation, on the native runtime where the model has one
 * (nativeForward.ts), else on TensorFlow.js.
 */
async function plainInputGradient(
  model: RunnableModel,
  feeds: Feeds,
  x: tf.Tensor,
  explained: Explained,
  images: readonly number[],
): Promise<tf.Tensor> {
  const { inputId, fed } = feedingX(feeds, x);
  const { outputs, score } = scoreOfOutputs(model, explained, images);
  // Class scores are picked from the outputs: linear in them.
  const native = await nativeInputGradient(model, fed, inputId, outputs, score, isClassList(explained));
  return native ?? tf.tidy(() => inputGradient(model, feeds, x, explained, {}, images));
}

function isClassList(explained: Explained): explained is readonly number[] {
  return Array.isArray(explained);
}

/** What image `b` alone explains: its class, or the target for rows of that image. */
function ofImage(explained: Explained, b: number): Explained {
  return isClassList(explained) ? [explained[b]] : explained;
}

export interface TargetGradient {
  gradient: tf.Tensor;
  classIndex: number[];
  score: number[];
}

/** How a gradient is taken: as it is, or within `withDeconvnetRelus`. */
type Backward = (compute: () => tf.Tensor) => tf.Tensor;

/**
 * `inputGradient` for the requested classes or each image's top one, chosen in the same forward pass:
 * saliency and guided backprop then cost one pass forwards and one backwards, as in PyTorch.
 */
export async function targetInputGradient(
  model: RunnableModel,
  feeds: Feeds,
  x: tf.Tensor,
  requested: RequestedClasses,
  options: RunOptions = {},
  backward?: Backward,
): Promise<TargetGradient> {
  let targets: KeptTargets | undefined;
  const score = (output: tf.Tensor) => {
    // Chosen again where the native runtime chose them and then could not differentiate.
    if (targets) tf.dispose([targets.classes, targets.scores]);
    const chosen = targetScoreSum(output, requested);
    targets = chosen.targets;
    return chosen.sum;
  };
  const scored: OutputScore = { outputs: [scoreNode(model)], score: ([output]) => score(output) };
  const { inputId, fed } = feedingX(feeds, x);
  const plain = options.afterNode === undefined && backward === undefined;
  const native = plain ? await nativeInputGradient(model, fed, inputId, scored.outputs, scored.score) : undefined;
  const gradient = native ?? (backward ?? ((compute) => compute()))(() => differentiate(model, feeds, x, scored, options));
  return { gradient, ...(await readTargets(targets!)) };
}

/** Backpropagates through ReLU outputs with relu(grad): with the ReLU's own mask, guided backprop's rule. */
const guidedRelu = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.relu(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

const GUIDED: RunOptions = { afterNode: (node, output) => (node.endsWithRelu ? (guidedRelu(output) as tf.Tensor) : output) };

/** Raw [batch, H, W] maps with the class each explains and its score. */
export interface RawMaps {
  raw: tf.Tensor3D;
  classIndex: number[];
  score: number[];
}

/** max over channels of |∂score/∂x| (Simonyan et al., 2014). */
export async function saliency(model: RunnableModel, feeds: Feeds, x: tf.Tensor4D, requested: RequestedClasses): Promise<RawMaps> {
  return channelMaxOfAbs(await targetInputGradient(model, feeds, x, requested));
}

export function guidedGradient(model: RunnableModel, feeds: Feeds, x: tf.Tensor4D, explained: Explained): tf.Tensor4D {
  return inputGradient(model, feeds, x, explained, GUIDED) as tf.Tensor4D;
}

export async function guidedBackprop(model: RunnableModel, feeds: Feeds, x: tf.Tensor4D, requested: RequestedClasses): Promise<RawMaps> {
  return channelMaxOfAbs(await targetInputGradient(model, feeds, x, requested, GUIDED));
}

/** The deconvnet signal ∂̃y_c/∂x: every ReLU passes relu(grad) backwards, whatever its input was. */
export function deconvnetGradient(model: RunnableModel, feeds: Feeds, x: tf.Tensor4D, explained: Explained): tf.Tensor4D {
  return withDeconvnetRelus(() => inputGradient(model, feeds, x, explained)) as tf.Tensor4D;
}

/** max over channels of |deconvnet signal| (Zeiler & Fergus, 2014; Springenberg et al., 2015). */
export async function deconvnet(model: RunnableModel, feeds: Feeds, x: tf.Tensor4D, requested: RequestedClasses): Promise<RawMaps> {
  return channelMaxOfAbs(await targetInputGradient(model, feeds, x, requested, {}, withDeconvnetRelus));
}

export function channelMaxOfAbs({ gradient, classIndex, score }: TargetGradient): RawMaps {
  const raw = tf.tidy(() => tf.max(tf.abs(gradient), -1) as tf.Tensor3D);
  gradient.dispose();
  return { raw, classIndex, score };
}

/** Runs `compute(b, image)` for each image and stacks the [H, W] maps it returns. */
export async function perImage(x: tf.Tensor4D, compute: (b: number, image: tf.Tensor4D) => Promise<tf.Tensor2D>): Promise<tf.Tensor3D> {
  const maps: tf.Tensor2D[] = [];
  try {
    for (let b = 0; b < x.shape[0]; b++) {
      const image = tf.slice(x, b, 1);
      try {
        maps.push(await compute(b, image));
      } finally {
        image.dispose();
      }
    }
    return tf.stack(maps) as tf.Tensor3D;
  } finally {
    tf.dispose(maps);
  }
}

/**
 * Sums `term(start, end)` ([1, H, W, C] each) over batches of `count` items, with progress between
 * batches; frees the running total if cancelled.
 */
async function sumOverBatches(
  like: tf.Tensor,
  count: number,
  options: GradientOptions,
  progressAt: (index: number, batchCount: number) => [number, number],
  term: (start: number, end: number) => Promise<tf.Tensor>,
): Promise<tf.Tensor> {
  const chunks = batches(count, options.batchSize);
  let total: tf.Tensor = tf.zerosLike(like);
  try {
    for (const [index, [start, end]] of chunks.entries()) {
      const part = await term(start, end);
      const next = tf.add(total, part);
      tf.dispose([total, part]);
      total = next;
      await checkpoint(options.progress, ...progressAt(index, chunks.length));
    }
    return total;
  } catch (error) {
    total.dispose();
    throw error;
  }
}

/** Σ over the batch of `f(gradients)`, [1, …]; frees the gradients. */
function sumOf(gradients: tf.Tensor, f: (x: tf.Tensor) => tf.Tensor = (x) => x): tf.Tensor {
  const sum = tf.tidy(() => tf.sum(f(gradients), 0, true));
  gradients.dispose();
  return sum;
}

export async function smoothGrad(
  model: RunnableModel,
  feeds: Feeds,
  x: tf.Tensor4D,
  explained: Explained,
  options: SmoothGradOptions,
): Promise<tf.Tensor3D> {
  return perImage(x, async (b, image) => {
    const sigma = tf.tidy(() => tf.mul(tf.sub(tf.max(image), tf.min(image)), options.level));
    try {
      const total = await sumOverBatches(
        image,
        options.samples,
        options,
        (i, n) => [b * n + i + 1, x.shape[0] * n],
        async (start, end) => {
          const count = end - start;
          const seed = options.seed === undefined ? undefined : options.seed + b * 7919 + start;
          const noisy = tf.tidy(() => {
            const noise = options.noise
              ? tf.slice(options.noise, start, count)
              : tf.mul(tf.randomNormal([count, ...image.shape.slice(1)], 0, 1, 'float32', seed), sigma);
            return tf.add(image, noise);
          });
          return sumOf(await plainInputGradient(model, feeds, noisy, ofImage(explained, b), [b]).finally(() => noisy.dispose()), tf.abs);
        },
      );
      const map = tf.tidy(() => tf.squeeze(tf.max(tf.div(total, options.samples), -1), [0]) as tf.Tensor2D);
      total.dispose();
      return map;
    } finally {
      sigma.dispose();
    }
  });
}

export async function integratedGradients(
  model: RunnableModel,
  feeds: Feeds,
  x: tf.Tensor4D,
  explained: Explained,
  options: IntegratedOptions,
): Promise<tf.Tensor3D> {
  return perImage(x, async (b, image) => {
    const baseline = options.baseline
      ? tf.reshape(tf.slice(options.baseline, b % options.baseline.shape[0]!, 1), image.shape)
      : tf.zerosLike(image);
    const delta = tf.sub(image, baseline);
    try {
      const total = await sumOverBatches(
        image,
        options.steps,
        options,
        (i, n) => [b * n + i + 1, x.shape[0] * n],
        async (start, end) => {
          const path = tf.tidy(() => {
            // Right Riemann sum: α = s / m for s = 1..m.
            const alphas = tf.reshape(tf.div(tf.range(start + 1, end + 1), options.steps), [end - start, 1, 1, 1]);
            return tf.add(baseline, tf.mul(alphas, delta));
          });
          return sumOf(await plainInputGradient(model, feeds, path, ofImage(explained, b), [b]).finally(() => path.dispose()));
        },
      );
      const map = tf.tidy(() => tf.squeeze(tf.abs(tf.sum(tf.mul(delta, tf.div(total, options.steps)), -1)), [0]) as tf.Tensor2D);
      total.dispose();
      return map;
    } finally {
      tf.dispose([baseline, delta]);
    }
  });
}
