/**
 * Decision regions of a 2-D map: on a hand-made linear classifier, where the regions are known exactly;
 * the inverse projection's two promises (a dot maps back to its own features; for PCA, every point
 * maps back to features that project onto it); and on 500 Fashion-MNIST test images through the sample
 * model, how often the cell under a dot shows the model's own prediction for that image.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { cellOf, classifierHead, decisionRegions, inverseProjection, principalAxesOf } from '../../src/engine/dataset/decisionRegions';
import { embed, type EmbeddingMethod } from '../../src/engine/dataset/embedding';
import { analyseFolder, defaultFeatureLayer, type FolderFeatures } from '../../src/engine/dataset/features';
import { seededRandom } from '../../src/engine/dataset/random';
import type { RunnableModel } from '../../src/engine/graph';
import { imageToInput, type Preprocessing } from '../../src/engine/preprocess';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { fashionMnistTest, skipWithoutFashionMnist } from '../support/fashionMnist';
import { sampleModel } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

before(() => useNodeBackend());

/**
 * features = the input (2-D), scores = [x₀ − x₁, x₁ − x₀, −1]: class 0 below the diagonal x₁ = x₀,
 * class 1 above it, class 2 never.
 */
function diagonalClassifier(): RunnableModel {
  const weights = tf.tensor2d([1, -1, 0, -1, 1, 0], [2, 3]);
  const bias = tf.tensor1d([0, 0, -1]);
  return {
    summary: {
      name: 'diagonal',
      format: 'tfjs-layers',
      fileName: 'diagonal',
      inputShapes: [[null, 2]],
      outputShapes: [[null, 3]],
      layers: [],
      totalParams: 9,
      trainableParams: 9,
    },
    inputs: [{ id: 'input', shape: [null, 2] }],
    outputs: ['scores'],
    nodes: [
      { id: 'features', inputs: ['input'], run: ([x]) => tf.clone(x) },
      { id: 'scores', inputs: ['features'], run: ([x]) => tf.add(tf.matMul(x, weights), bias) },
    ],
    weights: () => [],
    dispose: () => tf.dispose([weights, bias]),
  };
}

describe('decision regions of a known linear classifier', () => {
  let model: RunnableModel;
  before(() => (model = diagonalClassifier()));
  after(() => model.dispose());
  // A stretched cloud across the diagonal: PCA of 2-D features keeps everything, so the map is a
  // rotation of the feature plane and every cell's class is the classifier's at that point.
  const random = seededRandom(5);
  const count = 200;
  const features = Float32Array.from({ length: count * 2 }, (_, i) => (i % 2 === 0 ? 4 : 1) * (random() - 0.5));
  const predicted = Int32Array.from({ length: count }, (_, i) => (features[2 * i] > features[2 * i + 1] ? 0 : 1));

  test('PCA: every cell shows the class of the features its centre maps back to', async () => {
    const { points } = await embed(features, 2, 'pca');
    const regions = await assertNoTensorLeak(() =>
      decisionRegions(model, { featureLayer: 'features', features, dim: 2, points, predicted, method: 'pca', gridSize: 32 }),
    );
    const axes = principalAxesOf(features, 2, points);
    const mean = [0, 1].map((d) => features.filter((_, i) => i % 2 === d).reduce((a, v) => a + v, 0) / count);
    const { grid } = regions;
    let checked = 0;
    for (let row = 0; row < grid.rows; row++) {
      for (let column = 0; column < grid.columns; column++) {
        const x = grid.minX + ((column + 0.5) * (grid.maxX - grid.minX)) / grid.columns;
        const y = grid.minY + ((row + 0.5) * (grid.maxY - grid.minY)) / grid.rows;
        const f = [0, 1].map((d) => mean[d] + axes[2 * d] * x + axes[2 * d + 1] * y);
        if (Math.abs(f[0] - f[1]) < 1e-4) continue; // on the boundary itself rounding decides
        assert.equal(grid.classes[row * grid.columns + column], f[0] > f[1] ? 0 : 1, `cell ${row}, ${column}`);
        checked++;
      }
    }
    assert.ok(checked > 1000);
    assert.ok(grid.classes.includes(0) && grid.classes.includes(1) && !grid.classes.includes(2));
    // Only dots whose cell straddles the diagonal can disagree.
    assert.ok(regions.agreement > 0.9, `agreement ${regions.agreement}`);
    regions.agrees.forEach((agrees, i) => {
      if (agrees) return;
      const cell = cellOf(grid, points[2 * i], points[2 * i + 1]);
      const neighbours = [cell - 1, cell + 1, cell - grid.columns, cell + grid.columns].filter((c) => c >= 0 && c < grid.classes.length);
      assert.ok(
        neighbours.some((c) => grid.classes[c] === predicted[i]),
        `dot ${i} is far from its region`,
      );
    });
  });

  test('a head that also reads layers before the features is refused in one sentence', () => {
    const skip: RunnableModel = {
      ...diagonalClassifier(),
      nodes: [
        { id: 'features', inputs: ['input'], run: ([x]) => tf.clone(x) },
        { id: 'scores', inputs: ['features', 'input'], run: ([a, b]) => tf.add(a, b) },
      ],
    };
    assert.throws(
      () => classifierHead(skip, 'features'),
      /^Error: the classifier after layer "features" also reads "input", so it cannot run from the features alone$/,
    );
    skip.dispose();
  });
});

