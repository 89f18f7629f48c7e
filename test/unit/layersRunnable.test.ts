/**
 * TensorFlow.js layers models as runnable graphs: layer-by-layer execution must give exactly what
 * TensorFlow.js's own `predict` gives, for the whole model, for intermediate layers, and when cut in two.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { predict, runGraph, singleInput, splitModel } from '../../src/engine/execute';
import type { RunnableModel } from '../../src/engine/graph';
import { layersRunnable } from '../../src/engine/readers/layers/layersRunnable';
import { summarizeLayersModel } from '../../src/engine/readers/layers/layersModelSummary';
import { loadTfjsLayers } from '../../src/engine/readers/tfjs/tfjsLayers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { needsShared, sampleModel, shared } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

before(() => useNodeBackend());

/** The same file loaded by TensorFlow.js's own loader: the reference. */
async function referenceModel(modelJsonPath: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8'));
  const specs = json.weightsManifest.flatMap((group: { weights: unknown[] }) => group.weights);
  const shards = json.weightsManifest.flatMap((group: { paths: string[] }) =>
    group.paths.map((p) => readFileSync(path.join(path.dirname(modelJsonPath), p))),
  );
  const data = new Uint8Array(Buffer.concat(shards)).buffer;
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data }));
}

function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function seededInput(model: RunnableModel, batch: number, scale: number): tf.Tensor {
  const [, ...rest] = model.inputs[0].shape as number[];
  return tf.randomUniform([batch, ...rest], 0, scale, 'float32', 7);
}

async function checkAgainstTfjs(modelJsonPath: string, inputScale: number, innerLayer: string) {
  const model = await loadTfjsLayers(fileModelSource(modelJsonPath));
  const reference = await referenceModel(modelJsonPath);
  try {
    const input = seededInput(model, 2, inputScale);
    const [ours] = predict(model, singleInput(model, input));
    const theirs = reference.predict(input) as tf.Tensor;
    assert.deepEqual(ours.shape, theirs.shape);
    assert.ok(maxAbsDifference(ours, theirs) < 1e-5, `output differs by ${maxAbsDifference(ours, theirs)}`);

    // An intermediate layer, against a tfjs sub-model ending there (top-level layers only: tfjs
    // cannot end a sub-model inside a nested one).
    const [inner] = runGraph(model, singleInput(model, input), [innerLayer]);
    if (!innerLayer.includes('/')) {
      const probe = tfl.model({ inputs: reference.inputs, outputs: reference.getLayer(innerLayer).output as tfl.SymbolicTensor });
      const expected = probe.predict(input) as tf.Tensor;
      assert.ok(maxAbsDifference(inner, expected) < 1e-5, `${innerLayer} differs by ${maxAbsDifference(inner, expected)}`);
      expected.dispose();
    }

    // Cut at the layer: the rest of the network as a function of its activation gives the same output.
    const split = splitModel(model, innerLayer);
    const { activation, context } = split.head(singleInput(model, input));
    const [rejoined] = split.tail(activation, context);
    assert.ok(maxAbsDifference(rejoined, ours) < 1e-6);
    // The first class's score (the sum over a softmax would have no gradient at all).
    const gradient = tf.grad((a: tf.Tensor) => tf.sum(tf.slice(split.tail(a, context)[0], [0, 0], [-1, 1])))(activation);
    assert.deepEqual(gradient.shape, activation.shape);
    assert.ok(tf.tidy(() => tf.sum(tf.abs(gradient)).dataSync()[0]) > 0, 'the gradient at the cut is not all zero');
    tf.dispose([input, ours, theirs, inner, activation, rejoined, gradient, ...context.values()]);
  } finally {
    model.dispose();
    reference.dispose();
  }
}

