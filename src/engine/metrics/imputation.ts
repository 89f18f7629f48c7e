/**
 * ROAD's noisy linear imputation (Rong et al., "A Consistent and Efficient Evaluation Strategy for
 * Attribution Methods", ICML 2022), exactly as pytorch-grad-cam's `metrics/road.py` (`NoisyLinearImputer`,
 * taken from the authors' `road_evaluation/imputations.py`): every removed pixel becomes the weighted mean
 * of its 8 neighbours (weight 1/6 for the 4 direct ones, 1/12 for the diagonals), removed neighbours being
 * unknowns themselves, which is one sparse linear system for all removed pixels; then Gaussian noise of
 * standard deviation `noise` is added to the imputed values. Neighbours outside the image are left out
 * and their weight is taken off the diagonal, as the library does.
 *
 * The library solves the system with SciPy's direct `spsolve`; the system is symmetric and, where some
 * pixel is kept, positive definite after a change of sign, so here it is solved by conjugate gradients
 * preconditioned with multigrid (`multigrid.ts`, its finest level applied as the image's stencil,
 * `stencil.ts`; float64, the three channels sharing the hierarchy) to a relative residual of 1e-9 — the
 * same solution to about one float32 step, in about nine iterations however large the removed region —
 * or, when noise is added, to one that keeps the solver's error far below the noise (`toleranceFor`).
 * When every pixel is removed the system is singular (SciPy reports it); there the imputed values are 0.
 */
import { multigrid, solve } from './multigrid';
import type { SparseMatrix } from './sparse';
import { stencilOf } from './stencil';

/**
 * Where the solver stops: each channel's residual relative to its right-hand side. At 1e-9 the imputed
 * values of 224 × 224 images were within 2.4e-7 of a solve to 1e-12; at 1e-7, up to 2e-6 off.
 */
const TOLERANCE = 1e-9;
/**
 * With noise added, precision far below it changes nothing a user can see: the solver stops at a residual
 * of noise × 1e-4 (1e-6 at the default 0.01; the values a Grad-CAM map's removed pixels got there were
 * within 7e-7 of those at 1e-9, thousands of times less than the noise), never looser than 1e-6 and
 * never tighter than TOLERANCE: six iterations instead of nine.
 */
function toleranceFor(noise: number): number {
  return noise > 0 ? Math.min(1e-6, Math.max(TOLERANCE, noise * 1e-4)) : TOLERANCE;
}

/** (row offset, column offset, weight), in the library's order. */
export const NEIGHBOUR_WEIGHTS: readonly (readonly [number, number, number])[] = [
  [1, 1, 1 / 12],
  [0, 1, 1 / 6],
  [-1, 1, 1 / 12],
  [1, -1, 1 / 12],
  [0, -1, 1 / 6],
  [-1, -1, 1 / 12],
  [1, 0, 1 / 6],
  [-1, 0, 1 / 6],
];

const NEIGHBOURS = NEIGHBOUR_WEIGHTS.length;
const ROW_OFFSET = Int32Array.from(NEIGHBOUR_WEIGHTS, ([dr]) => dr);
const COLUMN_OFFSET = Int32Array.from(NEIGHBOUR_WEIGHTS, ([, dc]) => dc);
const WEIGHT = Float64Array.from(NEIGHBOUR_WEIGHTS, ([, , weight]) => weight);

/**
 * Imputes the pixels where `keep` is 0. image: [height * width * channels] (HWC, as NHWC tensors hold
 * it); keep: [height * width], 1 to keep a pixel. `normal` draws standard normal numbers (only called
 * when noise > 0). Returns a new HWC image in float32.
 */
export function noisyLinearImpute(
  image: Float32Array,
  keep: Uint8Array,
  height: number,
  width: number,
  channels: number,
  noise: number,
  normal: () => number,
): Float32Array {
  const pixels = height * width;
  const unknownOf = new Int32Array(pixels).fill(-1);
  const unknowns = new Int32Array(pixels);
  let n = 0;
  for (let p = 0; p < pixels; p++) if (!keep[p]) unknowns[(unknownOf[p] = n++)] = p;
  const result = Float32Array.from(image);
  if (n === 0) return result;

  if (n === pixels) {
    // No kept pixel: a singular system (SciPy's spsolve fails); its minimum-norm solution is 0.
    for (let ch = 0; ch < channels; ch++) for (let p = 0; p < pixels; p++) result[p * channels + ch] = noise > 0 ? noise * normal() : 0;
    return result;
  }

  // Row k of the (sign-changed) system: diagonal_k x_k − Σ weight · x_neighbour = rhs_k,c.
  const start = new Int32Array(n + 1);
  const index = new Int32Array(n * (NEIGHBOURS + 1));
  const value = new Float64Array(index.length);
  const rows = new Int32Array(n);
  const columns = new Int32Array(n);
  const diagonals = new Float64Array(n);
  const rhs = new Float64Array(n * channels);
  let entry = 0;
  for (let k = 0; k < n; k++) {
    const p = unknowns[k];
    const row = Math.floor(p / width);
    const column = p - row * width;
    rows[k] = row;
    columns[k] = column;
    const diagonalEntry = entry++;
    index[diagonalEntry] = k;
    let diagonal = 1;
    for (let t = 0; t < NEIGHBOURS; t++) {
      const r = row + ROW_OFFSET[t];
      const c = column + COLUMN_OFFSET[t];
      const weight = WEIGHT[t];
      if (r < 0 || c < 0 || r >= height || c >= width) {
        diagonal -= weight;
        continue;
      }
      const q = r * width + c;
      if (keep[q]) {
        for (let ch = 0; ch < channels; ch++) rhs[k * channels + ch] += weight * image[q * channels + ch];
      } else {
        index[entry] = unknownOf[q];
        value[entry++] = -weight;
      }
    }
    value[diagonalEntry] = diagonal;
    diagonals[k] = diagonal;
    start[k + 1] = entry;
  }
  const matrix: SparseMatrix = { rows: n, columns: n, start, index: index.subarray(0, entry), value: value.subarray(0, entry) };
  const hierarchy = multigrid(matrix, rows, columns, height, width, stencilOf(rows, columns, diagonals, height, width, channels));

  const x = solve(hierarchy, rhs, channels, toleranceFor(noise));
  // Noise drawn channel by channel, pixel by pixel (the library's order of torch.randn_like(res.t())).
  for (let ch = 0; ch < channels; ch++) {
    for (let k = 0; k < n; k++)
      result[unknowns[k] * channels + ch] = Math.fround(x[k * channels + ch]) + (noise > 0 ? noise * normal() : 0);
  }
  return result;
}

/**
 * NumPy's default `np.percentile` (linear interpolation between the closest ranks) of `values`.
 */
export function percentile(values: ArrayLike<number>, percent: number): number {
  return percentileOfSorted(Float64Array.from(values).sort(), percent);
}

/** `percentile` of values already sorted in ascending order (to sort them once for many percentiles). */
export function percentileOfSorted(sorted: Float64Array, percent: number): number {
  const position = (percent / 100) * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  const t = position - low;
  const a = sorted[low];
  const b = sorted[high];
  // NumPy's _lerp: a + (b − a)·t, computed from the far end when t ≥ 0.5.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** Standard normal numbers from a uniform generator (Box–Muller). */
export function normalFrom(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - uniform();
    const v = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}
