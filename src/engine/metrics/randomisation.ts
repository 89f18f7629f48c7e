/**
 * Sanity checks (Adebayo et al., NeurIPS 2018). Cascading model-parameter randomisation: the layers with
 * weights are randomised one after the other from the output towards the input, cumulatively, and after
 * each the map is computed again and compared with the original (`similarity.ts`). A method that explains
 * the model gives maps that change; one that mostly reflects the input (edge detection) does not.
 * Random-logit test: the map of the explained class against the map of another class picked at random.
 *
 * How weights are replaced: every reader's `weights(layerId)` returns the very tensors the layer's
 * computation reads (tfjs-layers variables; the ONNX runnable's initializers). Tensors are immutable, but
 * a tensor is a handle on backend data (`dataId`), so each weight tensor is made to point at the data of
 * a random tensor of the same shape and the random tensor at the weight's data — the swap tf.Variable's
 * `assign` makes, without freeing either — and swapped back afterwards, in a `finally`. Kernel caches are
 * keyed by data (`backends/wasm/derivedFilters.ts`), so they follow. Every randomised layer is checked to
 * change the model's output; one that does not is reported in `unchanged`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph } from '../execute';
import type { RunnableModel } from '../graph';
import { seededRandom } from '../dataset/random';
import { checkpoint, type Progress } from '../progress';
import { scoreNode } from '../explain/scores';
import { normalFrom } from './imputation';
import { spearman, ssim, topKIntersection } from './similarity';
import { withoutNativeForward } from '../nativeForward';

export interface Similarity {
  /** Per image. */
  spearman: number[];
  ssim: number[];
  topK: number[];
}

export interface RandomisationOptions {
  seed?: number;
  /** Layers to randomise, in this order; by default every layer with weights, from the output back. */
  layers?: readonly string[];
  /** Fraction of pixels in the top-k intersection (0.1). */
  topK?: number;
  /** Keep every randomised map ([steps][batch][H·W]); off by default. */
  keepMaps?: boolean;
  /**
   * Compute the maps only after randomising these many layers (each between 1 and `layers.length`):
   * a few steps of a deep network's cascade. After every layer by default.
   */
  measureAfter?: readonly number[];
  progress?: Progress;
}

export interface RandomisationResult {
  layers: string[];
  /** Per step, how many of `layers` were randomised when its maps were computed. */
  randomised: number[];
  /** Per method, per layer (after randomising it and every layer before it in `layers`). */
  methods: Record<string, { steps: Similarity[]; maps?: Float32Array[][] }>;
  /** Layers whose randomisation did not change the output (their weights were not the ones in use). */
  unchanged: string[];
}

/** The layers with weights, from the output towards the input. */
export function layersWithWeights(model: RunnableModel): string[] {
  return model.nodes
    .filter((node) => model.weights(node.id).length > 0)
    .map((node) => node.id)
    .reverse();
}

function compare(
  original: Float32Array,
  changed: Float32Array,
  batch: number,
  height: number,
  width: number,
  fraction: number,
): Similarity {
  const result: Similarity = { spearman: [], ssim: [], topK: [] };
  const size = height * width;
  for (let b = 0; b < batch; b++) {
    const a = original.subarray(b * size, (b + 1) * size);
    const c = changed.subarray(b * size, (b + 1) * size);
    result.spearman.push(spearman(a, c));
    result.ssim.push(ssim(a, c, height, width));
    result.topK.push(topKIntersection(a, c, fraction));
  }
  return result;
}

/** Random values like `weight`'s: normal with its mean and standard deviation, absolute where it has no negative value. */
async function randomLike(weight: tf.Tensor, normal: () => number): Promise<tf.Tensor> {
  const values = (await weight.data()) as Float32Array;
  let mean = 0;
  for (const v of values) mean += v / values.length;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2 / values.length;
  const std = Math.sqrt(variance);
  const nonNegative = values.every((v) => v >= 0);
  const random = Float32Array.from(values, () => {
    const v = mean + std * normal();
    return nonNegative ? Math.abs(v) : v;
  });
  return tf.tensor(random, weight.shape, 'float32');
}

type Handle = { dataId: object };
function swapData(a: tf.Tensor, b: tf.Tensor): void {
  const first = a as unknown as Handle;
  const second = b as unknown as Handle;
  const dataId = first.dataId;
  first.dataId = second.dataId;
  second.dataId = dataId;
}

