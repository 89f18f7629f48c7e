/**
 * Comparing two checkpoints of the sample CNN (the 15-epoch sample model and a 1-epoch one of another
 * seed, test/fixtures/checkpoints/) against numbers computed apart from the engine, in NumPy and
 * PyTorch (test/fixtures/checkpoints/make_reference.py): the relative L2 change of every layer and
 * tensor, the histograms of the element-wise change, and the images whose top class changed. Also:
 * a model against itself moves nowhere, layers are matched by position when renamed, the difference
 * map's colours, and no tensor is left behind.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { differencePicture, largestDifference, mapDifference } from '../../src/engine/compare/mapDifference';
import { changedSummary, predictionChanges } from '../../src/engine/compare/predictionChanges';
import { HISTOGRAM_BINS, layersByChange, matchLayers, modelWeights, weightChanges } from '../../src/engine/compare/weightChanges';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { divergingTable } from '../../src/engine/render/colormaps';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot, sampleModel, sampleWorkspace } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'checkpoints');
const checkpointModel = path.join(fixtures, 'fashion-mnist-epoch1', 'model.json');

interface Reference {
  weights: {
    largest_change: number;
    layers: { layer: string; relative_change: number; tensors: { shape: number[]; relative_change: number; histogram: number[] }[] }[];
  };
  images: { name: string; a: { index: number; probability: number }[]; b: { index: number; probability: number }[] }[];
}
const reference: Reference = JSON.parse(readFileSync(path.join(fixtures, 'reference.json'), 'utf8'));

let a: OpenedModel;
let b: OpenedModel;
let images: tf.Tensor4D;

function readGray(name: string): number[] {
  const png = PNG.sync.read(readFileSync(path.join(sampleWorkspace, 'images', name)));
  return Array.from({ length: 28 * 28 }, (_, i) => png.data[i * 4]);
}

before(async () => {
  await useNodeBackend();
  a = await openModel(fileModelSource(sampleModel));
  b = await openModel(fileModelSource(checkpointModel));
  images = tf.tensor4d(
    reference.images.flatMap((image) => readGray(image.name)),
    [reference.images.length, 28, 28, 1],
  );
});

after(() => {
  a.model.dispose();
  b.model.dispose();
  images.dispose();
});

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.abs(expected), `${what}: ${actual}, reference ${expected}`);
}

describe('weight changes between two checkpoints', () => {
  test('every layer and tensor moved as far as the reference computes, with the same histograms', async () => {
    const comparison = await weightChanges(a.model, b.model);
    assert.deepEqual(comparison.unmatchedA, []);
    assert.deepEqual(comparison.unmatchedB, []);
    assert.deepEqual(
      comparison.layers.map((l) => [l.layer, l.layerB]),
      reference.weights.layers.map((l) => [l.layer, l.layer]),
    );
    close(comparison.range[1], reference.weights.largest_change, 1e-6, 'largest change');
    assert.equal(comparison.range[0], -comparison.range[1]);
    for (const [i, expected] of reference.weights.layers.entries()) {
      const layer = comparison.layers[i];
      close(layer.relativeChange, expected.relative_change, 1e-5, `${layer.layer} relative change`);
      assert.equal(layer.tensors.length, expected.tensors.length);
      for (const [t, tensor] of layer.tensors.entries()) {
        assert.deepEqual(tensor.shape, expected.tensors[t].shape);
        close(tensor.relativeChange, expected.tensors[t].relative_change, 1e-5, `${layer.layer} tensor ${t} relative change`);
        assert.deepEqual(tensor.histogram.counts, expected.tensors[t].histogram, `${layer.layer} tensor ${t} histogram`);
      }
      // The layer's histogram counts every element of its tensors once.
      const elements = layer.tensors.reduce((n, t) => n + t.shape.reduce((p, d) => p * d, 1), 0);
      assert.equal(
        layer.histogram.counts.reduce((s, c) => s + c, 0),
        elements,
      );
      assert.equal(layer.histogram.counts.length, HISTOGRAM_BINS);
    }
  });

  test('a model compared with itself moved nowhere', async () => {
    const comparison = await weightChanges(a.model, a.model);
    assert.equal(comparison.layers.length, 4);
    assert.deepEqual(comparison.range, [-0, 0]);
    for (const layer of comparison.layers) {
      assert.equal(layer.relativeChange, 0);
      for (const tensor of layer.tensors) {
        assert.equal(tensor.relativeChange, 0);
        const elements = tensor.shape.reduce((p, d) => p * d, 1);
        assert.equal(tensor.histogram.counts[(HISTOGRAM_BINS - 1) / 2], elements, 'every element in the middle bin');
      }
    }
  });

  test('renamed layers are matched by position and shape; a layer of other shapes stays unmatched', async () => {
    const weights = modelWeights(a.model);
    const renamed = weights.map((entry, i) => ({ ...entry, layer: i === 1 ? 'block2_conv' : entry.layer }));
    const { pairs, unmatchedA, unmatchedB } = matchLayers(weights, renamed);
    assert.deepEqual(
      pairs.map(([x, y]) => [x.layer, y.layer]),
      [
        ['conv1', 'conv1'],
        ['conv2', 'block2_conv'],
        ['conv3', 'conv3'],
        ['predictions', 'predictions'],
      ],
    );
    assert.deepEqual([unmatchedA, unmatchedB], [[], []]);
    const withoutConv3 = weights.filter((entry) => entry.layer !== 'conv3');
    const other = matchLayers(weights, withoutConv3);
    assert.deepEqual(other.unmatchedA, ['conv3']);
    assert.deepEqual(other.unmatchedB, []);
    // conv2's shapes differ from conv1's: renaming conv1 away does not pair it with conv2.
    const shifted = matchLayers(weights.slice(0, 2), [{ ...weights[1], layer: 'x' }]);
    assert.deepEqual(
      shifted.pairs.map(([x, y]) => [x.layer, y.layer]),
      [['conv2', 'x']],
    );
    assert.deepEqual(shifted.unmatchedA, ['conv1']);
  });

  test('layers sorted by how far they moved: largest first, infinite (A all zeros) before all', async () => {
    const { layers } = await weightChanges(a.model, b.model);
    const changed = layers.map((layer, i) => ({ ...layer, relativeChange: [0.5, Infinity, 2, 0.5][i] }));
    assert.deepEqual(
      layersByChange(changed).map((l) => l.layer),
      ['conv2', 'conv3', 'conv1', 'predictions'],
    );
    assert.deepEqual(
      changed.map((l) => l.layer),
      ['conv1', 'conv2', 'conv3', 'predictions'],
      'the comparison itself keeps graph order',
    );
  });

  test('frees every tensor it makes', async () => {
    await assertNoTensorLeak(() => weightChanges(a.model, b.model));
  });
});

describe('prediction changes over images', () => {
  test('top-3 classes under each model and which images changed, as the PyTorch reference', async () => {
    const changes = await predictionChanges(
      { model: a.model, input: images, labels: a.labels?.names },
      { model: b.model, input: images, labels: b.labels?.names },
      3,
      4, // smaller than the six images: two batches
    );
    assert.equal(changes.length, reference.images.length);
    for (const [i, expected] of reference.images.entries()) {
      for (const side of ['a', 'b'] as const) {
        assert.deepEqual(
          changes[i][side].map((p) => p.index),
          expected[side].map((p) => p.index),
          `${expected.name} under ${side}`,
        );
        for (const [k, p] of changes[i][side].entries())
          close(p.probability, expected[side][k].probability, 1e-4, `${expected.name} ${side}`);
      }
      assert.equal(changes[i].changed, expected.a[0].index !== expected.b[0].index);
    }
    const expectedChanged = reference.images.filter((image) => image.a[0].index !== image.b[0].index).length;
    assert.ok(expectedChanged > 0, 'the fixture has an image whose prediction changed');
    assert.deepEqual(changedSummary(changes), {
      changed: expectedChanged,
      sentence: `${expectedChanged} of ${reference.images.length} images changed prediction`,
    });
    assert.equal(changes[0].a[0].label, 'Ankle boot');
  });

  test('frees every tensor it makes', async () => {
    const run = () => predictionChanges({ model: a.model, input: images }, { model: b.model, input: images }, 3, 4);
    await assertNoTensorLeak(run);
  });

  test('refuses two different numbers of images', async () => {
    const one = tf.slice(images, [0, 0, 0, 0], [1, -1, -1, -1]);
    await assert.rejects(predictionChanges({ model: a.model, input: images }, { model: b.model, input: one }), /given 6 and 1 images/);
    one.dispose();
  });
});

describe('difference of two maps', () => {
  test('B − A, coloured blue for less, white for none, red for more', () => {
    const difference = mapDifference([0, 0.5, 1, 0.25], [1, 0.5, 0, 0.75]);
    assert.deepEqual([...difference], [1, 0, -1, 0.5]);
    assert.equal(largestDifference(difference), 1);
    const picture = differencePicture(difference, 2, 2);
    const table = divergingTable();
    const pixel = (i: number) => [...picture.data.subarray(i * 4, i * 4 + 4)];
    assert.deepEqual(pixel(0), [...table.subarray(255 * 3, 256 * 3), 255]);
    assert.deepEqual(pixel(2), [...table.subarray(0, 3), 255]);
    // Red for more, blue for less, and no change near white.
    const [r, , bl] = pixel(0);
    assert.ok(r > 100 && r > 3 * bl, `more is red: ${pixel(0)}`);
    const [r2, , b2] = pixel(2);
    assert.ok(b2 > 60 && b2 > 3 * r2, `less is blue: ${pixel(2)}`);
    assert.ok(
      pixel(1)
        .slice(0, 3)
        .every((c) => c > 230),
      `none is near white: ${pixel(1)}`,
    );
  });

  test('maps of different sizes are refused', () => {
    assert.throws(() => mapDifference([0, 1], [0]), /2 and 1 values/);
  });
});