describe('TensorFlow.js layers models run layer by layer', () => {
  test("the sample CNN gives TensorFlow.js predict's output, and its conv2 activations", () => checkAgainstTfjs(sampleModel, 255, 'conv2'));

  test(
    "sign-language digits (Sequential with dropout) gives TensorFlow.js predict's output",
    needsShared('tfjs-layers-sign-language-digits/model.json'),
    () => checkAgainstTfjs(shared('tfjs-layers-sign-language-digits/model.json'), 1, 'conv2d_2'),
  );

  test(
    'Teachable Machine (MobileNet nested two levels deep) runs, and can be cut at an inner layer',
    needsShared('tfjs-layers-teachable-machine-7segment/model.json'),
    () => checkAgainstTfjs(shared('tfjs-layers-teachable-machine-7segment/model.json'), 1, 'sequential_1/model1/out_relu'),
  );

  test('loading, running and disposing frees every tensor', () =>
    assertNoTensorLeak(async () => {
      const model = await loadTfjsLayers(fileModelSource(sampleModel));
      const input = seededInput(model, 1, 255);
      tf.dispose(runGraph(model, singleInput(model, input), ['conv1', 'conv3', 'predictions']));
      input.dispose();
      model.dispose();
    }));

  test('running layers that make intermediates (ReLU6, batch norm) frees them', async () => {
    // MobileNets use ReLU(max_value=6), whose layer leaves a tensor behind on every call unless tidied.
    const input = tfl.input({ shape: [8, 8, 3] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3 }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU({ maxValue: 6 }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
    const layers = tfl.model({ inputs: input, outputs: x });
    const model = layersRunnable(layers, summarizeLayersModel(layers, { format: 'tfjs-layers', fileName: 'relu6.json' }));
    const image = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 3);
    await assertNoTensorLeak(async () => tf.dispose(predict(model, singleInput(model, image))));
    image.dispose();
    model.dispose();
  });

  test("an input gradient computes no weight gradient (no Conv2DBackpropFilter, the CPU backend's slowest kernel)", async () => {
    // Linear-activation convolutions (ResNet's, before batch norm) are the ones tfjs-layers would fuse.
    const input = tfl.input({ shape: [8, 8, 3] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, dilationRate: 1, activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.dense({ units: 3 }).apply(x) as tfl.SymbolicTensor;
    const layers = tfl.model({ inputs: input, outputs: x });
    const model = layersRunnable(layers, summarizeLayersModel(layers, { format: 'tfjs-layers', fileName: 'linear.json' }));
    const image = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 5);
    // The same outputs as tfjs-layers' own predict...
    const [ours] = predict(model, singleInput(model, image));
    const theirs = layers.predict(image) as tf.Tensor;
    assert.ok(maxAbsDifference(ours, theirs) < 1e-5);
    // ...and its input gradient runs only input-gradient kernels.
    const profile = await tf.profile(() => {
      const gradient = tf.grad((x: tf.Tensor) => tf.sum(predict(model, singleInput(model, x))[0]))(image);
      gradient.dispose();
    });
    const kernels = new Set(profile.kernels.map((k) => k.name));
    assert.ok(kernels.has('Conv2DBackpropInput'), [...kernels].join(', '));
    assert.ok(!kernels.has('Conv2DBackpropFilter'), [...kernels].join(', '));
    tf.dispose([ours, theirs, image]);
    model.dispose();
  });

  test('a channels-first convolution gives what tfjs-layers gives (its axes are not those of the plain-op run)', () => {
    const layers = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          filters: 4,
          kernelSize: 3,
          strides: 2,
          dataFormat: 'channelsFirst',
          activation: 'relu',
          inputShape: [3, 9, 7],
        }),
        tfl.layers.flatten(),
      ],
    });
    const model = layersRunnable(layers, summarizeLayersModel(layers, { format: 'tfjs-layers', fileName: 'channels-first.json' }));
    const image = tf.randomUniform([2, 3, 9, 7], -1, 1, 'float32', 11);
    const [ours] = predict(model, singleInput(model, image));
    const theirs = layers.predict(image) as tf.Tensor;
    assert.deepEqual(ours.shape, theirs.shape);
    assert.ok(maxAbsDifference(ours, theirs) < 1e-5, `differs by ${maxAbsDifference(ours, theirs)}`);
    tf.dispose([ours, theirs, image]);
    model.dispose();
  });
});
