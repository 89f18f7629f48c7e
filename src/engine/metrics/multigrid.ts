/**
 * Solves the symmetric positive definite systems of ROAD's imputation (one unknown per removed pixel)
 * by conjugate gradients preconditioned with a smoothed-aggregation multigrid V-cycle. Each level groups
 * the unknowns of 3×3 blocks of the pixel grid; a damped Jacobi step smooths that grouping into the
 * interpolation, the next level's matrix is the Galerkin product Pᵀ A P (both summed block by block from
 * the grid's structure, `coarsening.ts`), and the coarsest one (at most a hundred unknowns) is factored
 * densely. Gauss–Seidel forward before and backward after the coarse correction keep the cycle
 * symmetric, as conjugate gradients need. The iteration count then hardly grows with the size of the
 * removed region, where plain Jacobi-preconditioned conjugate gradients need about one iteration per
 * pixel across it. Given the finest matrix as its stencil (`stencil.ts`), the
 * finest level's products and sweeps, most of the work, run on that instead.
 */
import { coarsen, type Grid } from './coarsening';
import { multiply, type SparseMatrix, transpose } from './sparse';
import * as stencil from './stencil';

const COARSEST = 100;
/** The most damping of the interpolation's smoothing step (see `multigrid`). */
const MAX_OMEGA = 0.9;

interface Level {
  matrix: SparseMatrix;
  diagonal: Float64Array;
  /** The finest level's matrix as its image-layout stencil, where it is one (`stencil.ts`). */
  stencil?: stencil.Stencil;
  /** Interpolation from the next level, and its transpose. */
  prolongation?: SparseMatrix;
  restriction?: SparseMatrix;
  /** The cycle's vectors at this level, for m right-hand sides: allocated once, not every iteration. */
  work?: { m: number; x: Float64Array; residual: Float64Array; coarseB: Float64Array };
}

export interface Multigrid {
  levels: Level[];
  /** The coarsest matrix's Cholesky factor (row-major lower triangle). */
  coarse: { size: number; factor: Float64Array };
}

/**
 * The hierarchy for `matrix`, whose unknown i sits at pixel (row[i], column[i]) of a height × width grid;
 * `fine`, the same matrix as a stencil, serves the finest level's smoothing and products.
 */
export function multigrid(
  matrix: SparseMatrix,
  row: Int32Array,
  column: Int32Array,
  height: number,
  width: number,
  fine?: stencil.Stencil,
): Multigrid {
  const levels: Level[] = [];
  let a = matrix;
  let grid: Grid = { rows: row, columns: column, height, width };
  for (;;) {
    const diagonal = diagonalOf(a);
    const level: Level = { matrix: a, diagonal, stencil: levels.length === 0 ? fine : undefined };
    levels.push(level);
    if (a.rows <= COARSEST) break;
    // P = (I − ω D⁻¹ A) P₀ with ω = 4 / (3 ρ), ρ the spectral radius of D⁻¹ A (Gershgorin's bound, 2 on the
    // finest level and up to 6 below, made ω too small: 40 % more iterations), and at most MAX_OMEGA: an
    // unknown with no unknown neighbour interpolates its aggregate with weight 1 − ω, kept away from 0.
    // The imputation's stencil has ρ between 1 and about 1.5 (power iterations: 1.49 at 224 × 224), where
    // 4 / (3 ρ) is at or near MAX_OMEGA: the finest level takes MAX_OMEGA without estimating ρ.
    const omega = levels.length === 1 && fine ? MAX_OMEGA : Math.min(MAX_OMEGA, 4 / (3 * spectralRadius(a, diagonal)));
    const next = coarsen(a, diagonal, grid, omega);
    level.prolongation = next.prolongation;
    level.restriction = transpose(next.prolongation);
    a = next.matrix;
    grid = next.grid;
  }
  return { levels, coarse: cholesky(a) };
}

/**
 * Solves A X = B (A the hierarchy's finest matrix) for the `m` right-hand sides interleaved in `b`
 * (b[i * m + c]) by preconditioned conjugate gradients from X = 0, each column to a residual of
 * `tolerance` relative to its right-hand side. The columns share every pass over the matrices.
 */
