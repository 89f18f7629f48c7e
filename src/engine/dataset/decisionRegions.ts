/**
 * Decision regions of a 2-D map of feature vectors: which class the model's classifier head (the
 * network after the feature layer) gives at each cell of a grid over the map, so the picture shows
 * where the classes meet and which images sit on the wrong side.
 *
 * A point of the map becomes a feature vector by an inverse projection (docs/explanations.md, "Decision
 * regions"): the inverse-distance-weighted mean of the features of its nearest dots (as iLAMP and
 * DeepView-style maps do), and for PCA, where the projection is linear, that mean is moved along the
 * principal axes until it projects exactly onto the point. At a dot the weighted mean is the dot's own
 * features, so each dot evaluates to the model's own prediction; the grid samples the regions at cell
 * centres, and `agreement` measures how often the cell under a dot shows that dot's prediction.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph } from '../execute';
import { descendantsOf, nodeIndex, type RunnableModel } from '../graph';
import { checkpoint, type Progress } from '../progress';
import { outputShapes } from '../explain/targetLayer';
import type { EmbeddingMethod } from './embedding';

/** The classifier from a feature layer onward: feature rows [n, dim] → the model's first output [n, classes]. */
export type ClassifierHead = (rows: tf.Tensor2D) => tf.Tensor2D;

/**
 * The network after `layer` as a function of that layer's (pooled) features. A spatial layer is fed as
 * a 1 × 1 map: exact where the head starts with global pooling (the usual case), since pooling one
 * position returns it. Throws when the head also reads tensors from before the layer (a skip connection).
 */
export function classifierHead(model: RunnableModel, layer: string): ClassifierHead {
  const byId = nodeIndex(model);
  if (!byId.has(layer)) throw new Error(`the model has no layer "${layer}"`);
  const output = model.outputs[0];
  const downstream = descendantsOf(model, layer);
  if (!downstream.has(output)) throw new Error(`the model's output does not depend on layer "${layer}"`);
  const needed = new Set<string>([output]);
  for (let i = model.nodes.length - 1; i >= 0; i--) {
    const node = model.nodes[i];
    if (!needed.has(node.id)) continue;
    for (const input of node.inputs) if (input !== layer) needed.add(input);
  }
  const outside = [...needed].filter((id) => id !== output && !downstream.has(id));
  if (outside.length > 0) {
    throw new Error(`the classifier after layer "${layer}" also reads "${outside[0]}", so it cannot run from the features alone`);
  }
  const spatial = outputShapes(model).get(layer)?.length === 4;
  return (rows) =>
    tf.tidy(() => {
      const [n, dim] = rows.shape;
      const fed = spatial ? tf.reshape(rows, [n, 1, 1, dim]) : rows;
      const [scores] = runGraph(model, new Map([[layer, fed]]), [output]);
      return tf.reshape(scores, [n, -1]) as tf.Tensor2D;
    });
}

/** A grid over the map: `classes[row · columns + column]`, row 0 at `minY`, column 0 at `minX`. */
export interface RegionGrid {
  columns: number;
  rows: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  /** The head's class at each cell's centre. */
  classes: Int32Array;
}

export interface DecisionRegions {
  grid: RegionGrid;
  /** Share of the dots whose cell shows the class the model predicts for that image. */
  agreement: number;
  /** Per dot: whether its cell shows its prediction. */
  agrees: Uint8Array;
}

export interface DecisionRegionOptions {
  /** The feature layer the map was made from; the head runs from there. */
  featureLayer: string;
  /** n × dim: the features of the dots, in the order of `points`. */
  features: Float32Array;
  dim: number;
  /** n × 2: where each dot is on the map. */
  points: Float32Array;
  /** The model's class for each dot. */
  predicted: Int32Array;
  method: EmbeddingMethod;
  /** Cells along each side (64). */
  gridSize?: number;
  /** Dots averaged for a point of the map (8). */
  neighbours?: number;
  /** Cells through the head at once (512). */
  batchSize?: number;
  progress?: Progress;
}

export async function decisionRegions(model: RunnableModel, options: DecisionRegionOptions): Promise<DecisionRegions> {
  const { features, dim, points, predicted } = options;
  const count = points.length / 2;
  if (count < 2 || features.length !== count * dim || predicted.length !== count) {
    throw new Error(`decision regions need at least 2 dots with one feature row and prediction each (got ${count})`);
  }
  const size = options.gridSize ?? 64;
  const batchSize = options.batchSize ?? 512;
  const head = classifierHead(model, options.featureLayer);
  const inverse = inverseProjection(features, dim, points, options.method, options.neighbours ?? 8);
  const grid = gridOver(points, size);
  const cellWidth = (grid.maxX - grid.minX) / size;
  const cellHeight = (grid.maxY - grid.minY) / size;
  const cells = size * size;
  for (let start = 0; start < cells; start += batchSize) {
    const end = Math.min(cells, start + batchSize);
    const rows = new Float32Array((end - start) * dim);
    for (let cell = start; cell < end; cell++) {
      const x = grid.minX + ((cell % size) + 0.5) * cellWidth;
      const y = grid.minY + (Math.floor(cell / size) + 0.5) * cellHeight;
      inverse(x, y, rows.subarray((cell - start) * dim, (cell - start + 1) * dim));
    }
    const classes = tf.tidy(() => {
      const scores = head(tf.tensor2d(rows, [end - start, dim]));
      return tf.argMax(scores, 1);
    });
    try {
      grid.classes.set(await classes.data(), start);
    } finally {
      classes.dispose();
    }
    await checkpoint(options.progress, end, cells);
  }
  const agrees = new Uint8Array(count);
  for (let i = 0; i < count; i++) agrees[i] = grid.classes[cellOf(grid, points[2 * i], points[2 * i + 1])] === predicted[i] ? 1 : 0;
  return { grid, agreement: agrees.reduce((sum, a) => sum + a, 0) / count, agrees };
}

