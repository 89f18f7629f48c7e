/**
 * GrabCut (Rother, Kolmogorov, Blake 2004) started from an explanation map instead of a user's rectangle
 * (seeds.ts). Each pixel's label minimises an energy of
 *   - a unary term: −log of its colour's density under the object's and the background's colour models
 *     (colourModel.ts), or a hard constraint for a seed;
 *   - a contrast-sensitive pairwise term on the 4-connected grid: `smoothness` × exp(−β‖zp − zq‖²) for
 *     neighbours with different labels, β = 1 / (2 × the mean of ‖zp − zq‖² over the image), so a
 *     boundary is cheap along the image's own edges;
 * solved exactly by a minimum cut (maxflow.ts). As in GrabCut, the colour models are refitted to the new
 * labels and the cut repeated, `iterations` times or until no label changes.
 */
import { fitColourModel, negativeLogLikelihood } from './colourModel';
import { FlowGraph } from './maxflow';

export interface GrabCutOptions {
  /** Refits and cuts (GrabCut's own loop); 5 by default. */
  iterations?: number;
  /** γ of the pairwise term, in the units of −log densities; OpenCV's 50 by default. */
  smoothness?: number;
}

/** What is known before the cut (seeds.ts makes it from a map). */
export interface Trimap {
  /** SURE_OBJECT, SURE_BACKGROUND, or 0: left to the cut. */
  seeds: Uint8Array;
  /** The pixels the first colour models are fitted to: 1 the object's, 0 the background's, UNFITTED neither. */
  initial: Uint8Array;
}

export const SURE_OBJECT = 1;
export const SURE_BACKGROUND = 2;
/** In `initial`: a pixel the first colour models leave out. */
export const UNFITTED = 2;

/** A capacity no sum of pairwise terms reaches: a seed keeps its label. */
const HARD = 1e9;

/**
 * The object mask (1 = object) of an image given as RGB floats in 0–255 (3 per pixel) and its trimap.
 * When the first labels hold no object or no background, there is no colour model to fit: they are
 * returned as they are.
 */
export function grabCut(rgb: Float32Array, width: number, height: number, trimap: Trimap, options: GrabCutOptions = {}): Uint8Array {
  const n = width * height;
  const { seeds } = trimap;
  const labels = trimap.initial.slice();
  for (let p = 0; p < n; p++) if (seeds[p]) labels[p] = seeds[p] === SURE_OBJECT ? 1 : 0;
  if (!labels.includes(1) || !labels.includes(0)) return labels.map((label) => (label === 1 ? 1 : 0));

  const gamma = options.smoothness ?? 50;
  const neighbourWeights = pairwiseWeights(rgb, width, height, gamma);
  let objectModel;
  let backgroundModel;
  for (let round = 0; round < (options.iterations ?? 5); round++) {
    const object = indicesWhere(labels, 1);
    const background = indicesWhere(labels, 0);
    if (object.length === 0 || background.length === 0) break;
    objectModel = fitColourModel(rgb, object, objectModel);
    backgroundModel = fitColourModel(rgb, background, backgroundModel);

    const graph = new FlowGraph(n, 2 * n);
    for (let p = 0; p < n; p++) {
      if (seeds[p] === SURE_OBJECT) graph.addTerminalWeights(p, HARD, 0);
      else if (seeds[p] === SURE_BACKGROUND) graph.addTerminalWeights(p, 0, HARD);
      else {
        // Cutting p from the source labels it background: that costs the background's energy.
        const asBackground = negativeLogLikelihood(backgroundModel, rgb, p);
        const asObject = negativeLogLikelihood(objectModel, rgb, p);
        const floor = Math.min(asBackground, asObject);
        graph.addTerminalWeights(p, asBackground - floor, asObject - floor);
      }
    }
    for (let p = 0; p < n; p++) {
      const right = neighbourWeights.right[p];
      if (right > 0) graph.addEdge(p, p + 1, right, right);
      const down = neighbourWeights.down[p];
      if (down > 0) graph.addEdge(p, p + width, down, down);
    }
    graph.maxflow();
    let changed = 0;
    for (let p = 0; p < n; p++) {
      const label = graph.isSourceSide(p) ? 1 : 0;
      if (label !== labels[p]) changed++;
      labels[p] = label;
    }
    if (changed === 0) break;
  }
  return labels;
}

/** The pairwise weights to each pixel's right and lower neighbour (0 past the image's edge). */
function pairwiseWeights(rgb: Float32Array, width: number, height: number, gamma: number): { right: Float64Array; down: Float64Array } {
  const n = width * height;
  const right = new Float64Array(n);
  const down = new Float64Array(n);
  const squaredDifference = (p: number, q: number) =>
    (rgb[3 * p] - rgb[3 * q]) ** 2 + (rgb[3 * p + 1] - rgb[3 * q + 1]) ** 2 + (rgb[3 * p + 2] - rgb[3 * q + 2]) ** 2;
  let total = 0;
  let pairs = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (x < width - 1) {
        right[p] = squaredDifference(p, p + 1);
        total += right[p];
        pairs++;
      }
      if (y < height - 1) {
        down[p] = squaredDifference(p, p + width);
        total += down[p];
        pairs++;
      }
    }
  }
  // A flat image: every boundary costs the full γ.
  const beta = total > 0 ? pairs / (2 * total) : 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      right[p] = x < width - 1 ? gamma * Math.exp(-beta * right[p]) : 0;
      down[p] = y < height - 1 ? gamma * Math.exp(-beta * down[p]) : 0;
    }
  }
  return { right, down };
}

function indicesWhere(labels: Uint8Array, value: number): Int32Array {
  let count = 0;
  for (const label of labels) if (label === value) count++;
  const indices = new Int32Array(count);
  let i = 0;
  for (let p = 0; p < labels.length; p++) if (labels[p] === value) indices[i++] = p;
  return indices;
}