export function solve(hierarchy: Multigrid, b: Float64Array, m: number, tolerance: number): Float64Array {
  const finest = hierarchy.levels[0];
  const size = finest.matrix.rows * m;
  const x = new Float64Array(size);
  const r = Float64Array.from(b);
  const p = new Float64Array(size);
  const q = new Float64Array(size);
  const goal = columnDots(b, b, m).map((squared) => tolerance * Math.sqrt(squared));
  const active = goal.map((g) => (g > 0 ? 1 : 0));
  // Per column: the step along p and the next direction's weight; 0 for a column that has converged
  // leaves it as it is, so that every pass runs over all columns at once.
  const alpha = new Float64Array(m);
  const beta = new Float64Array(m);
  const rr = new Float64Array(m);
  let z = vCycle(hierarchy, 0, r, m);
  p.set(z);
  let rz = columnDots(r, z, m);
  for (let iteration = 0; iteration < 500 && active.some((on) => on); iteration++) {
    levelMultiply(finest, p, q, m);
    const pq = columnDots(p, q, m);
    for (let c = 0; c < m; c++) {
      if (!(pq[c] > 0)) active[c] = 0;
      alpha[c] = active[c] ? rz[c] / pq[c] : 0;
    }
    step(x, r, p, q, alpha, rr, m);
    let converged = true;
    for (let c = 0; c < m; c++) {
      if (Math.sqrt(rr[c]) <= goal[c]) active[c] = 0;
      else if (active[c]) converged = false;
    }
    if (converged) break;
    z = vCycle(hierarchy, 0, r, m);
    const next = columnDots(r, z, m);
    for (let c = 0; c < m; c++) beta[c] = active[c] ? next[c] / rz[c] : 0;
    nextDirection(p, z, beta, m);
    rz = next;
  }
  return x;
}

/** x += α p and r −= α q, per column, and each column's new Σ r² into `rr`, in one pass. */
function step(x: Float64Array, r: Float64Array, p: Float64Array, q: Float64Array, alpha: Float64Array, rr: Float64Array, m: number): void {
  if (m === 3) {
    // Colour images: the three columns' scalars in locals, the common case.
    const [a0, a1, a2] = alpha;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    for (let k = 0; k < x.length; k += 3) {
      x[k] += a0 * p[k];
      x[k + 1] += a1 * p[k + 1];
      x[k + 2] += a2 * p[k + 2];
      const r0 = (r[k] -= a0 * q[k]);
      const r1 = (r[k + 1] -= a1 * q[k + 1]);
      const r2 = (r[k + 2] -= a2 * q[k + 2]);
      s0 += r0 * r0;
      s1 += r1 * r1;
      s2 += r2 * r2;
    }
    rr.set([s0, s1, s2]);
    return;
  }
  rr.fill(0);
  for (let k = 0; k < x.length; k += m) {
    for (let c = 0; c < m; c++) {
      x[k + c] += alpha[c] * p[k + c];
      const rk = (r[k + c] -= alpha[c] * q[k + c]);
      rr[c] += rk * rk;
    }
  }
}

/** p = z + β p, per column. */
function nextDirection(p: Float64Array, z: Float64Array, beta: Float64Array, m: number): void {
  if (m === 3) {
    const [b0, b1, b2] = beta;
    for (let k = 0; k < p.length; k += 3) {
      p[k] = z[k] + b0 * p[k];
      p[k + 1] = z[k + 1] + b1 * p[k + 1];
      p[k + 2] = z[k + 2] + b2 * p[k + 2];
    }
    return;
  }
  for (let k = 0; k < p.length; k += m) for (let c = 0; c < m; c++) p[k + c] = z[k + c] + beta[c] * p[k + c];
}

/** out = A x at a level: by its stencil where it has one for m columns. */
function levelMultiply(level: Level, x: Float64Array, out: Float64Array, m: number): void {
  if (level.stencil?.channels !== m) return multiply(level.matrix, x, out, m);
  stencil.scatter(level.stencil, x);
  stencil.multiplyBuffer(level.stencil, out);
}

/**
 * One V-cycle from zero for A X = B at `depth` (m interleaved columns): an approximation of A⁻¹ B, in
 * the level's own buffer (valid until the next cycle at this depth).
 */
function vCycle(hierarchy: Multigrid, depth: number, b: Float64Array, m: number): Float64Array {
  const level = hierarchy.levels[depth];
  const { matrix, diagonal, prolongation, restriction } = level;
  if (!prolongation || !restriction) return choleskySolve(hierarchy.coarse, b, m);
  if (level.work?.m !== m) {
    const size = matrix.rows * m;
    level.work = { m, x: new Float64Array(size), residual: new Float64Array(size), coarseB: new Float64Array(restriction.rows * m) };
  }
  const { x, residual, coarseB } = level.work;
  const grid = level.stencil?.channels === m ? level.stencil : undefined;
  if (grid) {
    // The same steps on the stencil's buffer.
    stencil.sweepFromZero(grid, b);
    stencil.residualAfterSweep(grid, residual);
    multiply(restriction, residual, coarseB, m);
    stencil.addProduct(grid, prolongation, vCycle(hierarchy, depth + 1, coarseB, m));
    stencil.gaussSeidel(grid, b, false, x);
    return x;
  }
  x.fill(0);
  gaussSeidel(matrix, diagonal, x, b, m, true);
  multiply(matrix, x, residual, m);
  for (let k = 0; k < b.length; k++) residual[k] = b[k] - residual[k];
  multiply(restriction, residual, coarseB, m);
  const correction = vCycle(hierarchy, depth + 1, coarseB, m);
  multiply(prolongation, correction, residual, m);
  for (let k = 0; k < b.length; k++) x[k] += residual[k];
  gaussSeidel(matrix, diagonal, x, b, m, false);
  return x;
}