/** The grid's cell that holds the point (points on the far edges belong to the last cells). */
export function cellOf(grid: RegionGrid, x: number, y: number): number {
  const column = Math.min(grid.columns - 1, Math.max(0, Math.floor(((x - grid.minX) / (grid.maxX - grid.minX)) * grid.columns)));
  const row = Math.min(grid.rows - 1, Math.max(0, Math.floor(((y - grid.minY) / (grid.maxY - grid.minY)) * grid.rows)));
  return row * grid.columns + column;
}

/** A square-celled grid over the dots' bounding box with a 5% margin on every side. */
function gridOver(points: Float32Array, size: number): RegionGrid {
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < points.length; i += 2) {
    minX = Math.min(minX, points[i]);
    maxX = Math.max(maxX, points[i]);
    minY = Math.min(minY, points[i + 1]);
    maxY = Math.max(maxY, points[i + 1]);
  }
  const margin = 0.05 * Math.max(maxX - minX, maxY - minY, 1e-6);
  return {
    columns: size,
    rows: size,
    minX: minX - margin,
    maxX: maxX + margin,
    minY: minY - margin,
    maxY: maxY + margin,
    classes: new Int32Array(size * size),
  };
}

/**
 * A map point (x, y) → a feature vector, written into `out`: the mean of the `k` nearest dots' features
 * weighted by 1 / distance² (the dot itself at distance 0). For PCA, plus P · ((x, y) − the same mean of
 * the dots' positions), with P the two principal axes: the result then projects exactly onto (x, y), and
 * what it keeps off the plane is the neighbours' own residual.
 */
export function inverseProjection(
  features: Float32Array,
  dim: number,
  points: Float32Array,
  method: EmbeddingMethod,
  k: number,
): (x: number, y: number, out: Float32Array) => void {
  const count = points.length / 2;
  const nearest = Math.min(k, count);
  const axes = method === 'pca' ? principalAxesOf(features, dim, points) : undefined;
  const distances = new Float64Array(count);
  const order = Array.from({ length: count }, (_, i) => i);
  return (x, y, out) => {
    for (let i = 0; i < count; i++) distances[i] = (points[2 * i] - x) ** 2 + (points[2 * i + 1] - y) ** 2;
    const chosen = smallest(order, distances, nearest);
    out.fill(0);
    const exact = chosen.find((i) => distances[i] === 0);
    const weights = exact === undefined ? chosen.map((i) => 1 / distances[i]) : chosen.map((i) => (i === exact ? 1 : 0));
    const total = weights.reduce((a, b) => a + b, 0);
    let [meanX, meanY] = [0, 0];
    chosen.forEach((i, j) => {
      const w = weights[j] / total;
      if (w === 0) return;
      for (let d = 0; d < dim; d++) out[d] += w * features[i * dim + d];
      meanX += w * points[2 * i];
      meanY += w * points[2 * i + 1];
    });
    if (!axes) return;
    const [dx, dy] = [x - meanX, y - meanY];
    for (let d = 0; d < dim; d++) out[d] += axes[2 * d] * dx + axes[2 * d + 1] * dy;
  };
}

/** The indices of the `k` smallest distances (a partial selection; k is small). */
function smallest(order: number[], distances: Float64Array, k: number): number[] {
  const best: number[] = [];
  for (const i of order) {
    if (best.length === k && distances[i] >= distances[best[k - 1]]) continue;
    let at = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push(i);
    while (at > 0 && distances[best[at - 1]] > distances[i]) {
      best[at] = best[at - 1];
      at--;
    }
    best[at] = i;
  }
  return best;
}

/**
 * The two principal axes P (dim × 2, row-major) behind a PCA map, recovered from the map itself: the
 * points are Xc · P for the centred features Xc, and each axis is an eigenvector of Xcᵀ Xc, so
 * Xcᵀ · points_j = λ_j P_j with λ_j = ‖points_j‖². Exact, and independent of how the axes were oriented.
 */
export function principalAxesOf(features: Float32Array, dim: number, points: Float32Array): Float64Array {
  const count = points.length / 2;
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let d = 0; d < dim; d++) mean[d] += features[i * dim + d] / count;
  const axes = new Float64Array(dim * 2);
  const lambda = [0, 0];
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < 2; j++) {
      const p = points[2 * i + j];
      lambda[j] += p * p;
      for (let d = 0; d < dim; d++) axes[2 * d + j] += (features[i * dim + d] - mean[d]) * p;
    }
  }
  for (let d = 0; d < dim; d++) for (let j = 0; j < 2; j++) axes[2 * d + j] = lambda[j] > 0 ? axes[2 * d + j] / lambda[j] : 0;
  return axes;
}
