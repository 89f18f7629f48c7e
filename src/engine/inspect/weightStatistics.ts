/**
 * Statistics of a layer's weights (or of the loss gradient with respect to them), as the layer inspector
 * shows them: range, mean, spread, sparsity, L2 norm and a histogram.
 *
 * Definitions (docs/explanations.md, "Weight and gradient statistics"):
 * - `std` is the population standard deviation (divided by n, not n − 1);
 * - `zeros` is the share of values exactly 0, `nearZero` the share with |v| < 10⁻³ · max |v| (a weight that
 *   small moves nothing: pruned or dead units show here before they are exactly 0);
 * - the histogram has equal bins over the tensor's own [min, max]: value v falls in bin
 *   ⌊(v − min) / (max − min) · bins⌋, the maximum in the last bin (as `torch.histc`); a constant tensor
 *   puts every value in the middle bin.
 * Sums run in double precision over the float32 values, so a large layer's mean is not rounded away.
 */
import * as tf from '@tensorflow/tfjs-core';

/** |v| below this fraction of the tensor's largest magnitude counts as near zero. */
export const NEAR_ZERO_FRACTION = 1e-3;

export const HISTOGRAM_BINS = 32;

export interface Histogram {
  /** The range the bins divide: the values' own minimum and maximum. */
  min: number;
  max: number;
  counts: number[];
}

export interface ValueStatistics {
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Share of values exactly zero. */
  zeros: number;
  /** Share of values with |v| < NEAR_ZERO_FRACTION · max |v|. */
  nearZero: number;
  /** √Σ v². */
  norm: number;
  histogram: Histogram;
}

/** The statistics of `values` (at least one). */
export function valueStatistics(values: ArrayLike<number>, bins = HISTOGRAM_BINS): ValueStatistics {
  const count = values.length;
  if (count === 0) throw new Error('no values to summarise');
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let squares = 0;
  let zeros = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    squares += v * v;
    if (v === 0) zeros++;
  }
  const mean = sum / count;
  let deviations = 0;
  for (let i = 0; i < count; i++) deviations += (values[i] - mean) ** 2;
  const threshold = NEAR_ZERO_FRACTION * Math.max(Math.abs(min), Math.abs(max));
  let nearZero = 0;
  for (let i = 0; i < count; i++) if (Math.abs(values[i]) < threshold || values[i] === 0) nearZero++;
  return {
    count,
    min,
    max,
    mean,
    std: Math.sqrt(deviations / count),
    zeros: zeros / count,
    nearZero: nearZero / count,
    norm: Math.sqrt(squares),
    histogram: histogram(values, min, max, bins),
  };
}

function histogram(values: ArrayLike<number>, min: number, max: number, bins: number): Histogram {
  const counts = new Array<number>(bins).fill(0);
  if (max === min) {
    counts[Math.floor(bins / 2)] = values.length;
    return { min, max, counts };
  }
  const scale = bins / (max - min);
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i] - min) * scale))]++;
  return { min, max, counts };
}

/** The statistics of a tensor's values (read back from the device). */
export async function tensorStatistics(tensor: tf.Tensor, bins = HISTOGRAM_BINS): Promise<ValueStatistics> {
  return valueStatistics((await tensor.data()) as Float32Array, bins);
}

/**
 * Names for a layer's weight tensors, in the order `RunnableModel.weights` gives them: kernel and bias
 * for convolutions and dense layers, the four vectors of a batch normalisation, else by position.
 */
export function weightNames(shapes: readonly (readonly number[])[], layerType: string): string[] {
  if (/BatchNorm/i.test(layerType) && shapes.length === 4 && shapes.every((s) => s.length === 1)) {
    return ['scale (γ)', 'offset (β)', 'running mean', 'running variance'];
  }
  if (shapes.length <= 2 && shapes[0]?.length >= 2 && (shapes.length === 1 || shapes[1].length === 1)) {
    return ['kernel', 'bias'].slice(0, shapes.length);
  }
  return shapes.map((_, i) => `weight ${i + 1}`);
}

/**
 * The weight a layer is summed up by in the model overview: its largest tensor (the kernel or matrix of a
 * convolution or dense layer, the first vector of a normalisation).
 */
export function mainWeightIndex(shapes: readonly (readonly number[])[]): number {
  let best = 0;
  shapes.forEach((shape, i) => {
    if (size(shape) > size(shapes[best])) best = i;
  });
  return best;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
