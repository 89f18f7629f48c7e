/**
 * Deletion and insertion (Petsiuk et al., "RISE", BMVC 2018, and their `evaluation.py` `CausalMetric`):
 * pixels are taken in decreasing order of the map (ties: lower index first) and, `pixelsPerStep` at a
 * time, deletion replaces them in the input by a baseline and insertion puts them back into the baseline.
 * The curve is the class score after 0, 1, …, n steps (n = ⌈H·W / pixelsPerStep⌉, n + 1 points), and
 * its area the trapezoid rule on [0, 1]: (Σ s_i − s_0/2 − s_n/2) / n. RISE's defaults: deletion to a
 * zero input (the mean colour for mean/std-normalised inputs), insertion from a blurred copy (Gaussian,
 * 11×11, σ = 5), the class probability, `pixelsPerStep` = the input's width (224 at 224×224).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../graph';
import { batches, checkpoint, type Progress } from '../progress';
import { type ScoreKind, scoreTensor } from './scoring';

export type CurveKind = 'deletion' | 'insertion';
export type Baseline = 'zero' | 'blur';

export interface CurveOptions {
  /** Pixels changed per step; the input's width by default. */
  pixelsPerStep?: number;
  /** Deletion: `zero` by default; insertion: `blur`. */
  baseline?: Baseline;
  score?: ScoreKind;
  batchSize?: number;
  progress?: Progress;
}

export interface CurveResult {
  kind: CurveKind;
  baseline: Baseline;
  pixelsPerStep: number;
  /** Per image, the n + 1 scores. */
  curves: number[][];
  /** Per image, the trapezoid area under the curve on [0, 1]. */
  auc: number[];
}

/** The trapezoid area of equally spaced points on [0, 1]. */
export function trapezoidArea(points: readonly number[]): number {
  const n = points.length - 1;
  if (n <= 0) return points[0] ?? 0;
  return (points.reduce((s, v) => s + v, 0) - points[0] / 2 - points[n] / 2) / n;
}

/**
 * The 11×11 kernel of RISE's `gkern(11, 5)`: SciPy's `gaussian_filter` (σ = 5, truncated at 4σ, `reflect`
 * borders) of a unit impulse at the centre. Separable: the outer product of the 1-D filter of the impulse.
 */
export function riseBlurKernel(size = 11, sigma = 5): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-0.5 * ((i - radius) / sigma) ** 2));
  const total = taps.reduce((s, v) => s + v, 0);
  const reflect = (j: number) => {
    const period = 2 * size;
    const m = ((j % period) + period) % period;
    return m < size ? m : period - 1 - m;
  };
  const centre = Math.floor(size / 2);
  const line = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    for (let t = -radius; t <= radius; t++) if (reflect(i + t) === centre) line[i] += taps[t + radius] / total;
  }
  const kernel = new Float64Array(size * size);
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) kernel[r * size + c] = line[r] * line[c];
  return kernel;
}

/** The baseline image(s): zeros, or each channel convolved with RISE's kernel (zero padding). */
export function baselineOf(input: tf.Tensor4D, baseline: Baseline): tf.Tensor4D {
  if (baseline === 'zero') return tf.zerosLike(input);
  return tf.tidy(() => {
    const channels = input.shape[3];
    const kernel = riseBlurKernel();
    const filter = new Float32Array(121 * channels);
    for (let i = 0; i < 121; i++) for (let c = 0; c < channels; c++) filter[i * channels + c] = kernel[i];
    return tf.depthwiseConv2d(input, tf.tensor4d(filter, [11, 11, channels, 1]), 1, 'same');
  });
}

/** Pixel indices by decreasing map value, ties in increasing index. */
export function pixelOrder(map: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: map.length }, (_, i) => i);
  return order.sort((a, b) => map[b] - map[a] || a - b);
}

export async function deletionInsertion(
  model: RunnableModel,
  inputId: string,
  kind: CurveKind,
  input: tf.Tensor4D,
  maps: tf.Tensor3D,
  classes: readonly number[],
  options: CurveOptions = {},
): Promise<CurveResult> {
  const [batch, height, width] = input.shape;
  const pixels = height * width;
  const step = Math.max(1, Math.round(options.pixelsPerStep ?? width));
  const steps = Math.ceil(pixels / step);
  const baseline = options.baseline ?? (kind === 'deletion' ? 'zero' : 'blur');
  const kindOfScore = options.score ?? 'probability';
  const chunks = batches(steps + 1, options.batchSize ?? 32);
  const mapValues = (await maps.data()) as Float32Array;
  const result: CurveResult = { kind, baseline, pixelsPerStep: step, curves: [], auc: [] };
  const substrate = baselineOf(input, baseline);
  try {
    for (let b = 0; b < batch; b++) {
      const order = pixelOrder(mapValues.subarray(b * pixels, (b + 1) * pixels));
      // rank[p]: the step at which pixel p changes (it is changed in curve points rank+1 and later).
      const rank = new Int32Array(pixels);
      order.forEach((p, i) => (rank[p] = Math.floor(i / step)));
      const curve: number[] = [];
      for (const [index, [start, end]] of chunks.entries()) {
        const changed = new Float32Array((end - start) * pixels);
        for (let s = start; s < end; s++) for (let p = 0; p < pixels; p++) changed[(s - start) * pixels + p] = rank[p] < s ? 1 : 0;
        const scores = tf.tidy(() => {
          const image = tf.slice(input, b, 1);
          const base = tf.slice(substrate, b, 1);
          const [from, to] = kind === 'deletion' ? [image, base] : [base, image];
          const m = tf.tensor4d(changed, [end - start, height, width, 1]);
          const images = tf.add(tf.mul(from, tf.sub(1, m)), tf.mul(to, m)) as tf.Tensor4D;
          return scoreTensor(model, inputId, images, new Array<number>(end - start).fill(classes[b]), kindOfScore);
        });
        curve.push(...(await scores.data()));
        scores.dispose();
        await checkpoint(options.progress, b * chunks.length + index + 1, batch * chunks.length);
      }
      result.curves.push(curve);
      result.auc.push(trapezoidArea(curve));
    }
  } finally {
    substrate.dispose();
  }
  return result;
}
