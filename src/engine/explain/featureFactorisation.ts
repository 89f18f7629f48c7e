/**
 * Deep feature factorisation (Collins et al., ECCV 2018, as pytorch-grad-cam's `dff`): a layer's
 * activations over one image or a folder, as a channels × positions matrix, factorised by non-negative
 * matrix factorisation into k concepts — each a direction in channel space (W's column) and a heatmap
 * over every position of every image (H's row). Defined exactly in docs/explanations.md.
 *
 * The NMF is Lee & Seung's multiplicative updates for the Frobenius norm, from scikit-learn's
 * `init='random'` start; scikit-learn's default solver (coordinate descent) is not reproduced.
 */
import * as tf from '@tensorflow/tfjs-core';
import { classifierHead } from '../dataset/decisionRegions';
import { seededRandom } from '../dataset/random';
import { runGraph, singleInput } from '../execute';
import type { RunnableModel } from '../graph';
import { rankScores, type Prediction } from '../predictions';
import { checkpoint, type Progress } from '../progress';

/** Added to the update's denominators so a zero one cannot divide: float32's machine epsilon, as scikit-learn's EPSILON. */
export const NMF_EPSILON = 2 ** -23;
export const NMF_ITERATIONS = 200;
/** pytorch-grad-cam's `scale_cam_image`: (m − min) / (max − min + 1e-7). */
const SCALE_EPSILON = 1e-7;

export interface NmfOptions {
  components: number;
  /** Multiplicative updates of W then H (200, scikit-learn's `max_iter`); no early stop. */
  iterations?: number;
  /** The start's random numbers (0). */
  seed?: number;
  progress?: Progress;
}

export interface NmfResult {
  /** [rows, k]. */
  w: tf.Tensor2D;
  /** [k, columns]. */
  h: tf.Tensor2D;
}

/**
 * The start, as scikit-learn's `init='random'`: every entry avg · |z| with avg = √(mean(X) / k) and z
 * standard normal — here from mulberry32(seed) by Box–Muller, H's entries (row-major) drawn before W's.
 */
export function nmfStart(
  rows: number,
  columns: number,
  components: number,
  mean: number,
  seed: number,
): { w: Float32Array; h: Float32Array } {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const scale = Math.sqrt(mean / components);
  const h = Float32Array.from({ length: components * columns }, () => scale * Math.abs(normal()));
  const w = Float32Array.from({ length: rows * components }, () => scale * Math.abs(normal()));
  return { w, h };
}

/** X ≈ W H with W, H ≥ 0, for a non-negative X [rows, columns]. */
export async function nmf(x: tf.Tensor2D, options: NmfOptions): Promise<NmfResult> {
  const [rows, columns] = x.shape;
  const k = options.components;
  if (!Number.isInteger(k) || k < 1 || k > Math.min(rows, columns)) {
    throw new Error(`the number of concepts must be a whole number from 1 to ${Math.min(rows, columns)} (got ${k})`);
  }
  const mean = tf.tidy(() => tf.mean(x).dataSync()[0]);
  const start = nmfStart(rows, columns, k, mean, options.seed ?? 0);
  let w = tf.tensor2d(start.w, [rows, k]);
  let h = tf.tensor2d(start.h, [k, columns]);
  const iterations = options.iterations ?? NMF_ITERATIONS;
  for (let step = 1; step <= iterations; step++) {
    const [nextW, nextH] = tf.tidy(() => {
      // W ← W ⊙ (X Hᵀ) / (W H Hᵀ + ε), then H ← H ⊙ (Wᵀ X) / (Wᵀ W H + ε) with the new W.
      const updatedW = tf.mul(w, tf.div(tf.matMul(x, h, false, true), tf.add(tf.matMul(w, tf.matMul(h, h, false, true)), NMF_EPSILON)));
      const updatedH = tf.mul(
        h,
        tf.div(tf.matMul(updatedW, x, true, false), tf.add(tf.matMul(tf.matMul(updatedW, updatedW, true, false), h), NMF_EPSILON)),
      );
      return [updatedW, updatedH] as [tf.Tensor2D, tf.Tensor2D];
    });
    w.dispose();
    h.dispose();
    [w, h] = [nextW, nextH];
    if (options.progress && step % 20 === 0) {
      try {
        await checkpoint(options.progress, step, iterations);
      } catch (error) {
        tf.dispose([w, h]);
        throw error;
      }
    }
  }
  return { w, h };
}

