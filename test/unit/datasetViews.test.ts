/**
 * The dataset views' numbers: nearest neighbours, k-NN accuracy, PCA, the confusion matrix (each on
 * hand-computed cases), and on 1,000 real Fashion-MNIST test images through the sample model: the 2-D
 * maps keep the classes about as well apart as the full feature space does, and an image's nearest
 * neighbours mostly share its class.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { confusionMatrix } from '../../src/engine/dataset/confusion';
import { embed, principalComponents } from '../../src/engine/dataset/embedding';
import { analyseFolder, defaultFeatureLayer, type FolderFeatures } from '../../src/engine/dataset/features';
import { labelByFolder, matchLabels } from '../../src/engine/dataset/imageFolder';
import { knnAccuracy, nearestNeighbours, unitRows } from '../../src/engine/dataset/neighbours';
import type { RunnableModel } from '../../src/engine/graph';
import { imageToInput, type Preprocessing } from '../../src/engine/preprocess';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { fashionMnistTest, skipWithoutFashionMnist } from '../support/fashionMnist';
import { sampleModel } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

before(() => useNodeBackend());

describe('neighbours and class separation by hand', () => {
  // Four 2-D vectors: a and b point nearly the same way, c at right angles, d opposite to a.
  const rows = Float32Array.from([1, 0, /* b */ 2, 0.2, /* c */ 0, 3, /* d */ -1, 0]);

  test('nearest by cosine: direction counts, length does not', () => {
    const found = nearestNeighbours(unitRows(rows, 2), 2, 0, 3);
    assert.deepEqual(
      found.map((n) => n.index),
      [1, 2, 3],
    );
    // cos(a, b) = 2 / √4.04; cos(a, c) = 0; cos(a, d) = −1.
    assert.ok(Math.abs(found[0].distance - (1 - 2 / Math.sqrt(4.04))) < 1e-6);
    assert.ok(Math.abs(found[1].distance - 1) < 1e-6);
    assert.ok(Math.abs(found[2].distance - 2) < 1e-6);
  });

  test('leave-one-out k-NN accuracy', () => {
    // On a line: class 0 at 0, 1, 2 and class 1 at 10, 11, and a class-1 point at 1.5 among class 0.
    const line = Float32Array.from([0, 1, 2, 10, 11, 1.5]);
    const labels = [0, 0, 0, 1, 1, 1];
    // k = 1: 0→1 ✓, 1→1.5 ✗, 2→1.5 ✗, 10→11 ✓, 11→10 ✓, 1.5→1 (tie with 2, nearer first) ✗: 3 of 6.
    assert.equal(knnAccuracy(line, 1, labels, 1, 'euclidean'), 3 / 6);
    // Unlabelled points (−1) neither vote nor count.
    assert.equal(knnAccuracy(line, 1, [0, 0, 0, 1, 1, -1], 1, 'euclidean'), 1);
  });

  test('PCA finds the long axis of a stretched cloud', () => {
    // Points along the direction (1, 2) with a little spread across it: the first axis is (1, 2)/√5.
    const points: number[] = [];
    for (let t = -5; t <= 5; t++) for (const e of [-0.1, 0.1]) points.push(t + 2 * e, 2 * t - e);
    const projected = principalComponents(Float32Array.from(points), 2, 2);
    // Projection of point (x, y) on the first axis = ((x − 0) + 2(y − 0)) / √5 (the mean is 0).
    for (let i = 0; i < points.length / 2; i++) {
      const expected = (points[2 * i] + 2 * points[2 * i + 1]) / Math.sqrt(5);
      assert.ok(Math.abs(projected[2 * i] - expected) < 1e-4, `point ${i}: ${projected[2 * i]} vs ${expected}`);
    }
  });

  test('confusion matrix and the most confident mistakes first', () => {
    const confusion = confusionMatrix([0, 0, 1, 1, 2, -1], [0, 1, 1, 0, 2, 2], [0.9, 0.6, 0.8, 0.95, 0.7, 0.5], 3);
    assert.deepEqual([...confusion.matrix], [1, 1, 0, 1, 1, 0, 0, 0, 1]);
    assert.equal(confusion.accuracy, 3 / 5);
    assert.deepEqual(
      confusion.mistakes.map((m) => m.index),
      [3, 1],
    );
    assert.deepEqual(confusion.present, [0, 1, 2]);
  });

  test('class folders: labelled by subfolder, matched to the model’s class names', () => {
    const images = labelByFolder(['t-shirt-top/a.png', 'Ankle boot/b.png', 'loose.png', '7/c.png', 'cats/d.png']);
    assert.deepEqual(
      images.map((i) => i.label),
      ['7', 'Ankle boot', 'cats', undefined, 't-shirt-top'],
    );
    const matched = matchLabels(
      ['t-shirt-top', 'Ankle boot', '7', 'cats'],
      ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
      10,
    );
    assert.deepEqual(
      [...matched],
      [
        ['t-shirt-top', 0],
        ['Ankle boot', 9],
        ['7', 7],
        ['cats', undefined],
      ],
    );
  });
});

