/**
 * 2-D maps of feature vectors: PCA (linear, exact, fast), t-SNE and UMAP (non-linear, keep
 * neighbourhoods). t-SNE and UMAP see the features scaled to unit length, so their Euclidean
 * neighbourhoods are the cosine neighbourhoods the Neighbours view shows; wide features are first
 * reduced to 50 principal components, as their authors recommend (less noise, far cheaper search).
 */
import * as tf from '@tensorflow/tfjs-core';
import { TSNE } from '@keckelt/tsne';
import { PCA } from 'ml-pca';
import { UMAP } from 'umap-js';
import { checkpoint, type Progress } from '../progress';
import { unitRows } from './neighbours';
import { sampleIndices, seededRandom } from './random';

export const EMBEDDING_METHODS = ['pca', 'tsne', 'umap'] as const;
export type EmbeddingMethod = (typeof EMBEDDING_METHODS)[number];
export const EMBEDDING_LABELS: Record<EmbeddingMethod, string> = { pca: 'PCA', tsne: 't-SNE', umap: 'UMAP' };

export function isEmbeddingMethod(name: string): name is EmbeddingMethod {
  return (EMBEDDING_METHODS as readonly string[]).includes(name);
}

/** Exact t-SNE costs time and memory growing with the square of the points: beyond this, a random sample is mapped. */
export const TSNE_MAX_POINTS = 2000;

export interface Embedding {
  /** The rows mapped (all of them, except for t-SNE over TSNE_MAX_POINTS), in increasing order. */
  indices: Int32Array;
  /** indices.length × 2. */
  points: Float32Array;
  /** Said to the user when not every row was mapped. */
  note?: string;
}

export interface EmbeddingOptions {
  seed?: number;
  progress?: Progress;
}

export async function embed(rows: Float32Array, dim: number, method: EmbeddingMethod, options: EmbeddingOptions = {}): Promise<Embedding> {
  const count = rows.length / dim;
  if (count < 3) throw new Error(`a map needs at least 3 images (got ${count})`);
  const random = seededRandom(options.seed ?? 42);
  switch (method) {
    case 'pca': {
      const points = principalComponents(rows, dim, 2);
      await checkpoint(options.progress, 1, 1);
      return { indices: Int32Array.from({ length: count }, (_, i) => i), points };
    }
    case 'tsne': {
      const indices = sampleIndices(count, TSNE_MAX_POINTS, random);
      const sample = indices.length === count ? rows : gatherRows(rows, dim, indices);
      const points = await tsne(reduceForNeighbours(sample, dim), random, options.progress);
      const note =
        indices.length < count
          ? `t-SNE maps a random sample of ${indices.length} of the ${count} images (its cost grows with the square of the count).`
          : undefined;
      return { indices: Int32Array.from(indices), points, ...(note ? { note } : {}) };
    }
    case 'umap': {
      const points = await umap(reduceForNeighbours(rows, dim), random, options.progress);
      return { indices: Int32Array.from({ length: count }, (_, i) => i), points };
    }
  }
}

/**
 * The rows projected on their first `components` principal axes. The covariance is a tfjs matrix
 * product (fast on the GPU, blocked on the CPU); its eigenvectors come from ml-pca. Each axis is
 * oriented so its largest loading is positive, so maps do not flip between runs.
 */
export function principalComponents(rows: Float32Array, dim: number, components: number): Float32Array {
  const count = rows.length / dim;
  const centred = tf.tidy(() => {
    const x = tf.tensor2d(rows, [count, dim]);
    return tf.sub(x, tf.mean(x, 0));
  });
  try {
    const covariance = tf.tidy(() => tf.div(tf.matMul(centred, centred, true, false), Math.max(1, count - 1)).arraySync() as number[][]);
    const axes = new PCA(covariance, { isCovarianceMatrix: true })
      .getEigenvectors()
      .subMatrix(0, dim - 1, 0, Math.min(components, dim) - 1);
    for (let c = 0; c < axes.columns; c++) {
      const column = axes.getColumn(c);
      const largest = column.reduce((best, v) => (Math.abs(v) > Math.abs(best) ? v : best), 0);
      if (largest < 0)
        axes.setColumn(
          c,
          column.map((v) => -v),
        );
    }
    return tf.tidy(() => {
      const projected = tf.matMul(centred, tf.tensor2d(axes.to2DArray()));
      const padded =
        axes.columns < components
          ? tf.pad(projected, [
              [0, 0],
              [0, components - axes.columns],
            ])
          : projected;
      return padded.dataSync() as Float32Array;
    });
  } finally {
    centred.dispose();
  }
}

function reduceForNeighbours(rows: Float32Array, dim: number): number[][] {
  const unit = unitRows(rows, dim);
  const reduced = dim > 50 ? principalComponents(unit, dim, 50) : unit;
  const width = dim > 50 ? 50 : dim;
  const count = rows.length / dim;
  return Array.from({ length: count }, (_, i) => Array.from(reduced.subarray(i * width, (i + 1) * width)));
}

function gatherRows(rows: Float32Array, dim: number, indices: number[]): Float32Array {
  const out = new Float32Array(indices.length * dim);
  indices.forEach((row, i) => out.set(rows.subarray(row * dim, (row + 1) * dim), i * dim));
  return out;
}

const TSNE_STEPS = 500;

async function tsne(data: number[][], random: () => number, progress: Progress | undefined): Promise<Float32Array> {
  // Perplexity 30 (the usual default), lowered for small sets where it must stay below the count.
  const model = new TSNE({ epsilon: 10, perplexity: Math.min(30, Math.max(2, (data.length - 1) / 3)), dim: 2 });
  // The library draws its starting layout with Math.random: lend it the seeded generator meanwhile.
  withRandom(random, () => model.initDataRaw(data));
  for (let step = 1; step <= TSNE_STEPS; step++) {
    model.step();
    // A step costs milliseconds per thousand points squared: yield often so the page stays responsive.
    if (step % 5 === 0) await checkpoint(progress, step, TSNE_STEPS);
  }
  return Float32Array.from(model.getSolution().flat());
}

async function umap(data: number[][], random: () => number, progress: Progress | undefined): Promise<Float32Array> {
  // Smaller neighbourhoods and tighter packing than umap-learn's defaults (15, 0.1): the map is read for
  // which images sit together, and on Fashion-MNIST features these keep about 2 points more of k-NN accuracy.
  const model = new UMAP({ nComponents: 2, nNeighbors: Math.min(10, data.length - 1), minDist: 0.05, random });
  const epochs = model.initializeFit(data);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    model.step();
    if (epoch % 10 === 0 || epoch === epochs) await checkpoint(progress, epoch, epochs);
  }
  return Float32Array.from(model.getEmbedding().flat());
}

function withRandom<T>(random: () => number, run: () => T): T {
  const original = Math.random;
  Math.random = random;
  try {
    return run();
  } finally {
    Math.random = original;
  }
}