/** ‖X − W H‖_F. */
export function reconstructionError(x: tf.Tensor2D, w: tf.Tensor2D, h: tf.Tensor2D): number {
  return tf.tidy(() => tf.norm(tf.sub(x, tf.matMul(w, h))).dataSync()[0]);
}

export interface FeatureFactorisation {
  /** [channels, k]: each concept's embedding, W plus the per-channel offset (pytorch-grad-cam's `concepts`). */
  concepts: Float32Array;
  /** [batch, k, height, width]: H, each concept's raw heatmap over every image's positions. */
  heatmaps: Float32Array;
  /** [batch, k]: each concept's share of the image's factorised activation, Σ_c W[c, j] · Σ_pos H[j, pos] over the sum for all j. */
  shares: Float32Array;
  channels: number;
  components: number;
  batch: number;
  height: number;
  width: number;
}

/**
 * DFF of activations [batch, height, width, channels] (NHWC): NaNs set to 0, reshaped to
 * [channels, batch · height · width] (images, then rows, then columns, as PyTorch's NCHW after
 * transposing batch and channels), each channel's minimum over all positions subtracted (the offset),
 * then NMF into k concepts. Frees nothing it was given.
 */
export async function factoriseFeatures(
  activations: tf.Tensor4D,
  components: number,
  options: Omit<NmfOptions, 'components'> = {},
): Promise<FeatureFactorisation> {
  const [batch, height, width, channels] = activations.shape;
  const { matrix, offset } = tf.tidy(() => {
    const finite = tf.where(tf.isNaN(activations), tf.zerosLike(activations), activations);
    const reshaped = tf.reshape(tf.transpose(finite, [3, 0, 1, 2]), [channels, batch * height * width]) as tf.Tensor2D;
    const low = tf.min(reshaped, 1, true);
    return { matrix: tf.sub(reshaped, low) as tf.Tensor2D, offset: low };
  });
  let factors: NmfResult | undefined;
  try {
    factors = await nmf(matrix, { ...options, components });
    const { w, h } = factors;
    const shifted = tf.tidy(() => [tf.add(w, offset), tf.sum(w, 0)]);
    const [concepts, heatmaps, weightSums] = await Promise.all(
      [shifted[0], h, shifted[1]].map((t) => t.data() as Promise<Float32Array>),
    ).finally(() => tf.dispose(shifted));
    // H is [k, batch · h · w]: reorder to [batch, k, h, w], as pytorch-grad-cam's `explanations`.
    const positions = height * width;
    const perImage = new Float32Array(batch * components * positions);
    const shares = new Float32Array(batch * components);
    for (let j = 0; j < components; j++) {
      for (let b = 0; b < batch; b++) {
        const source = heatmaps.subarray((j * batch + b) * positions, (j * batch + b + 1) * positions);
        perImage.set(source, (b * components + j) * positions);
        shares[b * components + j] = weightSums[j] * source.reduce((sum, v) => sum + v, 0);
      }
    }
    for (let b = 0; b < batch; b++) {
      const row = shares.subarray(b * components, (b + 1) * components);
      const total = row.reduce((sum, v) => sum + v, 0);
      row.forEach((v, j) => (row[j] = total > 0 ? v / total : 1 / components));
    }
    return { concepts, heatmaps: perImage, shares, channels, components, batch, height, width };
  } finally {
    tf.dispose([matrix, offset, ...(factors ? [factors.w, factors.h] : [])]);
  }
}

/**
 * One image's concept heatmaps as pytorch-grad-cam shows them (`scale_cam_image`): each scaled to
 * (m − min) / (max − min + 1e-7), then resized bilinearly (half-pixel centres, as cv2.resize) to
 * [k, outHeight, outWidth].
 */
