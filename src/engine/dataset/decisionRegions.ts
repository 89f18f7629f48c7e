/**
 * Decision regions of a 2-D map of feature vectors: which class the model's classifier head (the
 * network after the feature layer) gives at each cell of a grid over the map, so the picture shows
 * where the classes meet and which images sit on the wrong side.
 *
 * A point of the map becomes a feature vector by an inverse projection (docs/explanations.md, "Decision
 * regions"): the inverse-distance-weighted mean of the features of its nearest dots (as iLAMP and
 * DeepView-style maps do), and for PCA, where the projection is linear, that mean is moved along the
 * principal axes until it projects exactly onto the point. At a dot the weighted mean is the dot's own
 * features, so each dot evaluates to the model's own prediction. The grid samples the regions at cell
 * centres and splits the cells where a dot disagrees with its cell (regionGrid.ts holds the geometry);
 * `agreement` measures how often the drawn cell under a dot shows that dot's prediction.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph } from '../execute';
import { descendantsOf, nodeIndex, type RunnableModel } from '../graph';
import { checkpoint, type Progress } from '../progress';
import { outputShapes } from '../explain/targetLayer';
import type { EmbeddingMethod } from './embedding';
import { cellAtLattice, latticeOf, mapXOf, mapYOf, type LatticeCell, type RegionGrid } from './regionGrid';

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

export type { RegionGrid } from './regionGrid';
export { cellOf } from './regionGrid';

export interface DecisionRegions {
  grid: RegionGrid;
  /** Share of the dots whose drawn cell shows the class the model predicts for that image. */
  agreement: number;
  /** Per dot: whether its drawn cell shows its prediction. */
  agrees: Uint8Array;
  /** Cells put through the head: the grid's, then the quarters of refinement. */
  evaluations: { grid: number; refinement: number };
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
  /** How many times a cell whose dots disagree with it may be halved (6). */
  refineDepth?: number;
  /** Dots averaged for a point of the map (8). */
  neighbours?: number;
  /** Cells through the head at once (512). */
  batchSize?: number;
  progress?: Progress;
}

/**
 * Samples the regions at every cell's centre, then refines where the dots are: a cell holding a dot
 * whose prediction differs from the cell's class is split into quarters, each sampled at its centre,
 * and so on down to `refineDepth` halvings, where a quarter holding dots is sampled at the dot nearest
 * its centre (the regions pass through each dot's prediction there). A level splits at most one cell
 * per dot, so refinement costs at most 4 · refineDepth head evaluations per dot.
 */