describe('Fashion-MNIST through the sample model', { skip: skipWithoutFashionMnist }, () => {
  let model: RunnableModel;
  let labels: number[];
  let folder: FolderFeatures;
  const preprocessing: Preprocessing = { width: 28, height: 28, channels: 'gray', scale: '0-255' };

  before(async () => {
    model = await loadModel(fileModelSource(sampleModel));
    const data = fashionMnistTest(1000);
    labels = data.labels;
    const run = (count: number) =>
      analyseFolder(model, {
        count,
        loadBatch: async (start, end) =>
          tf.tidy(() => tf.concat(data.images.slice(start, end).map((image) => imageToInput(image, preprocessing))) as tf.Tensor4D),
        featureLayer: defaultFeatureLayer(model),
        peakLayer: 'conv2',
        batchSize: 64,
      });
    await assertNoTensorLeak(() => run(100));
    folder = await run(data.images.length);
  });
  after(() => model?.dispose());

  test('features come from the layer before the classifier, with predictions and channel peaks', () => {
    // rescale → conv1 → pool1 → conv2 → pool2 → conv3 → gap (48) → predictions.
    assert.equal(folder.featureLayer, 'gap');
    assert.equal(folder.dim, 48);
    const accuracy = folder.predicted.reduce((n, p, i) => n + Number(p === labels[i]), 0) / labels.length;
    assert.ok(accuracy > 0.85, `the sample model's accuracy is ${accuracy}`);
    assert.equal(folder.peaks?.channels, 32);
    assert.deepEqual([folder.peaks?.height, folder.peaks?.width], [14, 14]);
  });

  test('an image’s 10 nearest neighbours in feature space mostly share its class', () => {
    const unit = unitRows(folder.features, folder.dim);
    let shared = 0;
    for (let q = 0; q < folder.count; q++)
      shared += nearestNeighbours(unit, folder.dim, q, 10).filter((n) => labels[n.index] === labels[q]).length;
    const precision = shared / (folder.count * 10);
    console.log(`neighbours sharing the query's class: ${(precision * 100).toFixed(1)}% (chance: 10%)`);
    assert.ok(precision > 0.7, `precision@10 = ${precision}`);
  });

  for (const method of ['tsne', 'umap'] as const) {
    test(`the ${method} map keeps classes apart: 2-D k-NN accuracy within 5 points of the full feature space`, async () => {
      const full = knnAccuracy(folder.features, folder.dim, labels, 5, 'cosine');
      const map = await embed(folder.features, folder.dim, method, { seed: 7 });
      assert.equal(map.indices.length, folder.count);
      const flat = knnAccuracy(
        map.points,
        2,
        [...map.indices].map((i) => labels[i]),
        5,
        'euclidean',
      );
      console.log(`${method}: 5-NN accuracy ${(flat * 100).toFixed(1)}% in 2-D, ${(full * 100).toFixed(1)}% in ${folder.dim}-D`);
      assert.ok(flat >= full - 0.05, `2-D ${flat} vs full ${full}`);
    });
  }

  test('PCA maps every image; its 2-D accuracy is reported, not required (it is linear)', async () => {
    const map = await embed(folder.features, folder.dim, 'pca');
    assert.equal(map.points.length, folder.count * 2);
    const flat = knnAccuracy(map.points, 2, labels, 5, 'euclidean');
    console.log(`pca: 5-NN accuracy ${(flat * 100).toFixed(1)}% in 2-D`);
    assert.ok(flat > 0.3, `far above chance (10%): ${flat}`);
  });
});