export function conceptHeatmaps(factorisation: FeatureFactorisation, image: number, outHeight: number, outWidth: number): tf.Tensor3D {
  const { components: k, height, width } = factorisation;
  const raw = factorisation.heatmaps.subarray(image * k * height * width, (image + 1) * k * height * width);
  return tf.tidy(() => {
    const maps = tf.tensor3d(raw, [k, height, width]);
    const low = tf.min(maps, [1, 2], true);
    const shifted = tf.sub(maps, low);
    const scaled = tf.div(shifted, tf.add(tf.max(shifted, [1, 2], true), SCALE_EPSILON));
    const resized = tf.image.resizeBilinear(tf.expandDims(scaled, -1) as tf.Tensor4D, [outHeight, outWidth], false, true);
    return tf.squeeze(resized, [3]) as tf.Tensor3D;
  });
}

/** The concept embeddings as the rows a classifier head takes: [k, channels]. */
export function conceptRows(factorisation: FeatureFactorisation): tf.Tensor2D {
  const { concepts, channels, components } = factorisation;
  return tf.tidy(() => tf.transpose(tf.tensor2d(concepts, [channels, components])) as tf.Tensor2D);
}

export interface FolderFactorisationOptions {
  count: number;
  /** The images [start, end) as one model-ready batch. */
  loadBatch(start: number, end: number): Promise<tf.Tensor4D>;
  /** A layer with a spatial output (after a ReLU, so its activations are non-negative, as DFF assumes). */
  layer: string;
  components: number;
  batchSize?: number;
  progress?: Progress;
}

/** Activation values held for a folder's factorisation, at most: 2^24 floats (64 MiB). */
export const FOLDER_FACTORISATION_VALUES = 2 ** 24;

/**
 * DFF over a folder: the layer's activations for every image, gathered batch by batch on the CPU, then
 * factorised together (one set of concepts for the whole folder). Refuses, in one sentence, a layer
 * whose activations for the folder would exceed FOLDER_FACTORISATION_VALUES.
 */
export async function factoriseFolder(model: RunnableModel, options: FolderFactorisationOptions): Promise<FeatureFactorisation> {
  const { count, layer } = options;
  const batchSize = options.batchSize ?? 32;
  let gathered: Float32Array | undefined;
  let shape: [number, number, number] | undefined;
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const input = await options.loadBatch(start, end);
    let activation: tf.Tensor;
    try {
      [activation] = runGraph(model, singleInput(model, input), [layer]);
    } finally {
      input.dispose();
    }
    try {
      if (activation.rank !== 4)
        throw new Error(`layer "${layer}" has no spatial channels to factorise (its output is ${activation.rank}-D)`);
      const [, height, width, channels] = activation.shape;
      if (!gathered || !shape) {
        if (count * height * width * channels > FOLDER_FACTORISATION_VALUES) {
          throw new Error(
            `layer "${layer}" gives ${height}×${width}×${channels} values per image, too many to factorise for ${count} images; choose a later layer or fewer images`,
          );
        }
        shape = [height, width, channels];
        gathered = new Float32Array(count * height * width * channels);
      }
      gathered.set((await activation.data()) as Float32Array, start * shape[0] * shape[1] * shape[2]);
    } finally {
      activation.dispose();
    }
    await checkpoint(options.progress, end, count);
  }
  if (!gathered || !shape) throw new Error('the folder has no images');
  const activations = tf.tensor4d(gathered, [count, ...shape]);
  try {
    return await factoriseFeatures(activations, options.components, { progress: options.progress });
  } finally {
    activations.dispose();
  }
}

/**
 * Each concept's classes, best first: the classifier head from `layer` on the concept's embedding as
 * a 1 × 1 map (pytorch-grad-cam's `model.fc(concepts)` for a ResNet, whose head is global pooling and
 * fc), ranked as the model's predictions are (softmax unless the output already is a distribution).
 */
export function conceptClasses(model: RunnableModel, layer: string, factorisation: FeatureFactorisation, top = 3): Prediction[][] {
  const head = classifierHead(model, layer);
  const scores = tf.tidy(() => head(conceptRows(factorisation)).arraySync());
  return scores.map((row) => rankScores(row, top));
}
