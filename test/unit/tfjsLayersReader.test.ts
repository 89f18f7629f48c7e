import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { ModelReadError } from '../../src/engine/errors';
import { findLayer, walkLayers, type ModelSummary } from '../../src/engine/model';
import type { ModelSource } from '../../src/engine/modelSource';
import { readModelSummary } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { needsShared, sampleModel, shared } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

before(() => useNodeBackend());

/** Total weight values a tfjs model.json declares in its manifest: an independent parameter count. */
function manifestValueCount(modelJsonPath: string): number {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8'));
  let total = 0;
  for (const group of json.weightsManifest) {
    for (const weight of group.weights) total += weight.shape.reduce((n: number, d: number) => n * d, 1);
  }
  return total;
}

function memorySource(fileName: string, text: string | Uint8Array): ModelSource {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return {
    fileName,
    read: async () => bytes,
    readSibling: async (p) => {
      throw new Error(`no sibling ${p}`);
    },
  };
}

async function readError(source: ModelSource): Promise<ModelReadError> {
  const error = await readModelSummary(source).then(
    () => assert.fail('expected the model to be rejected'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ModelReadError, `expected a ModelReadError, got ${String(error)}`);
  return error;
}

describe('TensorFlow.js layers reader', () => {
  test('reads the sample Fashion-MNIST CNN: layers, output shapes and parameter counts', async () => {
    const summary = await readModelSummary(fileModelSource(sampleModel));
    assert.equal(summary.format, 'tfjs-layers');
    assert.equal(summary.fileName, 'model.json');
    assert.deepEqual(summary.inputShapes, [[null, 28, 28, 1]]);
    assert.deepEqual(summary.outputShapes, [[null, 10]]);
    // Counted by hand: a k×k conv has k·k·in·out weights and out biases; a dense layer in·out + out.
    const expected: [string, string, (number | null)[], number][] = [
      ['rescale', 'Rescaling', [null, 28, 28, 1], 0],
      ['conv1', 'Conv2D', [null, 28, 28, 16], 3 * 3 * 1 * 16 + 16],
      ['pool1', 'MaxPooling2D', [null, 14, 14, 16], 0],
      ['conv2', 'Conv2D', [null, 14, 14, 32], 3 * 3 * 16 * 32 + 32],
      ['pool2', 'MaxPooling2D', [null, 7, 7, 32], 0],
      ['conv3', 'Conv2D', [null, 7, 7, 48], 3 * 3 * 32 * 48 + 48],
      ['gap', 'GlobalAveragePooling2D', [null, 48], 0],
      ['predictions', 'Dense', [null, 10], 48 * 10 + 10],
    ];
    assert.deepEqual(
      summary.layers.map((l) => [l.name, l.type, l.outputShapes[0], l.params]),
      expected,
    );
    assert.equal(
      summary.totalParams,
      expected.reduce((n, [, , , p]) => n + p, 0),
    );
    assert.equal(summary.totalParams, manifestValueCount(sampleModel));
    assert.equal(summary.trainableParams, summary.totalParams);
    assert.deepEqual(findLayer(summary, 'conv2')?.inputs, ['pool1']);
  });

  test('frees every tensor it allocates while building the topology', async () => {
    await assertNoTensorLeak(() => readModelSummary(fileModelSource(sampleModel)));
  });

  test(
    'sign-language digits (converted from Keras 2.6): 198,106 parameters, as its source states',
    needsShared('tfjs-layers-sign-language-digits/model.json'),
    async () => {
      const file = shared('tfjs-layers-sign-language-digits/model.json');
      const summary = await readModelSummary(fileModelSource(file));
      assert.equal(summary.totalParams, 198_106);
      assert.equal(summary.totalParams, manifestValueCount(file));
      assert.deepEqual(summary.inputShapes, [[null, 64, 64, 1]]);
      const types = summary.layers.map((l) => l.type);
      assert.equal(types.filter((t) => t === 'Conv2D').length, 4);
      assert.equal(types.filter((t) => t === 'Dropout').length, 6);
      assert.equal(summary.layers.at(-1)?.type, 'Dense');
      assert.deepEqual(summary.layers.at(-1)?.outputShapes, [[null, 10]]);
    },
  );

  test(
    'Teachable Machine export: nested models become a tree, and counts include batch-norm statistics',
    needsShared('tfjs-layers-teachable-machine-7segment/model.json'),
    async () => {
      const file = shared('tfjs-layers-teachable-machine-7segment/model.json');
      const summary: ModelSummary = await readModelSummary(fileModelSource(file));
      assert.deepEqual(summary.inputShapes, [[null, 224, 224, 3]]);
      assert.deepEqual(summary.outputShapes, [[null, 10]]);
      assert.equal(summary.totalParams, manifestValueCount(file));
      assert.deepEqual(
        summary.layers.map((l) => [l.name, l.type]),
        [
          ['sequential_1', 'Sequential'],
          ['sequential_3', 'Sequential'],
        ],
      );
      const all = [...walkLayers(summary.layers)];
      const count = (type: string) => all.filter((l) => l.type === type).length;
      assert.equal(count('DepthwiseConv2D'), 17);
      assert.equal(count('BatchNormalization'), 52);
      assert.equal(count('Add'), 10);
      // A nested layer's id carries its path, and the parent's count is the sum of its children's.
      const mobilenet = findLayer(summary, 'sequential_1/model1');
      assert.ok(mobilenet?.children?.length);
      const sequential1 = summary.layers[0];
      assert.equal(
        sequential1.params,
        sequential1.children!.reduce((n, c) => n + c.params, 0),
      );
      assert.ok(summary.trainableParams < summary.totalParams, 'moving means and variances are not trainable');
    },
  );
});

describe('model files that cannot be shown get one clear sentence naming the file', () => {
  const cases: [string, string | Uint8Array, RegExp][] = [
    ['model.json', '{"modelTopology": ', /^model\.json is not valid JSON, so it cannot be a TensorFlow\.js model\.$/],
    ['model.json', new Uint8Array([0xff, 0xfe, 0x00, 0x81]), /^model\.json is not valid JSON, so it cannot be a TensorFlow\.js model\.$/],
    ['model.json', '[1, 2]', /^model\.json is not a TensorFlow\.js model: it holds no JSON object\.$/],
    ['package.json', '{"name": "x"}', /^package\.json is not a TensorFlow\.js model: it has no "modelTopology"\.$/],
    [
      'model.json',
      '{"modelTopology": {"class_name": "Sequential", "config": {"layers": [{"class_name": "NoSuchLayer", "config": {}}]}}}',
      /^model\.json has a layer topology that cannot be built: .*NoSuchLayer/,
    ],
    ['weights.onnx', 'x', /^weights\.onnx is not a readable ONNX model: /],
    ['notes.txt', 'x', /^notes\.txt is not a model file ConvLens knows/],
  ];
  for (const [fileName, content, message] of cases) {
    test(`${fileName}: ${message.source.slice(0, 60)}`, async () => {
      const error = await readError(memorySource(fileName, content));
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n|\bat .*\(.*:\d+:\d+\)/, 'no stack trace in the message');
    });
  }
});
