/**
 * What a user of the CAM family relies on beyond the formulas (those are compared with the PyTorch
 * reference in explainReference.test.ts): every method is listed in one group of the Explain panel;
 * Finer-CAM compares with the nearest classes; test-time augmentation reports progress, can be cancelled
 * and frees its tensors; the smoothing options are refused, in one sentence, outside the CAM family.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { run } from '../../src/cli/main';
import { explain } from '../../src/engine/explain';
import { nearestClasses } from '../../src/engine/explain/finerTarget';
import { largestEigenpair } from '../../src/engine/explain/kernelPca';
import { CAM_METHODS, METHOD_GROUPS, METHODS } from '../../src/engine/explain/methods';
import type { RunnableModel } from '../../src/engine/graph';
import { parseNpy } from '../../src/engine/npy';
import { ExplanationCancelled } from '../../src/engine/progress';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot, sampleModel, sampleWorkspace } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');

before(async () => {
  await useNodeBackend();
});

test('the method groups list every method exactly once', () => {
  const grouped = METHOD_GROUPS.flatMap((group) => group.methods);
  assert.deepEqual([...grouped].sort(), [...METHODS].sort());
  assert.equal(new Set(grouped).size, grouped.length);
});

test('Finer-CAM compares with the three classes whose scores are nearest, the explained one left out', async () => {
  const logits = tf.tensor2d([
    [5, 4.9, 1, 4.5, 3, -2],
    [0, 1, 2, 3, 4, 5],
  ]);
  assert.deepEqual(await nearestClasses(logits, [0, 2]), [
    [1, 3, 4],
    [1, 3, 0],
  ]);
  logits.dispose();
});

test("KPCA-CAM's eigensolver finds the largest eigenvalue of an indefinite matrix, as a full decomposition does", () => {
  // Seeded symmetric matrices with negative eigenvalues larger in magnitude than the top one, below and
  // above the Lanczos basis size (the larger one needs restarts).
  let state = 7;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  for (const n of [10, 150]) {
    const matrix = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) matrix[i * n + j] = matrix[j * n + i] = random() + (i === j ? -3 * (i % 3) : 0);
    const full = new EigenvalueDecomposition(
      new Matrix(Array.from({ length: n }, (_, i) => Array.from(matrix.subarray(i * n, (i + 1) * n)))),
      {
        assumeSymmetric: true,
      },
    );
    const top = full.realEigenvalues.indexOf(Math.max(...full.realEigenvalues));
    const expected = full.eigenvectorMatrix.getColumn(top);
    const { value, vector } = largestEigenpair(matrix, n);
    assert.ok(Math.abs(value - full.realEigenvalues[top]) < 1e-9, `n = ${n}: ${value} vs ${full.realEigenvalues[top]}`);
    const alignment = Math.abs(expected.reduce((s, v, i) => s + v * vector[i], 0));
    assert.ok(alignment > 1 - 1e-9, `n = ${n}: |cos| = ${alignment}`);
  }
});

describe('smoothing options on tiny_gap', () => {
  let model: RunnableModel;
  let input: tf.Tensor4D;

  before(async () => {
    model = await loadModel(fileModelSource(path.join(fixtures, 'tiny_gap.onnx')));
    const { shape, data } = parseNpy(new Uint8Array(readFileSync(path.join(fixtures, 'tiny_gap_input.npy'))));
    input = tf.tidy(() => tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [0, 2, 3, 1]));
  });
  after(() => {
    input?.dispose();
    model?.dispose();
  });

  test('test-time augmentation reports each of its six passes, and stops when cancelled', async () => {
    const reports: [number, number][] = [];
    const { maps } = await explain(model, input, {
      method: 'gradcam',
      augSmooth: true,
      progress: { report: (done, total) => reports.push([done, total]) },
    });
    maps.dispose();
    assert.deepEqual(
      reports,
      [1, 2, 3, 4, 5, 6].map((done) => [done, 6]),
    );

    const token = { cancelled: false };
    const seen: number[] = [];
    const report = (done: number, total: number) => {
      seen.push(done / total);
      if (seen.length === 2) token.cancelled = true;
    };
    await assertNoTensorLeak(() =>
      assert.rejects(explain(model, input, { method: 'gradcam', augSmooth: true, progress: { token, report } }), ExplanationCancelled),
    );
  });

  test('every CAM method, with both smoothing options, frees its tensors and gives maps in [0, 1]', async () => {
    for (const method of CAM_METHODS) {
      const range = await assertNoTensorLeak(async () => {
        const { maps } = await explain(model, input, { method, augSmooth: true, eigenSmooth: true });
        const values = [tf.min(maps), tf.max(maps)].map((t) => {
          const value = t.dataSync()[0];
          t.dispose();
          return value;
        });
        maps.dispose();
        return values;
      });
      assert.ok(range[0] >= 0 && range[1] <= 1, `${method}: ${range.join('..')}`);
    }
  });

  test('smoothing a method outside the CAM family is refused with the reason', async () => {
    await assert.rejects(
      explain(model, input, { method: 'saliency', eigenSmooth: true }),
      /^Error: test-time augmentation and eigen smoothing apply to the CAM family only$/,
    );
  });
});

describe('convlens explain --aug-smooth / --eigen-smooth', () => {
  const sneaker = path.join(sampleWorkspace, 'images', 'sneaker.png');
  let folder: string;
  before(() => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'convlens-smoothing-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('a CAM method takes both options', async () => {
    const file = path.join(folder, 'map.json');
    const { code, output } = await run([
      'explain',
      sampleModel,
      sneaker,
      '--method',
      'kpcacam',
      '--aug-smooth',
      '--eigen-smooth',
      '--json',
      file,
    ]);
    assert.equal(code, 0, output);
    assert.match(output, /^KPCA-CAM of /);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).method, 'kpcacam');
  });

  test('another method refuses them in one sentence, as wrong usage', async () => {
    const { code, output } = await run(['explain', sampleModel, sneaker, '--method', 'saliency', '--aug-smooth', '--eigen-smooth']);
    assert.equal(code, 2);
    assert.equal(
      output.split('\n')[0],
      'convlens: --aug-smooth and --eigen-smooth apply to class activation maps (the CAM family) only, not to saliency',
    );
  });
});
