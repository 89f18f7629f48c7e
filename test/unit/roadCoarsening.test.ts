/**
 * The imputation multigrid's coarsening, built from the grid's structure, against its definition: the
 * interpolation (I − ω D⁻¹ A) P₀ over the 3 × 3 blocks and the Galerkin product Pᵀ A P, written out
 * densely, on the finest level of an imputation's system and on the coarse level below it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coarsen, type Grid } from '../../src/engine/metrics/coarsening';
import type { SparseMatrix } from '../../src/engine/metrics/sparse';
import { denseImputationSystem } from '../support/imputationSystem';

function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function toDense(a: SparseMatrix): number[][] {
  const dense = Array.from({ length: a.rows }, () => new Array<number>(a.columns).fill(0));
  for (let i = 0; i < a.rows; i++) for (let e = a.start[i]; e < a.start[i + 1]; e++) dense[i][a.index[e]] += a.value[e];
  return dense;
}

function fromDense(dense: number[][]): SparseMatrix {
  const start = [0];
  const index: number[] = [];
  const value: number[] = [];
  for (const row of dense) {
    row.forEach((v, j) => {
      if (v !== 0) {
        index.push(j);
        value.push(v);
      }
    });
    start.push(index.length);
  }
  return {
    rows: dense.length,
    columns: dense[0].length,
    start: Int32Array.from(start),
    index: Int32Array.from(index),
    value: Float64Array.from(value),
  };
}

const times = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const transposed = (a: number[][]) => a[0].map((_, j) => a.map((row) => row[j]));

/** The imputation's system for the removed pixels (keep 0) of a height × width image, with its grid. */
function imputationSystem(keep: Uint8Array, height: number, width: number): { a: number[][]; grid: Grid } {
  const { unknowns, a } = denseImputationSystem(keep, height, width);
  const grid = {
    rows: Int32Array.from(unknowns, (p) => Math.floor(p / width)),
    columns: Int32Array.from(unknowns, (p) => p % width),
    height,
    width,
  };
  return { a, grid };
}

/** Checks one coarsening of `a` against the definition and returns the coarse level. */
function checkCoarsening(a: number[][], grid: Grid, omega: number, label: string): { a: number[][]; grid: Grid } {
  const diagonal = Float64Array.from(a, (row, i) => row[i]);
  const result = coarsen(fromDense(a), diagonal, grid, omega);
  // The aggregates: the occupied 3 × 3 blocks, in the order of their first unknown.
  const blocks = [...new Set(Array.from(grid.rows, (r, i) => `${Math.floor(r / 3)},${Math.floor(grid.columns[i] / 3)}`))];
  assert.deepEqual(
    Array.from(result.grid.rows, (r, k) => `${r},${result.grid.columns[k]}`),
    blocks,
    `${label}: the aggregates`,
  );
  const p0 = Array.from(grid.rows, (r, i) =>
    blocks.map((block) => (block === `${Math.floor(r / 3)},${Math.floor(grid.columns[i] / 3)}` ? 1 : 0)),
  );
  const smoother = a.map((row, i) => row.map((v, j) => (i === j ? 1 : 0) - (omega / diagonal[i]) * v));
  const p = times(smoother, p0);
  const galerkin = times(transposed(p), times(a, p));
  const close = (actual: number[][], expected: number[][], what: string) =>
    expected.forEach((row, i) =>
      row.forEach((v, j) => assert.ok(Math.abs(actual[i][j] - v) < 1e-14, `${label}: ${what} [${i}, ${j}]: ${actual[i][j]} vs ${v}`)),
    );
  close(toDense(result.prolongation), p, 'P');
  close(toDense(result.matrix), galerkin, 'Pᵀ A P');
  return { a: galerkin, grid: result.grid };
}

test('the interpolation and the coarse matrix are (I − ω D⁻¹ A) P₀ and Pᵀ A P, on the finest level and below', () => {
  const height = 29;
  const width = 31;
  const next = random(7);
  // Removed pixels in clumps and scattered, as a map's percentile leaves them; the image's edges included.
  const keep = Uint8Array.from({ length: height * width }, (_, p) => {
    const r = Math.floor(p / width);
    const c = p % width;
    return (r - 12) ** 2 + (c - 14) ** 2 < 90 || next() < 0.3 ? 0 : 1;
  });
  const finest = imputationSystem(keep, height, width);
  assert.ok(finest.a.length > 300, 'a system large enough for two levels');
  const below = checkCoarsening(finest.a, finest.grid, 0.9, 'finest level');
  assert.ok(below.a.length > 20 && below.a.length < finest.a.length / 4, `${below.a.length} aggregates`);
  checkCoarsening(below.a, below.grid, 0.6, 'coarse level');
});