/** One Gauss–Seidel sweep over the rows, first to last or last to first. */
function gaussSeidel(a: SparseMatrix, diagonal: Float64Array, x: Float64Array, b: Float64Array, m: number, forward: boolean): void {
  const { start, index, value } = a;
  if (m === 3) {
    // Colour images: the three channels in locals, the common case and the hot loop.
    for (let step = 0; step < a.rows; step++) {
      const i = forward ? step : a.rows - 1 - step;
      let s0 = b[3 * i];
      let s1 = b[3 * i + 1];
      let s2 = b[3 * i + 2];
      for (let e = start[i]; e < start[i + 1]; e++) {
        const v = value[e];
        const j = 3 * index[e];
        s0 -= v * x[j];
        s1 -= v * x[j + 1];
        s2 -= v * x[j + 2];
      }
      const d = diagonal[i];
      x[3 * i] += s0 / d;
      x[3 * i + 1] += s1 / d;
      x[3 * i + 2] += s2 / d;
    }
    return;
  }
  const sum = new Float64Array(m);
  for (let step = 0; step < a.rows; step++) {
    const i = forward ? step : a.rows - 1 - step;
    for (let c = 0; c < m; c++) sum[c] = b[i * m + c];
    for (let e = start[i]; e < start[i + 1]; e++) {
      const v = value[e];
      const j = index[e] * m;
      for (let c = 0; c < m; c++) sum[c] -= v * x[j + c];
    }
    for (let c = 0; c < m; c++) x[i * m + c] += sum[c] / diagonal[i];
  }
}

function diagonalOf(a: SparseMatrix): Float64Array {
  const diagonal = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) for (let e = a.start[i]; e < a.start[i + 1]; e++) if (a.index[e] === i) diagonal[i] += a.value[e];
  return diagonal;
}

/**
 * The spectral radius of D⁻¹ A, estimated by a few power iterations from a fixed start (from below, so
 * with a 5 % margin): enough for the interpolation's damping, cheap on the coarse levels.
 */
function spectralRadius(a: SparseMatrix, diagonal: Float64Array): number {
  let v = Float64Array.from({ length: a.rows }, (_, i) => 1 + ((i * 7919) % 17) / 17);
  let w = new Float64Array(a.rows);
  let radius = 0;
  for (let step = 0; step < 5; step++) {
    multiply(a, v, w, 1);
    let before = 0;
    let after = 0;
    for (let i = 0; i < a.rows; i++) {
      w[i] /= diagonal[i];
      before += v[i] * v[i];
      after += w[i] * w[i];
    }
    radius = Math.sqrt(after / before);
    [v, w] = [w, v];
  }
  return 1.05 * radius;
}

function cholesky(a: SparseMatrix): { size: number; factor: Float64Array } {
  const n = a.rows;
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let e = a.start[i]; e < a.start[i + 1]; e++) l[i * n + a.index[e]] += a.value[e];
  for (let j = 0; j < n; j++) {
    let d = l[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    const root = Math.sqrt(d);
    l[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      let s = l[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / root;
    }
  }
  return { size: n, factor: l };
}

function choleskySolve({ size: n, factor: l }: { size: number; factor: Float64Array }, b: Float64Array, m: number): Float64Array {
  const y = Float64Array.from(b);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = y[i * m + c];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k * m + c];
      y[i * m + c] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i * m + c];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * y[k * m + c];
      y[i * m + c] = s / l[i * n + i];
    }
  }
  return y;
}

/** Per column of two m-column interleaved blocks: Σ u·v, in one pass. */
function columnDots(u: Float64Array, v: Float64Array, m: number): Float64Array {
  if (m === 3) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    for (let k = 0; k < u.length; k += 3) {
      s0 += u[k] * v[k];
      s1 += u[k + 1] * v[k + 1];
      s2 += u[k + 2] * v[k + 2];
    }
    return Float64Array.of(s0, s1, s2);
  }
  const sums = new Float64Array(m);
  for (let k = 0; k < u.length; k += m) for (let c = 0; c < m; c++) sums[c] += u[k + c] * v[k + c];
  return sums;
}
