/**
 * The ONNX reader's view of a model: the layer summary (read without decoding weights), the runnable
 * graph's structure, and the one-sentence errors for files it cannot use.
 * Fixtures: test/fixtures/onnx (made by make_fixtures.py); shared real models where present.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { ModelReadError } from '../../src/engine/errors';
import { findLayer, type ModelSummary } from '../../src/engine/model';
import type { ModelSource } from '../../src/engine/modelSource';
import { loadOnnx, readOnnxSummary } from '../../src/engine/readers/onnx';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { needsShared, repoRoot, shared } from '../support/paths';

before(() => useNodeBackend());

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'onnx');

interface Fixture {
  name: string;
  model: string;
  nodes: number;
  params: number;
  opTypes: string[];
}

const manifest: { fixtures: Fixture[]; unsupported: string } = JSON.parse(readFileSync(path.join(fixtures, 'fixtures.json'), 'utf8'));

function fixtureSource(relative: string): ModelSource {
  return fileModelSource(path.join(fixtures, relative));
}

function fixture(name: string): ModelSource {
  return fixtureSource(manifest.fixtures.find((f) => f.name === name)!.model);
}

function memorySource(fileName: string, bytes: Uint8Array, siblings: Record<string, Uint8Array> = {}): ModelSource {
  return {
    fileName,
    read: async () => bytes,
    readSibling: async (name) => {
      if (!(name in siblings)) throw new Error(`no file ${name}`);
      return siblings[name];
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<ModelReadError> {
  const error = await promise.then(
    () => assert.fail('expected the model to be rejected'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ModelReadError, `expected a ModelReadError, got ${String(error)}`);
  assert.doesNotMatch(error.message, /\n/, 'one line');
  assert.doesNotMatch(error.message, /\bat .*:\d+:\d+/, 'no stack trace');
  return error;
}

describe('ONNX summary', () => {
  for (const f of manifest.fixtures) {
    test(`${f.name}: one layer per node, and parameters equal to the float initializers' sizes`, async () => {
      const summary = await readOnnxSummary(fixtureSource(f.model));
      assert.equal(summary.format, 'onnx');
      assert.equal(summary.fileName, path.basename(f.model));
      assert.equal(summary.layers.length, f.nodes);
      assert.equal(summary.totalParams, f.params);
      assert.equal(summary.trainableParams, f.params);
      assert.deepEqual([...new Set(summary.layers.map((l) => l.type))].sort(), f.opTypes);
      assert.equal(new Set(summary.layers.map((l) => l.id)).size, summary.layers.length, 'layer ids are unique');
      for (const layer of summary.layers) {
        assert.ok(
          layer.outputShapes.length > 0 && layer.outputShapes.every((shape) => shape.slice(1).every((d) => d !== null)),
          `${layer.id}: only the batch is free`,
        );
      }
      // Every layer's inputs are earlier layers.
      const seen = new Set<string>();
      for (const layer of summary.layers) {
        for (const input of layer.inputs) assert.ok(seen.has(input), `${layer.id} reads ${input} before it is computed`);
        seen.add(layer.id);
      }
    });
  }

  test('ResNet: NHWC shapes with a free batch, per-layer parameters, and the residual Add reading both branches', async () => {
    const summary = await readOnnxSummary(fixture('resnet-basic-opset9'));
    assert.deepEqual(summary.inputShapes, [[null, 64, 64, 3]]);
    assert.deepEqual(summary.outputShapes, [[null, 10]]);
    const conv1 = summary.layers[0];
    assert.equal(conv1.type, 'Conv');
    assert.deepEqual(conv1.outputShapes, [[null, 32, 32, 8]]);
    // The batch norm folded into the convolution by the exporter: 7·7·3·8 weights and 8 biases.
    assert.equal(conv1.params, 7 * 7 * 3 * 8 + 8);
    const pool = summary.layers.find((l) => l.type === 'GlobalAveragePool')!;
    assert.deepEqual(pool.outputShapes, [[null, 1, 1, 64]]);
    const flatten = summary.layers.find((l) => l.type === 'Flatten')!;
    assert.deepEqual(flatten.outputShapes, [[null, 64]]);
    const fc = summary.layers.find((l) => l.type === 'Gemm')!;
    assert.equal(fc.params, 64 * 10 + 10);
    const add = summary.layers.find((l) => l.type === 'Add')!;
    assert.equal(add.inputs.length, 2);
    assert.ok(add.inputs.every((id) => findLayer(summary, id)));
  });

  test('a model with NHWC input and a leading Transpose keeps the NHWC input as it is', async () => {
    const summary = await readOnnxSummary(fixture('channels-last-input-opset13'));
    assert.deepEqual(summary.inputShapes, [[null, 64, 64, 3]]);
    assert.deepEqual(summary.layers[0].outputShapes, [[null, 64, 64, 3]], 'the NCHW transpose is stored NHWC: the input itself');
    assert.deepEqual(summary.layers[1].outputShapes, [[null, 32, 32, 8]]);
  });

  test('weights listed among the graph inputs (older exporters) are weights, not inputs', async () => {
    const summary = await readOnnxSummary(fixture('mobilenet-v2-opset8'));
    assert.deepEqual(summary.inputShapes, [[null, 64, 64, 3]]);
    const model = await loadOnnx(fixture('mobilenet-v2-opset8'));
    try {
      assert.deepEqual(model.inputs, [{ id: 'input', shape: [null, 64, 64, 3] }]);
    } finally {
      model.dispose();
    }
  });

  test('the summary reads neither the weights nor an external data file', async () => {
    const f = manifest.fixtures.find((x) => x.name === 'vgg11-bn-external-opset12')!;
    const bytes = new Uint8Array(readFileSync(path.join(fixtures, f.model)));
    const summary = await readOnnxSummary(memorySource(path.basename(f.model), bytes));
    assert.equal(summary.totalParams, f.params);
    assert.deepEqual(summary.layers.find((l) => l.type === 'Flatten')?.outputShapes, [[null, 256]]);
    const error = await rejection(loadOnnx(memorySource(path.basename(f.model), bytes)));
    assert.equal(
      error.message,
      'vgg11-bn-external-opset12.onnx keeps its weights in "vgg11-bn-external-opset12.onnx.data", which cannot be read beside it.',
    );
  });

  test('the name is the graph name; layer ids are node names, or made up and unique where names are missing', async () => {
    const summary = await readOnnxSummary(fixture('lrn-softmax-opset11'));
    assert.equal(summary.name, 'lrn_softmax');
    assert.deepEqual(
      summary.layers.map((l) => l.id),
      ['conv', 'lrn', 'softmax_hw', 'softmax_chw', 'pooled', 'flatten'],
    );
  });
});

describe('ONNX runnable structure', () => {
  test('every layer of the summary is a node of the runnable graph, in an order that runs', async () => {
    const model = await loadOnnx(fixture('densenet-opset13'));
    try {
      const ids = model.nodes.map((n) => n.id);
      assert.deepEqual(
        model.summary.layers.map((l) => l.id).filter((id) => ids.includes(id)),
        model.summary.layers.map((l) => l.id),
      );
      const known = new Set(model.inputs.map((i) => i.id));
      for (const node of model.nodes) {
        for (const input of node.inputs) assert.ok(known.has(input), `${node.id} reads ${input} before it is computed`);
        known.add(node.id);
      }
      assert.deepEqual(model.outputs, [model.summary.layers.at(-1)!.id]);
      assert.equal(model.nodes.find((n) => n.type === 'Relu')?.endsWithRelu, true);
    } finally {
      model.dispose();
    }
  });

  test('weights come converted for tfjs: HWIO kernels, [in, out] dense matrices, depthwise [h, w, channels, multiplier]', async () => {
    const model = await loadOnnx(fixture('mobilenet-v2-opset11'));
    try {
      const convs = model.summary.layers.filter((l) => l.type === 'Conv');
      assert.deepEqual(
        model.weights(convs[0].id).map((w) => w.shape),
        [[3, 3, 3, 8], [8]],
      );
      assert.deepEqual(
        model.weights(convs[1].id).map((w) => w.shape),
        [[3, 3, 8, 1], [8]],
        'the first depthwise convolution',
      );
      const gemm = model.summary.layers.find((l) => l.type === 'Gemm')!;
      assert.deepEqual(
        model.weights(gemm.id).map((w) => w.shape),
        [[1280, 10], [10]],
      );
      assert.deepEqual(model.weights(model.summary.layers.find((l) => l.type === 'Clip')!.id), []);
      // Weights sum to the parameter count.
      const total = model.summary.layers.reduce((n, l) => n + model.weights(l.id).reduce((m, w) => m + w.size, 0), 0);
      assert.equal(total, model.summary.totalParams);
    } finally {
      model.dispose();
    }
  });

  test('shape arithmetic on constants is folded when the model loads', async () => {
    // F.pad at opset 11 computes its pads with ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast.
    const model = await loadOnnx(fixture('operator-mix-opset11'));
    try {
      const folded = model.nodes.filter(
        (n) => ['ConstantOfShape', 'Cast', 'Slice', 'Transpose', 'Reshape'].includes(n.type!) && n.inputs.length === 0,
      );
      assert.ok(folded.length >= 8, `only ${folded.length} nodes were folded`);
      const pad = model.nodes.find((n) => n.type === 'Pad')!;
      assert.equal(pad.inputs.length, 1, 'the pads are constant, only the data is read when running');
    } finally {
      model.dispose();
    }
  });

  test('loading and disposing a model frees every tensor it made', async () => {
    const before = tf.memory().numTensors;
    for (const name of ['vgg11-bn-external-opset12', 'operator-mix-opset13', 'squeezenet1_1-fp16-opset10'])
      (await loadOnnx(fixture(name))).dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('shared real ONNX models', () => {
  const cases: [string, { layers: number; params: number; input: (number | null)[]; output: (number | null)[]; name: string }][] = [
    ['onnx-mnist-8-model-zoo/mnist-8.onnx', { layers: 12, params: 5994, input: [null, 28, 28, 1], output: [null, 10], name: 'CNTKGraph' }],
    [
      'onnx-squeezenet1.0-fp16-imagenet/SqueezeNet_fp16.onnx',
      { layers: 66, params: 1_235_496, input: [null, 224, 224, 3], output: [null, 1, 1, 1000], name: 'squeezenet_old' },
    ],
    [
      'onnx-pytorch-cifar10-winml-tutorial/ImageClassifier.onnx',
      { layers: 12, params: 50_182, input: [null, 32, 32, 3], output: [null, 10], name: 'torch-jit-export' },
    ],
    [
      'onnx-tf2onnx-squeezenet-cifar10/squeezenet_cifar10.onnx',
      { layers: 30, params: 73_546, input: [null, 32, 32, 3], output: [null, 10], name: 'tf2onnx' },
    ],
  ];
  for (const [file, expected] of cases) {
    test(
      `${path.basename(file)}: ${expected.layers} layers, ${expected.params} parameters, input ${JSON.stringify(expected.input)}`,
      needsShared(file),
      async () => {
        const summary: ModelSummary = await readOnnxSummary(fileModelSource(shared(file)));
        assert.equal(summary.name, expected.name);
        assert.equal(summary.layers.length, expected.layers);
        assert.equal(summary.totalParams, expected.params);
        assert.deepEqual(summary.inputShapes, [expected.input]);
        assert.deepEqual(summary.outputShapes, [expected.output]);
        assert.ok(
          summary.layers.every((l) => l.outputShapes.length > 0),
          'every shape is worked out',
        );
      },
    );
  }

  test(
    'SqueezeNet fp16: the caffe2 Fire modules concatenate NHWC activations on the channel axis',
    needsShared('onnx-squeezenet1.0-fp16-imagenet/SqueezeNet_fp16.onnx'),
    async () => {
      const summary = await readOnnxSummary(fileModelSource(shared('onnx-squeezenet1.0-fp16-imagenet/SqueezeNet_fp16.onnx')));
      const concat = summary.layers.find((l) => l.type === 'Concat')!;
      assert.deepEqual(concat.outputShapes, [[null, 55, 55, 128]]);
      assert.equal(summary.layers.filter((l) => l.type === 'Conv').length, 26);
    },
  );
});

describe('ONNX files that cannot be used get one clear sentence naming the file', () => {
  test('an operator ConvLens cannot run: the model opens, and loading names the node and the operator', async () => {
    const source = fixtureSource(manifest.unsupported);
    const summary = await readOnnxSummary(source);
    assert.deepEqual(
      summary.layers.map((l) => [l.id, l.type]),
      [
        ['conv', 'Conv'],
        ['mystery_node', 'Mystery'],
      ],
    );
    assert.deepEqual(summary.layers[0].outputShapes, [[null, 4, 4, 2]], 'the batch is free whatever the file says');
    const error = await rejection(loadOnnx(source));
    assert.equal(
      error.message,
      'unsupported-op.onnx uses the operator com.example.Mystery (node "mystery_node"), which ConvLens cannot run yet.',
    );
  });

  const resnet = () => new Uint8Array(readFileSync(path.join(fixtures, manifest.fixtures[0].model)));
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty', () => new Uint8Array(0), /^model\.onnx is empty\.$/],
    ['text', () => new TextEncoder().encode('{"modelTopology": {}}'), /^model\.onnx is not a readable ONNX model: /],
    ['garbage', () => Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 251), /^model\.onnx is not a readable ONNX model: /],
    ['truncated in the middle', () => resnet().slice(0, 150_000), /^model\.onnx is not a readable ONNX model: .*truncated/],
    ['truncated to its header', () => resnet().slice(0, 40), /^model\.onnx is not a readable ONNX model: /],
  ];
  for (const [what, bytes, message] of cases) {
    test(`${what} bytes`, async () => {
      const error = await rejection(readOnnxSummary(memorySource('model.onnx', bytes())));
      assert.match(error.message, message);
      await rejection(loadOnnx(memorySource('model.onnx', bytes())));
    });
  }

  test('a truncated external data file', async () => {
    const f = manifest.fixtures.find((x) => x.name === 'vgg11-bn-external-opset12')!;
    const main = new Uint8Array(readFileSync(path.join(fixtures, f.model)));
    const data = new Uint8Array(readFileSync(path.join(fixtures, `${f.model}.data`)));
    const source = memorySource('vgg.onnx', main, { [`${path.basename(f.model)}.data`]: data.slice(0, data.length - 100) });
    const error = await rejection(loadOnnx(source));
    assert.match(
      error.message,
      /^vgg\.onnx cannot be loaded: the tensor ".*" lies past the end of "vgg11-bn-external-opset12\.onnx\.data" \(the file may be truncated\)\.$/,
    );
  });

  test('bit flips and truncations anywhere: a model or a ModelReadError, never an internal error or a leak', async () => {
    const sources = manifest.fixtures
      .filter((f) => f.params < 100_000)
      .map((f) => new Uint8Array(readFileSync(path.join(fixtures, f.model))));
    const before = tf.memory().numTensors;
    let state = 12345;
    const next = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
    let rejected = 0;
    for (let i = 0; i < 240; i++) {
      const original = sources[i % sources.length];
      const bytes = i % 2 ? original.slice(0, Math.floor(next() * original.length)) : original.slice();
      if (i % 2 === 0) for (let k = 0; k < 4; k++) bytes[Math.floor(next() * Math.min(bytes.length, 4096))] ^= 1 << Math.floor(next() * 8);
      try {
        await readOnnxSummary(memorySource('damaged.onnx', bytes));
        (await loadOnnx(memorySource('damaged.onnx', bytes))).dispose();
      } catch (error) {
        assert.ok(error instanceof ModelReadError, `variant ${i}: ${String(error)}`);
        assert.ok(error.message.startsWith('damaged.onnx ') && !error.message.includes('\n'), error.message);
        assert.ok(
          !(error.cause instanceof TypeError || error.cause instanceof ReferenceError),
          `variant ${i}: internal error ${String(error.cause)}`,
        );
        rejected++;
      }
    }
    assert.ok(rejected > 120, `only ${rejected} damaged files were rejected`);
    assert.equal(tf.memory().numTensors, before, 'damaged files leaked tensors');
  });
});
