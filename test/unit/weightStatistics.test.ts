/**
 * Weight and gradient statistics of the layer inspector: the statistics on arrays worked out by hand,
 * the gradient of the cross-entropy with respect to every weight of resnet_small against PyTorch
 * (test/fixtures/explain/make_weight_gradient_reference.py, float64) to 1e-4 relative, the Keras sample
 * model's gradients against central finite differences, an ONNX batch normalisation's missing gradient,
 * and no tensor left behind.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { layerOverview, layersWithWeights, weightGradients } from '../../src/engine/inspect/weightGradients';
import {
  mainWeightIndex,
  tensorStatistics,
  valueStatistics,
  weightNames,
  type ValueStatistics,
} from '../../src/engine/inspect/weightStatistics';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { imageToInput } from '../../src/engine/preprocess';
import { loadModel } from '../../src/engine/readers';
import type { RunnableModel } from '../../src/engine/graph';
import { fileModelSource } from '../../src/node/fileModelSource';
import { readImageFile } from '../../src/node/imageFile';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot, sampleModel, sampleWorkspace } from '../support/paths';
import { readNchwAsNhwc } from '../support/fixtureModels';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');

interface ReferenceStatistics {
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  zeros: number;
  near_zero: number;
  norm: number;
  histogram: number[];
  /** Values within edge_tolerance · (max − min) of an inner bin edge: float32 may put them either side. */
  edge_ties: number;
}
interface GradientCase {
  images: number[];
  classes: number[];
  loss: number;
  layers: Record<string, (ReferenceStatistics & { ratio: number })[]>;
}
const reference: {
  bins: number;
  weights: Record<string, (ReferenceStatistics & { shape: number[] })[]>;
  cases: Record<'image0_top' | 'image0_class3' | 'batch_top', GradientCase>;
} = JSON.parse(readFileSync(path.join(fixtures, 'weight_gradient_reference.json'), 'utf8'));

before(async () => {
  await useNodeBackend();
});

describe('statistics of values', () => {
  test('range, mean, population std, sparsity, norm and histogram of a small array', () => {
    const s = valueStatistics([-2, -1, 0, 0, 1, 2, 4], 3);
    assert.equal(s.count, 7);
    assert.equal(s.min, -2);
    assert.equal(s.max, 4);
    assert.ok(Math.abs(s.mean - 4 / 7) < 1e-12);
    // Σ v² = 26, so the variance is 26/7 − (4/7)².
    assert.ok(Math.abs(s.std - Math.sqrt(26 / 7 - (4 / 7) ** 2)) < 1e-12);
    assert.ok(Math.abs(s.norm - Math.sqrt(26)) < 1e-12);
    assert.equal(s.zeros, 2 / 7);
    assert.equal(s.nearZero, 2 / 7);
    // Bins of width 2 over [−2, 4]: [−2, 0) holds −2 and −1; [0, 2) holds 0, 0, 1; the last holds 2 and the maximum 4.
    assert.deepEqual(s.histogram, { min: -2, max: 4, counts: [2, 3, 2] });
  });

  test('near zero is below a thousandth of the largest magnitude', () => {
    const s = valueStatistics([10, -0.0099, 0.01, 0, -10]);
    assert.equal(s.zeros, 1 / 5);
    assert.equal(s.nearZero, 2 / 5, '0 and −0.0099 are below 0.01; 0.01 is not');
  });

  test('a constant tensor fills the middle bin, and all zeros are all near zero', () => {
    const s = valueStatistics(new Float32Array(6), 4);
    assert.deepEqual(s.histogram.counts, [0, 0, 6, 0]);
    assert.equal(s.std, 0);
    assert.equal(s.nearZero, 1);
    assert.throws(() => valueStatistics([]), /no values/);
  });

  test('weights are named by their role, and a layer is summed up by its largest', () => {
    assert.deepEqual(weightNames([[3, 3, 1, 16], [16]], 'Conv2D'), ['kernel', 'bias']);
    assert.deepEqual(weightNames([[48, 10]], 'Dense'), ['kernel']);
    assert.deepEqual(weightNames([[8], [8], [8], [8]], 'BatchNormalization'), [
      'scale (γ)',
      'offset (β)',
      'running mean',
      'running variance',
    ]);
    assert.deepEqual(weightNames([[4], [4]], 'PRelu'), ['weight 1', 'weight 2']);
    assert.equal(mainWeightIndex([[16], [3, 3, 1, 16]]), 1);
  });
});

/** An NCHW .npy fixture as an NHWC tensor. */

