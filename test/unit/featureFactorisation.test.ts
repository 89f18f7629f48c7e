/**
 * Deep feature factorisation: the NMF on matrices with a known answer (non-negative factors, falling
 * reconstruction error, an exactly low-rank matrix recovered), and the whole method on resnet_small
 * against the PyTorch reference (make_dff_reference.py → dff_reference.json): concepts, heatmaps
 * (r ≥ 0.99 per concept after matching), and the classes each concept scores highest.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { classifierHead } from '../../src/engine/dataset/decisionRegions';
import { seededRandom } from '../../src/engine/dataset/random';
import { runGraph, singleInput } from '../../src/engine/execute';
import {
  conceptHeatmaps,
  conceptRows,
  factoriseFeatures,
  nmf,
  nmfStart,
  reconstructionError,
  type FeatureFactorisation,
} from '../../src/engine/explain/featureFactorisation';
import type { RunnableModel } from '../../src/engine/graph';
import { parseNpy } from '../../src/engine/npy';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot } from '../support/paths';
import { pearson } from '../support/statistics';
import { assertNoTensorLeak } from '../support/tensorLeaks';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');

interface LayerReference {
  layer: string;
  shape: [number, number, number, number];
  start_unit_mean: { h_first: number[]; w_first: number[] };
  concepts: number[][];
  heatmaps: number[][][][];
  shown: number[][][][];
  errors: number[];
  concept_scores?: number[][];
  concept_top3?: number[][];
}

const reference = JSON.parse(readFileSync(path.join(fixtures, 'dff_reference.json'), 'utf8')) as {
  components: number;
  seed: number;
  mulberry32_first: number[];
  layers: Record<'final' | 'mid', LayerReference>;
};

before(() => useNodeBackend());

/** A random non-negative matrix of rank `rank`: [rows, columns]. */
function lowRank(rows: number, columns: number, rank: number, seed: number): tf.Tensor2D {
  const random = seededRandom(seed);
  const w = Float32Array.from({ length: rows * rank }, () => random());
  const h = Float32Array.from({ length: rank * columns }, () => (random() < 0.5 ? 0 : random()));
  return tf.tidy(() => tf.matMul(tf.tensor2d(w, [rows, rank]), tf.tensor2d(h, [rank, columns])));
}

describe('non-negative matrix factorisation', () => {
  test('the factors stay non-negative and the error falls with more updates', async () => {
    const x = lowRank(12, 40, 6, 3);
    try {
      const errors: number[] = [];
      for (const iterations of [0, 1, 10, 100]) {
        const { w, h } = await nmf(x, { components: 3, iterations });
        assert.ok((await tf.min(w).data())[0] >= 0 && (await tf.min(h).data())[0] >= 0, 'negative factor');
        errors.push(reconstructionError(x, w, h));
        tf.dispose([w, h]);
      }
      for (let i = 1; i < errors.length; i++) assert.ok(errors[i] < errors[i - 1], `errors ${errors.join(', ')}`);
    } finally {
      x.dispose();
    }
  });

  test('a matrix of rank k is reconstructed almost exactly with k components', async () => {
    const x = lowRank(10, 30, 2, 7);
    try {
      const norm = tf.tidy(() => tf.norm(x).dataSync()[0]);
      const { w, h } = await nmf(x, { components: 2, iterations: 2000 });
      const error = reconstructionError(x, w, h);
      tf.dispose([w, h]);
      assert.ok(error / norm < 0.02, `relative error ${error / norm}`);
    } finally {
      x.dispose();
    }
  });

  test('the start draws what the reference draws (scikit-learn init="random" from mulberry32)', () => {
    const random = seededRandom(reference.seed);
    for (const expected of reference.mulberry32_first) assert.ok(Math.abs(random() - expected) < 1e-15);
    for (const key of ['final', 'mid'] as const) {
      const [batch, channels, height, width] = reference.layers[key].shape;
      const start = nmfStart(channels, batch * height * width, reference.components, 1, reference.seed);
      reference.layers[key].start_unit_mean.h_first.forEach((v, i) => assert.ok(Math.abs(start.h[i] - v) < 1e-6));
      reference.layers[key].start_unit_mean.w_first.forEach((v, i) => assert.ok(Math.abs(start.w[i] - v) < 1e-6));
    }
  });

  test('a bad number of concepts is refused in one sentence', async () => {
    const x = lowRank(4, 6, 2, 1);
    try {
      await assert.rejects(nmf(x, { components: 5 }), /^Error: the number of concepts must be a whole number from 1 to 4 \(got 5\)$/);
    } finally {
      x.dispose();
    }
  });
});