export async function decisionRegions(model: RunnableModel, options: DecisionRegionOptions): Promise<DecisionRegions> {
  const { features, dim, points, predicted } = options;
  const count = points.length / 2;
  if (count < 2 || features.length !== count * dim || predicted.length !== count) {
    throw new Error(`decision regions need at least 2 dots with one feature row and prediction each (got ${count})`);
  }
  const size = options.gridSize ?? 64;
  const depth = options.refineDepth ?? 6;
  const batchSize = options.batchSize ?? 512;
  const head = classifierHead(model, options.featureLayer);
  const inverse = inverseProjection(features, dim, points, options.method, options.neighbours ?? 8);
  const bounds = boundsOf(points);
  const geometry = { columns: size, rows: size, ...bounds, depth, classes: new Int32Array(0), quarters: new Int32Array(0) };
  const unit = 2 ** depth;
  const lattice = Array.from({ length: count }, (_, i) => latticeOf(geometry, points[2 * i], points[2 * i + 1]));

  /** The head's class at each map point [x₀, y₀, x₁, y₁, …], in batches. */
  let evaluated = 0;
  const classesAt = async (at: Float64Array, total: number): Promise<Int32Array> => {
    const n = at.length / 2;
    const result = new Int32Array(n);
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const rows = new Float32Array((end - start) * dim);
      for (let j = start; j < end; j++) inverse(at[2 * j], at[2 * j + 1], rows.subarray((j - start) * dim, (j - start + 1) * dim));
      const classes = tf.tidy(() => tf.argMax(head(tf.tensor2d(rows, [end - start, dim])), 1));
      try {
        result.set(await classes.data(), start);
      } finally {
        classes.dispose();
      }
      evaluated += end - start;
      await checkpoint(options.progress, evaluated, total);
    }
    return result;
  };

  // Every cell as it is made: its class, its first quarter (−1 while drawn whole) and its lattice square.
  const classes: number[] = [];
  const quarters: number[] = [];
  const squares: LatticeCell[] = [];
  const add = (x: number, y: number, side: number): number => {
    squares.push({ cell: squares.length, x, y, size: side });
    quarters.push(-1);
    return squares.length - 1;
  };
  const centreOf = ({ x, y, size: side }: LatticeCell): [number, number] => [
    mapXOf(geometry, x + side / 2),
    mapYOf(geometry, y + side / 2),
  ];
  const sampled = async (at: number[]) => {
    for (const c of await classesAt(Float64Array.from(at), evaluated + at.length / 2)) classes.push(c);
  };

  // The grid, sampled at its cells' centres.
  for (let cell = 0; cell < size * size; cell++) add((cell % size) * unit, Math.floor(cell / size) * unit, unit);
  await sampled(squares.flatMap(centreOf));
  let holding = new Map<number, number[]>();
  lattice.forEach(([lx, ly], i) => {
    const cell = Math.floor(ly / unit) * size + Math.floor(lx / unit);
    const dots = holding.get(cell);
    if (dots) dots.push(i);
    else holding.set(cell, [i]);
  });

  // Each level splits the cells that hold a dot of another class than theirs and samples the quarters.
  for (let level = 1; level <= depth; level++) {
    const split = [...holding].filter(([cell, dots]) => dots.some((i) => predicted[i] !== classes[cell]));
    if (split.length === 0) break;
    const at: number[] = [];
    const next = new Map<number, number[]>();
    for (const [parent, dots] of split) {
      quarters[parent] = squares.length;
      for (const { x, y, size: side } of quartersOf(squares[parent])) {
        const cell = add(x, y, side);
        const inside = dots.filter(
          (i) => lattice[i][0] - x >= 0 && lattice[i][0] - x < side && lattice[i][1] - y >= 0 && lattice[i][1] - y < side,
        );
        if (inside.length > 0) next.set(cell, inside);
        // At the last halving a cell with dots is sampled at one of them, where the regions show its prediction.
        const centre = centreOf(squares[cell]);
        at.push(...(level === depth && inside.length > 0 ? nearestDot(points, inside, centre) : centre));
      }
    }
    await sampled(at);
    holding = next;
  }

  const grid: RegionGrid = { ...geometry, classes: Int32Array.from(classes), quarters: Int32Array.from(quarters) };
  const agrees = Uint8Array.from(lattice, ([lx, ly], i) => (grid.classes[cellAtLattice(grid, lx, ly).cell] === predicted[i] ? 1 : 0));
  return {
    grid,
    agreement: agrees.reduce((sum, a) => sum + a, 0) / count,
    agrees,
    evaluations: { grid: size * size, refinement: evaluated - size * size },
  };
}

/** A lattice square's four quarters: lower left, lower right, upper left, upper right. */
function quartersOf({ x, y, size }: LatticeCell): LatticeCell[] {
  const half = size / 2;
  return [0, 1, 2, 3].map((q) => ({ cell: -1, x: x + (q % 2) * half, y: y + Math.floor(q / 2) * half, size: half }));
}

/** The position of the dot among `dots` nearest to a map point. */
function nearestDot(points: Float32Array, dots: number[], [x, y]: [number, number]): [number, number] {
  const distance = (i: number) => (points[2 * i] - x) ** 2 + (points[2 * i + 1] - y) ** 2;
  const nearest = dots.reduce((best, i) => (distance(i) < distance(best) ? i : best));
  return [points[2 * nearest], points[2 * nearest + 1]];
}

/** The dots' bounding box with a 5% margin on every side (square cells where the map is square). */
function boundsOf(points: Float32Array): { minX: number; maxX: number; minY: number; maxY: number } {
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < points.length; i += 2) {
    minX = Math.min(minX, points[i]);
    maxX = Math.max(maxX, points[i]);
    minY = Math.min(minY, points[i + 1]);
    maxY = Math.max(maxY, points[i + 1]);
  }
  const margin = 0.05 * Math.max(maxX - minX, maxY - minY, 1e-6);
  return { minX: minX - margin, maxX: maxX + margin, minY: minY - margin, maxY: maxY + margin };
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
