/**
 * The faithfulness metrics over a sample of images (the Analyze panel's Faithfulness tab), ROAD's cost in
 * forward passes, and the imputation's solver on images large enough for several multigrid levels. The
 * single-image metrics are checked against PyTorch in metrics.test.ts; here, that the aggregate is made
 * of exactly those values, with the right means and standard errors, and that it frees what it allocates
 * and stops when cancelled.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { runGraph } from '../../src/engine/execute';
import { explain } from '../../src/engine/explain';
import { scoreNode } from '../../src/engine/explain/scores';
import type { Method } from '../../src/engine/explain/methods';
import {
  bestRows,
  confidenceChange,
  deletionInsertion,
  estimate,
  folderFaithfulness,
  keptPixels,
  noisyLinearImpute,
  road,
  scoreTensor,
  spreadSample,
  type MethodFaithfulness,
} from '../../src/engine/metrics';
import { multiply, product, type SparseMatrix, transpose } from '../../src/engine/metrics/sparse';
import { neighbourMeanGap } from '../support/imputationSystem';
import { repoRoot } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';
import { fixtureModel } from '../support/fixtureModels';
import { countingModel } from '../support/countingModel';

const explainFixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');
const METHODS: Method[] = ['gradcam', 'saliency'];

const fixture = fixtureModel(path.join(explainFixtures, 'tiny_gap.onnx'), path.join(explainFixtures, 'tiny_gap_input.npy'));

describe('ROAD in forward passes', () => {
  test('5 percentiles: 10 images per image and map in one network run when the unperturbed score is given, 11 otherwise; same result', async () => {
    const one = tf.slice(fixture.input, 0, 1) as tf.Tensor4D;
    const { maps } = await explain(fixture.model, one, { method: 'gradcam', classIndex: [3] });
    const base = scoreTensor(fixture.model, fixture.model.inputs[0].id, one, [3], 'probability');
    try {
      const options = { percentiles: [10, 30, 50, 70, 90], noise: 0 };
      const plain = countingModel(fixture.model);
      const without = await road(plain.model, fixture.model.inputs[0].id, one, maps, [3], options);
      assert.deepEqual([plain.images(), plain.runs()], [11, 1]);
      const shared = countingModel(fixture.model);
      const withBase = await road(shared.model, fixture.model.inputs[0].id, one, maps, [3], {
        ...options,
        baseScores: [base.dataSync()[0]],
      });
      assert.deepEqual([shared.images(), shared.runs()], [10, 1]);
      assert.deepEqual(withBase, without);
    } finally {
      tf.dispose([one, maps, base]);
    }
  });
});

describe('faithfulness over a sample of images', () => {
  test("each method's per-image values are those of the single metrics, for each image's top class", async () => {
    const results = await folderFaithfulness(fixture.model, fixture.input, METHODS, { roadNoise: 0, percentiles: [20, 50, 80] });
    assert.deepEqual(
      results.map((r) => r.method),
      METHODS,
    );
    const classes = tf.tidy(() => tf.argMax(scoreTensorRows(), 1).arraySync() as number[]);
    for (const [m, method] of METHODS.entries()) {
      const { maps } = await explain(fixture.model, fixture.input, { method, classIndex: classes });
      try {
        const r = await road(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, classes, {
          noise: 0,
          percentiles: [20, 50, 80],
        });
        const deletion = await deletionInsertion(fixture.model, fixture.model.inputs[0].id, 'deletion', fixture.input, maps, classes);
        const insertion = await deletionInsertion(fixture.model, fixture.model.inputs[0].id, 'insertion', fixture.input, maps, classes);
        const confidence = await confidenceChange(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, classes);
        const { values } = results[m];
        close(values.roadCombined, r.combined, `${method} ROAD combined`);
        close(values.roadMorf, r.morf, `${method} MoRF`);
        close(values.roadLerf, r.lerf, `${method} LeRF`);
        close(values.deletionAuc, deletion.auc, `${method} deletion`);
        close(values.insertionAuc, insertion.auc, `${method} insertion`);
        close(values.averageDrop, confidence.drop, `${method} drop`);
        assert.deepEqual(
          values.increaseInConfidence,
          confidence.after.map((o, i) => (o > confidence.before[i] ? 100 : 0)),
        );
        const summary = results[m].summary;
        close([summary.averageDrop.mean], [confidence.averageDrop], `${method} average drop`);
        close([summary.increaseInConfidence.mean], [confidence.increaseInConfidence], `${method} increase in confidence`);
        for (const value of values.roadCombined) assert.ok(Math.abs(value) <= 1, `ROAD combined of a probability: ${value}`);
      } finally {
        maps.dispose();
      }
    }
  });

  test('given classes are explained instead of the top ones', async () => {
    const [result] = await folderFaithfulness(fixture.model, fixture.input, ['gradcam'], {
      classes: [1, 2],
      roadNoise: 0,
      percentiles: [50],
    });
    const { maps } = await explain(fixture.model, fixture.input, { method: 'gradcam', classIndex: [1, 2] });
    try {
      const confidence = await confidenceChange(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, [1, 2]);
      close(result.values.averageDrop, confidence.drop, 'drop for classes 1 and 2');
    } finally {
      maps.dispose();
    }
  });

  test('frees every tensor', async () => {
    await assertNoTensorLeak(() => folderFaithfulness(fixture.model, fixture.input, METHODS, { percentiles: [50] }));
  });

  test('reports progress in hundredths of an (image, method) pair, and stops when cancelled', async () => {
    const token = { cancelled: false };
    const seen: [number, number][] = [];
    const tensors = tf.memory().numTensors;
    await assert.rejects(
      folderFaithfulness(fixture.model, fixture.input, METHODS, {
        percentiles: [50],
        progress: {
          token,
          report: (done, total) => {
            seen.push([done, total]);
            if (done >= 100) token.cancelled = true;
          },
        },
      }),
      { name: 'ExplanationCancelled' },
    );
    assert.equal(seen.at(-1)![0], 100, 'stopped at the end of the first pair');
    assert.ok(seen.every(([done, total]) => total === 400 && done >= 0 && done <= 100));
    assert.ok(
      seen.every(([done], i) => i === 0 || done >= seen[i - 1][0]),
      'never goes back',
    );
    assert.equal(tf.memory().numTensors, tensors, 'nothing left behind by the cancelled run');
  });
});

describe('summaries', () => {
  test('mean and standard error (sample standard deviation / √n)', () => {
    const { mean, standardError } = estimate([1, 2, 3, 4]);
    assert.equal(mean, 2.5);
    assert.ok(Math.abs(standardError - Math.sqrt(5 / 3 / 4)) < 1e-12);
    assert.ok(Number.isNaN(estimate([7]).standardError));
  });

  test('the best row per column follows which way is more faithful', () => {
    const row = (method: Method, combined: number, morf: number, deletion: number): MethodFaithfulness => {
      const cell = (mean: number) => ({ mean, standardError: 0 });
      return {
        method,
        values: {} as MethodFaithfulness['values'],
        summary: {
          roadCombined: cell(combined),
          roadMorf: cell(morf),
          roadLerf: cell(0),
          deletionAuc: cell(deletion),
          insertionAuc: cell(NaN),
          averageDrop: cell(10),
          increaseInConfidence: cell(0),
        },
      };
    };
    const best = bestRows([row('gradcam', 0.1, -0.2, 0.3), row('saliency', 0.2, -0.1, 0.4)]);
    assert.equal(best.roadCombined, 1, 'higher ROAD combined');
    assert.equal(best.roadMorf, 0, 'lower MoRF');
    assert.equal(best.deletionAuc, 0, 'lower deletion AUC');
    assert.equal(best.insertionAuc, -1, 'no number, no best');
    assert.equal(best.averageDrop, 0, 'the first among equals');
  });

  test('the sample spreads over the classes, repeats for a seed, skips unreadable images, fills with unlabelled ones', () => {
    // Class 0: 20 images, class 1: 3, class 2: 2, then 5 unlabelled.
    const truth = [...Array(20).fill(0), 1, 1, 1, 2, 2, ...Array(5).fill(-1)];
    const sample = spreadSample(truth, 8, 1);
    assert.equal(sample.length, 8);
    const perClass = [0, 1, 2].map((c) => sample.filter((i) => truth[i] === c).length);
    assert.deepEqual(perClass, [3, 3, 2], 'round-robin over the classes');
    assert.deepEqual(spreadSample(truth, 8, 1), sample);
    assert.notDeepEqual(spreadSample(truth, 8, 2), sample);
    assert.deepEqual(
      sample,
      [...sample].sort((a, b) => a - b),
    );
    const skipped = spreadSample(truth, 8, 1, new Set([20, 21]));
    assert.ok(!skipped.includes(20) && !skipped.includes(21));
    const all = spreadSample(truth, 28, 3);
    assert.equal(all.length, 28);
    assert.equal(all.filter((i) => truth[i] < 0).length, 3, 'unlabelled images only once the labelled ones run out');
    assert.deepEqual(
      spreadSample(truth, 100, 3),
      truth.map((_, i) => i),
    );
  });
});

describe('the imputation on larger images (several multigrid levels)', () => {
  const height = 72;
  const width = 90;
  const channels = 3;
  const image = Float32Array.from({ length: height * width * channels }, (_, i) => Math.sin(i * 0.37) + ((i * 7919) % 13) / 13);
  // A smooth map with two blobs: removing its top 70 % leaves large connected regions to fill.
  const map = Float32Array.from({ length: height * width }, (_, p) => {
    const r = Math.floor(p / width);
    const c = p % width;
    return Math.exp(-((r - 20) ** 2 + (c - 25) ** 2) / 400) + 0.8 * Math.exp(-((r - 50) ** 2 + (c - 65) ** 2) / 600);
  });

  for (const percent of [30, 60, 90]) {
    test(`each removed pixel is the weighted mean of its neighbours (most relevant first, ${percent}th percentile)`, () => {
      const keep = keptPixels(map, percent);
      const imputed = noisyLinearImpute(image, keep, height, width, channels, 0, () => 0);
      const { worst, removed, keptChanged } = neighbourMeanGap(imputed, image, keep, height, width, channels);
      assert.equal(keptChanged, 0, 'kept pixels keep their values');
      assert.ok(removed > height * width * (1 - percent / 100) - 2, `removed ${removed}`);
      // The values are stored in float32: the equations hold to its precision.
      assert.ok(worst < 2e-6, `largest departure from the neighbours' mean: ${worst}`);
    });
  }

  test('with no pixel kept the system has no unique solution: the imputed values are 0', () => {
    const imputed = noisyLinearImpute(image, new Uint8Array(height * width), height, width, channels, 0, () => 0);
    assert.ok(imputed.every((v) => v === 0));
  });
});

describe('the sparse matrices under the solver', () => {
  /** A rows × columns matrix with about a third of its entries non-zero, and its dense copy. */
  const random = (rows: number, columns: number, seed: number): { sparse: SparseMatrix; dense: number[][] } => {
    let state = seed;
    const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const dense = Array.from({ length: rows }, () => Array.from({ length: columns }, () => (next() > 0.33 ? 0 : next())));
    const start = [0];
    const index: number[] = [];
    const value: number[] = [];
    for (const row of dense) {
      row.forEach((v, j) => {
        if (v === 0) return;
        index.push(j);
        value.push(v);
      });
      start.push(index.length);
    }
    return {
      sparse: { rows, columns, start: Int32Array.from(start), index: Int32Array.from(index), value: Float64Array.from(value) },
      dense,
    };
  };
  const toDense = (a: SparseMatrix) => {
    const dense = Array.from({ length: a.rows }, () => new Array<number>(a.columns).fill(0));
    for (let i = 0; i < a.rows; i++) for (let e = a.start[i]; e < a.start[i + 1]; e++) dense[i][a.index[e]] += a.value[e];
    return dense;
  };

  test('product, transpose and multiplication by 1, 2 or 3 interleaved vectors agree with dense arithmetic', () => {
    const a = random(7, 5, 3);
    const b = random(5, 6, 11);
    const expected = a.dense.map((row) => b.dense[0].map((_, j) => row.reduce((s, v, k) => s + v * b.dense[k][j], 0)));
    toDense(product(a.sparse, b.sparse)).forEach((row, i) => close(row, expected[i], `product row ${i}`, 1e-12));
    assert.deepEqual(
      toDense(transpose(a.sparse)),
      a.dense[0].map((_, j) => a.dense.map((row) => row[j])),
    );
    for (const m of [1, 2, 3]) {
      const x = Float64Array.from({ length: 5 * m }, (_, i) => Math.cos(i));
      const out = new Float64Array(7 * m);
      multiply(a.sparse, x, out, m);
      for (let c = 0; c < m; c++) {
        const column = a.dense.map((row) => row.reduce((s, v, k) => s + v * x[k * m + c], 0));
        close(
          Array.from({ length: 7 }, (_, i) => out[i * m + c]),
          column,
          `m = ${m}, vector ${c}`,
          1e-12,
        );
      }
    }
  });
});

/** The score node's output for the input: [n, classes]. */
function scoreTensorRows(): tf.Tensor2D {
  return tf.tidy(() => {
    const [output] = runGraph(fixture.model, new Map([[fixture.model.inputs[0].id, fixture.input]]), [scoreNode(fixture.model)]);
    return tf.reshape(output, [output.shape[0]!, -1]) as tf.Tensor2D;
  });
}

function close(actual: readonly number[], expected: readonly number[], what: string, tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tolerance, `${what}[${i}]: ${v} vs ${expected[i]}`));
}
