/**
 * Running ONNX models: every fixture's outputs against PyTorch's for the same input (batch 2 and 1),
 * intermediate activations in NHWC, cutting and differentiating as the explanation methods do, the
 * shared real models, and no tensor left behind.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { predict, runGraph, singleInput, splitModel } from '../../src/engine/execute';
import type { RunnableModel } from '../../src/engine/graph';
import { parseNpy, type NpyArray } from '../../src/engine/npy';
import { loadOnnx } from '../../src/engine/readers/onnx';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { needsShared, repoRoot, shared } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';
import { relativeError } from '../support/statistics';

before(() => useNodeBackend());

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'onnx');

interface Fixture {
  name: string;
  model: string;
  input: string;
  output: string;
  notes: string;
  intermediate?: { node: string; file: string };
}

const manifest: { fixtures: Fixture[] } = JSON.parse(readFileSync(path.join(fixtures, 'fixtures.json'), 'utf8'));
const TOLERANCE = 1e-4;

function npy(relative: string): NpyArray {
  return parseNpy(new Uint8Array(readFileSync(path.join(fixtures, relative))));
}

function load(name: string): Promise<RunnableModel> {
  return loadOnnx(fileModelSource(path.join(fixtures, manifest.fixtures.find((f) => f.name === name)!.model)));
}

/** The first `batch` images of an NCHW .npy, as the NHWC tensor ConvLens feeds. */
function nhwcImages(array: NpyArray, batch: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, channels, height, width] = array.shape;
    const nchw = tf.tensor4d(array.data.subarray(0, batch * channels * height * width), [batch, channels, height, width]);
    return tf.transpose(nchw, [0, 2, 3, 1]);
  });
}

function run(model: RunnableModel, input: tf.Tensor): tf.Tensor {
  const [output] = predict(model, singleInput(model, input));
  return output;
}

describe('ONNX fixtures compute what PyTorch computes', () => {
  for (const f of manifest.fixtures) {
    test(`${f.name} (${f.notes}): outputs within ${TOLERANCE} of PyTorch's, for batch 2 and batch 1`, async () => {
      const model = await load(f.name);
      const images = npy(f.input);
      const expected = npy(f.output);
      const classes = expected.shape[1];
      try {
        for (const batch of [2, 1]) {
          const input = nhwcImages(images, batch);
          const output = run(model, input);
          assert.deepEqual(output.shape, [batch, classes]);
          const error = relativeError(output.dataSync(), expected.data.subarray(0, batch * classes));
          assert.ok(error <= TOLERANCE, `batch ${batch}: relative error ${error.toExponential(2)}`);
          tf.dispose([input, output]);
        }
      } finally {
        model.dispose();
      }
    });
  }

  test("an intermediate activation (ResNet layer1) is NHWC and equals PyTorch's, transposed", async () => {
    const f = manifest.fixtures.find((x) => x.intermediate)!;
    const model = await load(f.name);
    const input = nhwcImages(npy(f.input), 2);
    try {
      const [activation] = runGraph(model, singleInput(model, input), [f.intermediate!.node]);
      const expected = npy(f.intermediate!.file);
      const [n, c, h, w] = expected.shape;
      assert.deepEqual(activation.shape, [n, h, w, c]);
      const reference = tf.tidy(() => tf.transpose(tf.tensor4d(expected.data, [n, c, h, w]), [0, 2, 3, 1]).dataSync());
      const error = relativeError(activation.dataSync(), reference);
      assert.ok(error <= TOLERANCE, `relative error ${error.toExponential(2)}`);
      const layer = model.summary.layers.find((l) => l.id === f.intermediate!.node)!;
      assert.deepEqual(layer.outputShapes, [[null, h, w, c]]);
      activation.dispose();
    } finally {
      input.dispose();
      model.dispose();
    }
  });

  test('a model cut at its last convolution: head then tail gives the outputs, and the tail is differentiable', async () => {
    const model = await load('mobilenet-v3-small-opset14');
    const input = nhwcImages(npy('inputs-64.npy'), 1);
    try {
      const lastConv = model.nodes.filter((n) => n.type === 'Conv').at(-1)!.id;
      const split = splitModel(model, lastConv);
      const { activation, context } = split.head(singleInput(model, input));
      assert.equal(activation.rank, 4, 'an NHWC activation');
      const [fromTail] = split.tail(activation, context);
      const whole = run(model, input);
      assert.ok(relativeError(fromTail.dataSync(), whole.dataSync()) < 1e-6);
      const gradient = tf.grad((a: tf.Tensor) => tf.sum(tf.gather(split.tail(a, context)[0], [3], 1)))(activation);
      assert.deepEqual(gradient.shape, activation.shape);
      assert.ok(gradient.dataSync().every(Number.isFinite));
      assert.ok(tf.tidy(() => tf.max(tf.abs(gradient)).dataSync()[0]) > 0, 'the score depends on the activation');
      tf.dispose([activation, fromTail, whole, gradient, ...context.values()]);
    } finally {
      input.dispose();
      model.dispose();
    }
  });

  test('loading, running and disposing leaves no tensor behind (shape arithmetic and folding included)', async () => {
    const images = npy('inputs-17.npy');
    for (const name of ['operator-mix-opset9', 'operator-mix-opset13', 'efficientnet-b0-opset17']) {
      const input = nhwcImages(name.startsWith('operator') ? images : npy('inputs-64.npy'), 2);
      await assertNoTensorLeak(async () => {
        const model = await load(name);
        tf.dispose(predict(model, singleInput(model, input)));
        model.dispose();
      });
      input.dispose();
    }
  });
});

