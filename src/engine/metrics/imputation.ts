/**
 * ROAD's noisy linear imputation (Rong et al., "A Consistent and Efficient Evaluation Strategy for
 * Attribution Methods", ICML 2022), exactly as pytorch-grad-cam's `metrics/road.py` (`NoisyLinearImputer`,
 * taken from the authors' `road_evaluation/imputations.py`): every removed pixel becomes the weighted mean
 * of its 8 neighbours (weight 1/6 for the 4 direct ones, 1/12 for the diagonals), removed neighbours being
 * unknowns themselves, which is one sparse linear system for all removed pixels; then Gaussian noise of
 * standard deviation `noise` is added to the imputed values. Neighbours outside the image are left out
 * and their weight is taken off the diagonal, as the library does.
 *
 * The library solves the system with SciPy's direct `spsolve`; the system is symmetric and, where every
 * connected region of removed pixels touches a kept pixel, positive definite after a change of sign, so
 * here it is solved by conjugate gradients (Jacobi-preconditioned, float64) to a relative residual of
 * 1e-12 — the same solution to far below float32 precision. A region of removed pixels with no kept pixel
 * next to it (only when the whole image is removed) has no unique solution; there its values are 0
 * (the minimum-norm solution CG reaches from zero), where SciPy reports a singular matrix.
 */

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
  const unknowns: number[] = [];
  for (let p = 0; p < pixels; p++) if (!keep[p]) unknownOf[p] = unknowns.push(p) - 1;
  const n = unknowns.length;
  const result = Float32Array.from(image);
  if (n === 0) return result;

  // Row k of the (sign-changed) system: diagonal[k] x_k − Σ weight · x_neighbour = rhs_k,c.
  const count = NEIGHBOUR_WEIGHTS.length;
  const neighbour = new Int32Array(n * count).fill(-1);
  const diagonal = new Float64Array(n).fill(1);
  const rhs = new Float64Array(n * channels);
  for (let k = 0; k < n; k++) {
    const p = unknowns[k];
    const row = Math.floor(p / width);
    const column = p % width;
    NEIGHBOUR_WEIGHTS.forEach(([dr, dc, weight], t) => {
      const r = row + dr;
      const c = column + dc;
      if (r < 0 || c < 0 || r >= height || c >= width) {
        diagonal[k] -= weight;
        return;
      }
      const q = r * width + c;
      if (keep[q]) {
        for (let ch = 0; ch < channels; ch++) rhs[k * channels + ch] += weight * image[q * channels + ch];
      } else {
        neighbour[k * count + t] = unknownOf[q];
      }
    });
  }
  const multiply = (x: Float64Array, out: Float64Array) => {
    for (let k = 0; k < n; k++) {
      let sum = diagonal[k] * x[k];
      for (let t = 0; t < count; t++) {
        const j = neighbour[k * count + t];
        if (j >= 0) sum -= NEIGHBOUR_WEIGHTS[t][2] * x[j];
      }
      out[k] = sum;
    }
  };

  const b = new Float64Array(n);
  for (let ch = 0; ch < channels; ch++) {
    for (let k = 0; k < n; k++) b[k] = rhs[k * channels + ch];
    const x = conjugateGradient(multiply, b, diagonal);
    for (let k = 0; k < n; k++) {
      const value = Math.fround(x[k]) + (noise > 0 ? noise * normal() : 0);
      result[unknowns[k] * channels + ch] = value;
    }
  }
  return result;
}

/** Solves M x = b for a symmetric positive (semi-)definite M, Jacobi-preconditioned, from x = 0. */
function conjugateGradient(multiply: (x: Float64Array, out: Float64Array) => void, b: Float64Array, diagonal: Float64Array): Float64Array {
  const n = b.length;
  const x = new Float64Array(n);
  const r = Float64Array.from(b);
  const z = new Float64Array(n);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  const precondition = () => {
    for (let i = 0; i < n; i++) z[i] = diagonal[i] > 0 ? r[i] / diagonal[i] : r[i];
  };
  const dot = (u: Float64Array, v: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += u[i] * v[i];
    return s;
  };
  const bNorm = Math.sqrt(dot(b, b));
  if (bNorm === 0) return x;
  precondition();
  p.set(z);
  let rz = dot(r, z);
  for (let iteration = 0; iteration < 10 * n + 100; iteration++) {
    multiply(p, q);
    const pq = dot(p, q);
    if (!(pq > 0)) break;
    const alpha = rz / pq;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * q[i];
    }
    if (Math.sqrt(dot(r, r)) <= 1e-12 * bNorm) break;
    precondition();
    const next = dot(r, z);
    const beta = next / rz;
    rz = next;
    for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
  }
  return x;
}

/**
 * NumPy's default `np.percentile` (linear interpolation between the closest ranks) of `values`.
 */
export function percentile(values: ArrayLike<number>, percent: number): number {
  const sorted = Float64Array.from(values).sort();
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