/** Every statistic as the reference has it, the histogram to within the values that sit on a bin edge. */
function assertMatches(actual: ValueStatistics, expected: ReferenceStatistics, what: string): void {
  const scale = Math.max(Math.abs(expected.min), Math.abs(expected.max));
  const close = (a: number, b: number, tolerance: number, name: string) =>
    assert.ok(Math.abs(a - b) <= tolerance, `${what}: ${name} ${a} where PyTorch has ${b}`);
  assert.equal(actual.count, expected.count, `${what}: count`);
  for (const name of ['min', 'max', 'mean', 'std'] as const) close(actual[name], expected[name], 1e-4 * scale, name);
  close(actual.norm, expected.norm, 1e-4 * expected.norm, 'norm');
  close(actual.zeros, expected.zeros, 0, 'zeros');
  // A value within float32 rounding of the threshold may count either way: one in ten thousand.
  close(actual.nearZero, expected.near_zero, Math.max(1e-4, 1 / expected.count), 'near zero');
  const moved = actual.histogram.counts.reduce((sum, count, i) => sum + Math.abs(count - expected.histogram[i]), 0);
  assert.ok(moved <= 2 * expected.edge_ties, `${what}: histogram [${actual.histogram.counts}] where PyTorch has [${expected.histogram}]`);
}