/**
 * Runs `maps` (one producer per method: the maps, [batch, H, W], of the same images and classes) on the
 * model as it is, then after randomising each layer in turn; restores the weights before returning.
 */
export async function cascadingRandomisation(
  model: RunnableModel,
  input: tf.Tensor4D,
  producers: Record<string, () => Promise<tf.Tensor3D>>,
  options: RandomisationOptions = {},
): Promise<RandomisationResult> {
  // The weights change in place: a native runtime's copy of the model would not see it.
  return withoutNativeForward(model, () => randomiseInTurn(model, input, producers, options));
}

async function randomiseInTurn(
  model: RunnableModel,
  input: tf.Tensor4D,
  producers: Record<string, () => Promise<tf.Tensor3D>>,
  options: RandomisationOptions,
): Promise<RandomisationResult> {
  const layers = [...(options.layers ?? layersWithWeights(model))];
  const normal = normalFrom(seededRandom(options.seed ?? 0));
  const [batch, height, width] = input.shape;
  const fraction = options.topK ?? 0.1;
  const names = Object.keys(producers);
  const read = async (name: string) => {
    const maps = await producers[name]();
    try {
      return Float32Array.from(await maps.data());
    } finally {
      maps.dispose();
    }
  };
  const output = async () => {
    const [out] = runGraph(model, new Map([[model.inputs[0].id, input]]), [scoreNode(model)]);
    try {
      return Float32Array.from(await out.data());
    } finally {
      out.dispose();
    }
  };
  const originals = new Map<string, Float32Array>();
  for (const name of names) originals.set(name, await read(name));
  const measured = new Set(options.measureAfter ?? layers.map((_, i) => i + 1));
  const result: RandomisationResult = { layers, randomised: [], methods: {}, unchanged: [] };
  for (const name of names) result.methods[name] = { steps: [], maps: options.keepMaps ? [] : undefined };

  const swapped: [tf.Tensor, tf.Tensor][] = [];
  try {
    let previous = await output();
    for (const [index, layer] of layers.entries()) {
      for (const weight of model.weights(layer)) {
        if (weight.dtype !== 'float32') continue;
        const random = await randomLike(weight, normal);
        swapData(weight, random);
        swapped.push([weight, random]);
      }
      const now = await output();
      if (now.every((v, i) => v === previous[i])) result.unchanged.push(layer);
      previous = now;
      if (!measured.has(index + 1)) {
        await checkpoint(options.progress, index + 1, layers.length);
        continue;
      }
      result.randomised.push(index + 1);
      for (const name of names) {
        const maps = await read(name);
        result.methods[name].steps.push(compare(originals.get(name)!, maps, batch, height, width, fraction));
        if (options.keepMaps) {
          const size = height * width;
          result.methods[name].maps!.push(Array.from({ length: batch }, (_, b) => maps.slice(b * size, (b + 1) * size)));
        }
      }
      await checkpoint(options.progress, index + 1, layers.length);
    }
  } finally {
    for (const [weight, random] of swapped.reverse()) {
      swapData(weight, random);
      random.dispose();
    }
  }
  return result;
}

/**
 * The random-logit test: for each image, the map of `classes[b]` against the map of another class
 * drawn at random (seeded). `mapOf(classes)` computes the maps of the given classes.
 */
export async function randomLogit(
  input: tf.Tensor4D,
  classes: readonly number[],
  classCount: number,
  mapOf: (classes: number[]) => Promise<tf.Tensor3D>,
  options: { seed?: number; topK?: number } = {},
): Promise<Similarity & { otherClasses: number[] }> {
  if (classCount < 2) throw new Error('the random-logit test needs at least two classes');
  const random = seededRandom(options.seed ?? 0);
  const others = classes.map((c) => {
    const pick = Math.floor(random() * (classCount - 1));
    return pick >= c ? pick + 1 : pick;
  });
  const [batch, height, width] = input.shape;
  const read = async (which: number[]) => {
    const maps = await mapOf(which);
    try {
      return Float32Array.from(await maps.data());
    } finally {
      maps.dispose();
    }
  };
  const original = await read([...classes]);
  const other = await read(others);
  return { ...compare(original, other, batch, height, width, options.topK ?? 0.1), otherClasses: others };
}