describe('shared real ONNX models run', () => {
  const squeezenet = 'onnx-squeezenet1.0-fp16-imagenet/SqueezeNet_fp16.onnx';
  test(
    'SqueezeNet 1.0 fp16 (ImageNet): a probability for each of 1000 classes, and logits before the softmax',
    needsShared(squeezenet),
    async () => {
      const model = await loadOnnx(fileModelSource(shared(squeezenet)));
      const input = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 7);
      try {
        const output = run(model, input);
        assert.deepEqual(output.shape, [1, 1, 1, 1000]);
        const values = [...output.dataSync()];
        assert.ok(values.every((v) => Number.isFinite(v) && v >= 0));
        assert.ok(Math.abs(values.reduce((a, b) => a + b, 0) - 1) < 1e-4);
        assert.equal(model.nodes.find((n) => n.id === model.logits)?.type, 'GlobalAveragePool');
        output.dispose();
      } finally {
        input.dispose();
        model.dispose();
      }
    },
  );

  for (const [file, input, classes] of [
    ['onnx-mnist-8-model-zoo/mnist-8.onnx', [2, 28, 28, 1], 10],
    ['onnx-pytorch-cifar10-winml-tutorial/ImageClassifier.onnx', [2, 32, 32, 3], 10],
  ] as const) {
    test(`${path.basename(file)}: finite outputs of shape [2, ${classes}] on zeros and on noise`, needsShared(file), async () => {
      const model = await loadOnnx(fileModelSource(shared(file)));
      try {
        for (const x of [tf.zeros([...input]), tf.randomUniform([...input], 0, 1, 'float32', 3)]) {
          const output = run(model, x);
          assert.deepEqual(output.shape, [2, classes]);
          assert.ok(output.dataSync().every(Number.isFinite));
          tf.dispose([x, output]);
        }
      } finally {
        model.dispose();
      }
    });
  }

  const tf2onnx = 'onnx-tf2onnx-squeezenet-cifar10/squeezenet_cifar10.onnx';
  test('tf2onnx SqueezeNet: the NHWC input is used directly, its NCHW transpose costs nothing', needsShared(tf2onnx), async () => {
    const model = await loadOnnx(fileModelSource(shared(tf2onnx)));
    const input = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    try {
      assert.deepEqual(model.inputs, [{ id: 'input_1', shape: [null, 32, 32, 3] }]);
      const [transpose, conv] = model.nodes;
      assert.equal(transpose.type, 'Transpose');
      const [transposed, convolved, probabilities] = runGraph(model, singleInput(model, input), [transpose.id, conv.id, model.outputs[0]]);
      assert.deepEqual(transposed.shape, [2, 32, 32, 3]);
      assert.equal(relativeError(transposed.dataSync(), input.dataSync()), 0);
      // The first convolution, computed independently from the converted weights.
      const [kernel, bias] = model.weights(conv.id);
      // The file's first convolution: 3×3, stride 2, no padding, 64 filters.
      assert.deepEqual(model.summary.layers.find((l) => l.id === conv.id)?.outputShapes, [[null, 15, 15, 64]]);
      const expected = tf.tidy(() => tf.add(tf.conv2d(input, kernel as tf.Tensor4D, 2, 'valid'), bias));
      assert.deepEqual(convolved.shape, expected.shape);
      assert.ok(relativeError(convolved.dataSync(), expected.dataSync()) < 1e-5);
      assert.deepEqual(probabilities.shape, [2, 10]);
      const sums = tf.tidy(() => tf.sum(probabilities, 1).dataSync());
      assert.ok([...sums].every((s) => Math.abs(s - 1) < 1e-4));
      tf.dispose([transposed, convolved, probabilities, expected]);
    } finally {
      input.dispose();
      model.dispose();
    }
  });
});