describe('the inverse projection', () => {
  const random = seededRandom(9);
  const [count, dim] = [60, 5];
  const features = Float32Array.from({ length: count * dim }, () => random());

  for (const method of ['pca', 'umap'] as EmbeddingMethod[]) {
    test(`${method}: a dot maps back to its own features`, async () => {
      const { points } = await embed(features, dim, method, { seed: 1 });
      const inverse = inverseProjection(features, dim, points, method, 8);
      const out = new Float32Array(dim);
      for (const i of [0, 17, 59]) {
        inverse(points[2 * i], points[2 * i + 1], out);
        out.forEach((v, d) => assert.ok(Math.abs(v - features[i * dim + d]) < 1e-5, `dot ${i}, feature ${d}`));
      }
    });
  }

  test('pca: any point of the map maps back to features that project exactly onto it', async () => {
    const { points } = await embed(features, dim, 'pca');
    const axes = principalAxesOf(features, dim, points);
    const mean = Array.from({ length: dim }, (_, d) => features.filter((_, i) => i % dim === d).reduce((a, v) => a + v, 0) / count);
    const inverse = inverseProjection(features, dim, points, 'pca', 8);
    const out = new Float32Array(dim);
    for (const [x, y] of [
      [0.1, -0.2],
      [0.5, 0.5],
      [-0.3, 0.05],
    ]) {
      inverse(x, y, out);
      const projected = [0, 1].map((j) => out.reduce((sum, v, d) => sum + (v - mean[d]) * axes[2 * d + j], 0));
      assert.ok(Math.abs(projected[0] - x) < 1e-5 && Math.abs(projected[1] - y) < 1e-5, `(${x}, ${y}) → ${projected.join(', ')}`);
    }
  });
});

describe('decision regions on Fashion-MNIST through the sample model', { skip: skipWithoutFashionMnist }, () => {
  let model: RunnableModel;
  let features: FolderFeatures;
  before(async () => {
    model = await loadModel(fileModelSource(sampleModel));
    const { images } = fashionMnistTest(500);
    const preprocessing: Preprocessing = { width: 28, height: 28, channels: 'gray', scale: '0-255' };
    features = await analyseFolder(model, {
      count: images.length,
      featureLayer: defaultFeatureLayer(model),
      batchSize: 64,
      loadBatch: async (start, end) =>
        tf.tidy(() => tf.concat(images.slice(start, end).map((i) => imageToInput(i, preprocessing))) as tf.Tensor4D),
    });
  });
  after(() => model.dispose());

  // Measured (grid 256, 8 neighbours): PCA 97.4%, t-SNE 99.8%, UMAP 93.4% — UMAP packs dots of
  // different predictions into one cell, where a grid can show only one class.
  const floors: [EmbeddingMethod, number][] = [
    ['pca', 0.95],
    ['tsne', 0.95],
    ['umap', 0.9],
  ];
  for (const [method, floor] of floors) {
    test(`${method}: the cell under a dot shows the model's prediction for ≥ ${floor * 100}% of 500 images`, async () => {
      assert.equal(features.featureLayer, 'gap');
      const { points } = await embed(features.features, features.dim, method, { seed: 1 });
      const regions = await decisionRegions(model, {
        featureLayer: features.featureLayer,
        features: features.features,
        dim: features.dim,
        points,
        predicted: features.predicted,
        method,
        gridSize: 256,
      });
      assert.ok(regions.agreement >= floor, `${method}: agreement ${regions.agreement}`);
      // Every class the model predicts for some image owns some region.
      for (const c of new Set(features.predicted)) assert.ok(regions.grid.classes.includes(c), `class ${c} has no region`);
    });
  }
});