describe('resnet_small: weights and their loss gradients agree with PyTorch', () => {
  let model: RunnableModel;
  let images: tf.Tensor4D;

  before(async () => {
    model = await loadModel(fileModelSource(path.join(fixtures, 'resnet_small.onnx')));
    images = readNchwAsNhwc(path.join(fixtures, 'resnet_small_input.npy'));
  });
  after(() => {
    images?.dispose();
    model?.dispose();
  });

  test('every layer with weights is found, and each weight’s statistics match (the layout does not change them)', async () => {
    assert.deepEqual(
      layersWithWeights(model).map((layer) => layer.id),
      Object.keys(reference.weights),
    );
    for (const [layerId, expected] of Object.entries(reference.weights)) {
      const weights = model.weights(layerId);
      assert.equal(weights.length, expected.length, `${layerId}: number of weights`);
      for (const [i, tensor] of weights.entries()) assertMatches(await tensorStatistics(tensor), expected[i], `${layerId} weight ${i}`);
    }
  });

  for (const [name, expected] of Object.entries(reference.cases)) {
    test(`gradients of the cross-entropy, ${name}: loss, class, every statistic and histogram, ‖∇‖/‖W‖`, async () => {
      const before = tf.memory().numTensors;
      const input = tf.gather(images, expected.images);
      const classIndex = name === 'image0_class3' ? 3 : undefined;
      const gradients = await weightGradients(model, input, classIndex === undefined ? {} : { classIndex });
      try {
        assert.deepEqual(gradients.classIndex, expected.classes);
        assert.ok(
          Math.abs(gradients.loss - expected.loss) <= 1e-4 * expected.loss,
          `loss ${gradients.loss} where PyTorch has ${expected.loss}`,
        );
        assert.deepEqual([...gradients.byLayer.keys()], Object.keys(expected.layers));
        for (const [layerId, layerGradients] of gradients.byLayer) {
          for (const [i, gradient] of layerGradients.entries()) {
            assert.ok(gradient, `${layerId} weight ${i} has a gradient`);
            const statistics = await tensorStatistics(gradient);
            const pytorch = expected.layers[layerId][i];
            assertMatches(statistics, pytorch, `${layerId} gradient ${i}`);
            const ratio = statistics.norm / (await tensorStatistics(model.weights(layerId)[i])).norm;
            assert.ok(
              Math.abs(ratio - pytorch.ratio) <= 1e-4 * pytorch.ratio,
              `${layerId} gradient ${i}: ratio ${ratio} vs ${pytorch.ratio}`,
            );
          }
        }
        const overview = await layerOverview(model, gradients);
        assert.equal(overview.length, Object.keys(expected.layers).length);
        for (const row of overview) {
          // Each layer's kernel (its first, largest weight) sums it up.
          const kernel = expected.layers[row.layerId][0];
          assert.equal(row.weight, 'kernel');
          assert.ok(Math.abs(row.ratio! - kernel.ratio) <= 1e-4 * kernel.ratio, `${row.name}: ratio ${row.ratio} vs ${kernel.ratio}`);
          const weightStd = reference.weights[row.layerId][0].std;
          assert.ok(Math.abs(row.weightStd - weightStd) <= 1e-4 * weightStd, `${row.name}: weight std ${row.weightStd} vs ${weightStd}`);
        }
      } finally {
        gradients.dispose();
        input.dispose();
      }
      assert.equal(tf.memory().numTensors, before, 'every tensor is freed');
    });
  }

  test('a class the model does not have is refused in one sentence, with nothing left behind', async () => {
    const before = tf.memory().numTensors;
    await assert.rejects(
      weightGradients(model, images, { classIndex: 10 }),
      /^Error: class 10 does not exist: the model has classes 0 to 9$/,
    );
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('the Keras sample model: gradients of every weight, checked by finite differences', () => {
  let opened: OpenedModel;
  let input: tf.Tensor4D;

  before(async () => {
    opened = await openModel(fileModelSource(sampleModel));
    input = imageToInput(await readImageFile(path.join(sampleWorkspace, 'images', 'sneaker.png')), opened.input.preprocessing);
  });
  after(() => {
    input?.dispose();
    opened?.model.dispose();
  });

  /** The loss for class `c`, as the gradient's own definition: −log softmax(logits)_c. */
  async function loss(c: number): Promise<number> {
    const gradients = await weightGradients(opened.model, input, { classIndex: c, layers: ['predictions'] });
    gradients.dispose();
    return gradients.loss;
  }

  test('every layer with weights gets a gradient for each of them; central differences agree to 1%', async () => {
    const { model } = opened;
    const before = tf.memory().numTensors;
    const layers = layersWithWeights(model).map((layer) => layer.id);
    assert.deepEqual(layers, ['conv1', 'conv2', 'conv3', 'predictions']);
    const picked = 5;
    const gradients = await weightGradients(model, input, { classIndex: picked });
    try {
      assert.deepEqual(gradients.classIndex, [picked]);
      for (const layerId of layers) {
        const layerGradients = gradients.byLayer.get(layerId)!;
        assert.deepEqual(
          layerGradients.map((g) => g?.shape),
          model.weights(layerId).map((w) => w.shape),
          `${layerId}: a gradient per weight, shaped like it`,
        );
      }
      // The weights of conv2 and of the dense layer with the largest gradients, moved by ±h: small enough
      // that no ReLU or max-pooling window changes its choice, large enough for float32's rounding.
      for (const [layerId, index] of [
        ['conv2', 0],
        ['predictions', 0],
        ['predictions', 1],
      ] as const) {
        const weight = model.weights(layerId)[index] as tf.Variable;
        const gradient = (await gradients.byLayer.get(layerId)![index]!.data()) as Float32Array;
        const largest = gradient.reduce((best, g, i) => (Math.abs(g) > Math.abs(gradient[best]) ? i : best), 0);
        const original = weight.clone();
        const h = 1e-4;
        const shifted = async (delta: number) => {
          const moved = tf.tidy(() => tf.add(original, tf.mul(tf.reshape(tf.oneHot([largest], weight.size), weight.shape), delta)));
          weight.assign(moved);
          moved.dispose(); // the variable keeps its own reference to the values
          return loss(picked);
        };
        const numeric = ((await shifted(h)) - (await shifted(-h))) / (2 * h);
        weight.assign(original);
        original.dispose();
        const analytic = gradient[largest];
        assert.ok(
          Math.abs(numeric - analytic) <= 0.01 * Math.abs(analytic),
          `${layerId} weight ${index}: ∂L/∂w ${analytic}, finite difference ${numeric}`,
        );
      }
    } finally {
      gradients.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'every tensor is freed');
  });
});

describe('weights the graph does not compute with', () => {
  test('an ONNX batch normalisation (folded when loaded) has no gradient, and says so; the convolutions around it have theirs', async () => {
    const model = await loadModel(
      fileModelSource(path.join(repoRoot, 'test', 'fixtures', 'onnx', 'densenet-opset13', 'densenet-opset13.onnx')),
    );
    const before = tf.memory().numTensors;
    const input = tf.randomUniform([1, 64, 64, 3], -1, 1, 'float32', 3);
    const gradients = await weightGradients(model, input);
    try {
      const norm = '/features/denseblock1/denselayer1/norm1/BatchNormalization';
      const conv = '/features/denseblock1/denselayer1/conv1/Conv';
      assert.deepEqual(gradients.byLayer.get(norm), [undefined, undefined, undefined, undefined]);
      assert.ok(gradients.byLayer.get(conv)!.every((g) => g !== undefined));
      const rows = new Map((await layerOverview(model, gradients)).map((row) => [row.layerId, row]));
      assert.equal(rows.get(norm)!.weight, 'scale (γ)');
      assert.equal(rows.get(norm)!.ratio, undefined);
      assert.ok(rows.get(conv)!.ratio! > 0);
    } finally {
      gradients.dispose();
      input.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'every tensor is freed');
    model.dispose();
  });

  test('without an image, the overview has every layer’s weight spread and no ratio', async () => {
    const model = await loadModel(fileModelSource(sampleModel));
    try {
      const rows = await layerOverview(model);
      assert.deepEqual(
        rows.map((row) => [row.name, row.weight, row.ratio]),
        [
          ['conv1', 'kernel', undefined],
          ['conv2', 'kernel', undefined],
          ['conv3', 'kernel', undefined],
          ['predictions', 'kernel', undefined],
        ],
      );
      const conv2 = await tensorStatistics(model.weights('conv2')[0]);
      assert.ok(Math.abs(rows[1].weightStd - conv2.std) <= 1e-5 * conv2.std);
    } finally {
      model.dispose();
    }
  });
});
