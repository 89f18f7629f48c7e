/**
 * ROAD at full image size: the imputation's stencil against the system written out from its definition,
 * the solved equations on a 224 × 224 image with nine tenths of it removed, the earlier stop with noise,
 * and the batches in which large images go through the network.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { keptPixels, noisyLinearImpute, road } from '../../src/engine/metrics';
import * as stencil from '../../src/engine/metrics/stencil';
import { denseImputationSystem, neighbourMeanGap } from '../support/imputationSystem';
import { repoRoot } from '../support/paths';
import { fixtureModel } from '../support/fixtureModels';
import { countingModel } from '../support/countingModel';

function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Solves a x = b by Gaussian elimination with partial pivoting. */
function denseSolve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let j = 0; j < n; j++) {
    const pivot = m.slice(j).reduce((best, row, i) => (Math.abs(row[j]) > Math.abs(m[best][j]) ? i + j : best), j);
    [m[j], m[pivot]] = [m[pivot], m[j]];
    for (let i = j + 1; i < n; i++) {
      const f = m[i][j] / m[j][j];
      for (let k = j; k <= n; k++) m[i][k] -= f * m[j][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) x[i] = (m[i][n] - m[i].slice(i + 1, n).reduce((s, v, k) => s + v * x[i + 1 + k], 0)) / m[i][i];
  return x;
}

/** The stencil buffer's values at the unknowns, as interleaved vectors. */
function readBuffer(s: stencil.Stencil, out: Float64Array): void {
  const m = s.channels;
  s.cells.forEach((cell, k) => {
    for (let c = 0; c < m; c++) out[k * m + c] = s.buffer[cell * m + c];
  });
}

describe("the finest level's stencil is the imputation's system", () => {
  const height = 9;
  const width = 11;
  const next = random(5);
  const keep = Uint8Array.from({ length: height * width }, () => (next() < 0.4 ? 1 : 0));
  const { unknowns, a } = denseImputationSystem(keep, height, width);
  const rows = Int32Array.from(unknowns, (p) => Math.floor(p / width));
  const columns = Int32Array.from(unknowns, (p) => p % width);
  const diagonal = Float64Array.from(a, (row, k) => row[k]);

  for (const m of [1, 2, 3]) {
    test(`A x and b − A x for ${m} interleaved vector${m > 1 ? 's' : ''}; Gauss–Seidel sweeps, from zero and converging to A⁻¹ b`, () => {
      const s = stencil.stencilOf(rows, columns, diagonal, height, width, m);
      const n = unknowns.length;
      const x = Float64Array.from({ length: n * m }, () => next() * 2 - 1);
      const b = Float64Array.from({ length: n * m }, () => next() * 2 - 1);
      const column = (v: Float64Array, c: number) => Array.from({ length: n }, (_, k) => v[k * m + c]);
      stencil.scatter(s, x);
      const ax = new Float64Array(n * m);
      const r = new Float64Array(n * m);
      stencil.multiplyBuffer(s, ax);
      stencil.residual(s, b, r);
      for (let c = 0; c < m; c++) {
        const xc = column(x, c);
        const expected = a.map((row) => row.reduce((sum, v, k) => sum + v * xc[k], 0));
        column(ax, c).forEach((v, k) => assert.ok(Math.abs(v - expected[k]) < 1e-12, `A x [${k}, ${c}]`));
        column(r, c).forEach((v, k) => assert.ok(Math.abs(v - (b[k * m + c] - expected[k])) < 1e-12, `b − A x [${k}, ${c}]`));
      }
      // A sweep from zero over whatever the buffer holds (x here) is a forward sweep from zero, and its
      // short residual the full one.
      stencil.sweepFromZero(s, b);
      const fromZero = new Float64Array(n * m);
      const shortResidual = new Float64Array(n * m);
      readBuffer(s, fromZero);
      stencil.residualAfterSweep(s, shortResidual);
      stencil.residual(s, b, r);
      stencil.scatter(s, new Float64Array(n * m));
      stencil.gaussSeidel(s, b, true);
      const forward = new Float64Array(n * m);
      readBuffer(s, forward);
      forward.forEach((v, i) => assert.ok(Math.abs(v - fromZero[i]) < 1e-15, `sweep from zero [${i}]`));
      r.forEach((v, i) => assert.ok(Math.abs(v - shortResidual[i]) < 1e-12, `residual after the sweep [${i}]`));
      for (let sweep = 1; sweep < 200; sweep++) stencil.gaussSeidel(s, b, sweep % 2 === 0);
      const solved = new Float64Array(n * m);
      readBuffer(s, solved);
      for (let c = 0; c < m; c++) {
        const expected = denseSolve(a, column(b, c));
        column(solved, c).forEach((v, k) => assert.ok(Math.abs(v - expected[k]) < 1e-9, `x [${k}, ${c}]: ${v} vs ${expected[k]}`));
      }
      // Only the unknowns are ever written: kept pixels and the frame stay 0 for the neighbours to read.
      const written = new Set(Array.from(s.cells, (cell) => cell));
      s.buffer.forEach((v, i) => assert.ok(v === 0 || written.has(Math.floor(i / m)), `buffer ${i}`));
    });
  }
});

test('at 224 × 224 with nine tenths removed (five multigrid levels), each removed pixel is the weighted mean of its neighbours', () => {
  const height = 224;
  const width = 224;
  const channels = 3;
  const next = random(11);
  const image = Float32Array.from({ length: height * width * channels }, (_, i) => 2 * Math.sin(i * 0.001) + next());
  // A smooth map with two blobs (a CAM's shape): removing its top 90 % leaves one large connected region.
  const map = Float32Array.from({ length: height * width }, (_, p) => {
    const r = Math.floor(p / width);
    const c = p % width;
    return Math.exp(-((r - 60) ** 2 + (c - 70) ** 2) / 3000) + 0.7 * Math.exp(-((r - 160) ** 2 + (c - 150) ** 2) / 5000);
  });
  const keep = keptPixels(map, 10);
  const imputed = noisyLinearImpute(image, keep, height, width, channels, 0, () => 0);
  const { worst, keptChanged } = neighbourMeanGap(imputed, image, keep, height, width, channels);
  assert.equal(keptChanged, 0, 'kept pixels keep their values');
  // Stored in float32: the equations hold to its precision.
  assert.ok(worst < 1e-6, `largest departure from the neighbours' mean: ${worst}`);
});

test('with noise added, the solver stops earlier but the imputed values stay within 1e-5 of the exact ones, far below the noise', () => {
  const height = 224;
  const width = 224;
  const channels = 3;
  const next = random(13);
  const image = Float32Array.from({ length: height * width * channels }, (_, i) => 2 * Math.cos(i * 0.0007) + next());
  const map = Float32Array.from({ length: height * width }, (_, p) =>
    Math.exp(-((Math.floor(p / width) - 100) ** 2 + ((p % width) - 120) ** 2) / 4000),
  );
  const keep = keptPixels(map, 30);
  const exact = noisyLinearImpute(image, keep, height, width, channels, 0, () => 0);
  // The default noise's standard deviation, with every draw 0: what is left is the solver's own error.
  const early = noisyLinearImpute(image, keep, height, width, channels, 0.01, () => 0);
  let worst = 0;
  exact.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - early[i]))));
  assert.ok(worst < 1e-5, `largest difference: ${worst}`);
});

describe('ROAD on 224 × 224 images', () => {
  const fixture = fixtureModel(
    path.join(repoRoot, 'test', 'fixtures', 'explain', 'tiny_gap.onnx'),
    path.join(repoRoot, 'test', 'fixtures', 'explain', 'tiny_gap_input.npy'),
  );

  test('the images go through the network four at a time, with the same scores as in one batch', async () => {
    const input = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const maps = tf.randomUniform([1, 224, 224], 0, 1, 'float32', 4) as tf.Tensor3D;
    try {
      const options = { percentiles: [25, 50, 75], noise: 0 };
      const counted = countingModel(fixture.model);
      const batched = await road(counted.model, fixture.model.inputs[0].id, input, maps, [3], options);
      assert.deepEqual([counted.images(), counted.runs()], [7, 2]);
      const together = await road(fixture.model, fixture.model.inputs[0].id, input, maps, [3], { ...options, batchSize: 7 });
      for (const key of ['morf', 'lerf'] as const) batched[key].forEach((v, i) => assert.ok(Math.abs(v - together[key][i]) < 1e-6, key));
    } finally {
      tf.dispose([input, maps]);
    }
  });
});