describe('deep feature factorisation on resnet_small against the PyTorch reference', () => {
  let model: RunnableModel;
  let input: tf.Tensor4D;
  before(async () => {
    model = await loadModel(fileModelSource(path.join(fixtures, 'resnet_small.onnx')));
    const { shape, data } = parseNpy(new Uint8Array(readFileSync(path.join(fixtures, 'resnet_small_input.npy'))));
    input = tf.tidy(() => tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [0, 2, 3, 1]));
  });
  after(() => {
    input.dispose();
    model.dispose();
  });

  const factorise = async (layer: string): Promise<FeatureFactorisation> => {
    const [activation] = runGraph(model, singleInput(model, input), [layer]);
    try {
      return await factoriseFeatures(activation as tf.Tensor4D, reference.components);
    } finally {
      activation.dispose();
    }
  };

  /** Each reference concept's best-correlated ConvLens concept, by their heatmaps over all images. */
  const matchConcepts = (ours: FeatureFactorisation, expected: LayerReference): number[] => {
    const k = ours.components;
    const positions = ours.height * ours.width;
    const flatOurs = (j: number) =>
      Array.from({ length: ours.batch }, (_, b) =>
        Array.from(ours.heatmaps.subarray((b * k + j) * positions, (b * k + j + 1) * positions)),
      ).flat();
    const flatRef = (j: number) => expected.heatmaps.map((image) => image[j].flat()).flat();
    return Array.from({ length: k }, (_, j) => {
      const scores = Array.from({ length: k }, (_, i) => pearson(flatOurs(i), flatRef(j)));
      return scores.indexOf(Math.max(...scores));
    });
  };

  for (const key of ['final', 'mid'] as const) {
    test(`${key} layer: concepts and heatmaps match at r ≥ 0.99 per concept`, async () => {
      const expected = reference.layers[key];
      const ours = await factorise(expected.layer);
      const [batch, channels, height, width] = expected.shape;
      assert.deepEqual([ours.batch, ours.channels, ours.height, ours.width], [batch, channels, height, width]);
      const match = matchConcepts(ours, expected);
      assert.equal(new Set(match).size, reference.components, `concepts matched twice: ${match.join(', ')}`);
      const k = reference.components;
      for (let j = 0; j < k; j++) {
        const concept = Array.from({ length: channels }, (_, c) => ours.concepts[c * k + match[j]]);
        const r = pearson(
          concept,
          expected.concepts.map((row) => row[j]),
        );
        assert.ok(r >= 0.99, `concept ${j}: embedding r = ${r}`);
        for (let b = 0; b < batch; b++) {
          const shown = conceptHeatmaps(ours, b, input.shape[1], input.shape[2]);
          const mine = (await shown.array())[match[j]].flat();
          shown.dispose();
          const rMap = pearson(mine, expected.shown[b][j].flat());
          assert.ok(rMap >= 0.99, `concept ${j}, image ${b}: heatmap r = ${rMap}`);
        }
      }
    });
  }

  test('concept scores: the classifier on each concept gives the reference scores and top classes', async () => {
    const expected = reference.layers.final;
    const ours = await factorise(expected.layer);
    const match = matchConcepts(ours, expected);
    const scores = tf.tidy(() => classifierHead(model, expected.layer)(conceptRows(ours)));
    const values = (await scores.array()) as number[][];
    scores.dispose();
    expected.concept_scores!.forEach((row, j) => {
      const r = pearson(values[match[j]], row);
      assert.ok(r >= 0.99, `concept ${j}: scores r = ${r}`);
      const top3 = values[match[j]]
        .map((v, c) => [v, c])
        .sort((a, b) => b[0] - a[0])
        .slice(0, 3)
        .map(([, c]) => c);
      assert.deepEqual(top3, expected.concept_top3![j], `concept ${j}`);
    });
  });

  test('shares: the concept shares of each image sum to 1, and no tensor is left behind', async () => {
    const ours = await assertNoTensorLeak(() => factorise(reference.layers.mid.layer));
    for (let b = 0; b < ours.batch; b++) {
      const sum = ours.shares.subarray(b * ours.components, (b + 1) * ours.components).reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `image ${b}: ${sum}`);
    }
  });
});
