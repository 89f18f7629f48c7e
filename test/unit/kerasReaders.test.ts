/**
 * Keras files (.h5 and .keras, Keras 2 and 3) open with their architecture and weights, predicting as
 * the same model does in Keras's other formats and in TensorFlow.js, without leaking tensors; files that
 * cannot be opened get one sentence naming the file. Long because each format and Keras version has its
 * own cases over the same fixtures.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { ModelReadError } from '../../src/engine/errors';
import { walkLayers, type LayerInfo, type ModelSummary } from '../../src/engine/model';
import type { ModelSource } from '../../src/engine/modelSource';
import { readHdf5, type Hdf5File } from '../../src/engine/readers/keras/hdf5';
import { loadKerasH5 } from '../../src/engine/readers/keras/kerasH5';
import { loadKerasZip } from '../../src/engine/readers/keras/kerasZip';
import { summarizeLayersModel } from '../../src/engine/readers/layers/layersModelSummary';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { needsShared, repoRoot, shared } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

before(() => useNodeBackend());

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'keras');
const fixture = (name: string) => path.join(fixtures, name);
/** Reference predictions computed without Keras (see make_expected.py), keyed by file name. */
const expected: Record<string, { inputShape: number[]; output: number[] }> = JSON.parse(readFileSync(fixture('expected.json'), 'utf8'));

const FER2013 = fixture('fer2013_mini_XCEPTION.102-0.66.hdf5');
const MNIST = fixture('mnist-cnn.keras');
const CATS_SMALL = 'keras2-h5-cats-vs-dogs-small/cats_and_dogs_small_1.h5';
const SIGN_LANGUAGE = 'keras2-h5-sign-language-digits/sign_lang_model.h5';
const AUGMENTED = 'keras-zip-tfkeras2.15-cats-vs-dogs-augmented/convnet_from_scratch_with_augmentation.keras';

function load(source: ModelSource): Promise<tfl.LayersModel> {
  return source.fileName.endsWith('.keras') ? loadKerasZip(source) : loadKerasH5(source);
}

function memorySource(fileName: string, bytes: Uint8Array): ModelSource {
  return {
    fileName,
    read: async () => bytes,
    readSibling: async (p) => {
      throw new Error(`no sibling ${p}`);
    },
  };
}

/** The deterministic input make_expected.py uses: value i of the flattened input is ((i·37) mod 101) / 100. */
function patternInput(shape: number[]): tf.Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: count }, (_, i) => ((i * 37) % 101) / 100),
    shape,
  );
}

function predict(model: tfl.LayersModel, input: tf.Tensor): number[][] {
  return tf.tidy(() => (model.predict(input) as tf.Tensor).arraySync() as number[][]);
}

function maxDifference(a: number[][], b: number[][]): number {
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));
}

/** Top-level layers as the file's own config lists them: [name, class]. */
async function configLayers(filePath: string): Promise<[string, string][]> {
  const bytes = new Uint8Array(readFileSync(filePath));
  let config: { class_name: string; config: { layers?: unknown[] } | unknown[] };
  if (filePath.endsWith('.keras')) {
    config = JSON.parse(new TextDecoder().decode(unzipSync(bytes, { filter: (f) => f.name === 'config.json' })['config.json']));
  } else {
    config = await readHdf5(bytes, { fileName: filePath }, (file) => JSON.parse(file.text('/', 'model_config')!));
  }
  const layers = (Array.isArray(config.config) ? config.config : config.config.layers!) as {
    class_name: string;
    config: { name: string };
  }[];
  return layers.map((l) => [l.config.name, l.class_name]);
}

/** Weight values stored in the file for the model (not optimizer or metric state): an independent parameter count. */
async function storedWeightCount(filePath: string): Promise<number> {
  let bytes = new Uint8Array(readFileSync(filePath));
  const isZip = filePath.endsWith('.keras');
  if (isZip) bytes = unzipSync(bytes, { filter: (f) => f.name === 'model.weights.h5' })['model.weights.h5'];
  const count = (file: Hdf5File, group: string): number =>
    file.keys(group).reduce((sum, key) => {
      const child = `${group}/${key}`;
      return sum + (file.isDataset(child) ? file.floats(child).values.length : count(file, child));
    }, 0);
  return readHdf5(bytes, { fileName: filePath }, (file) => count(file, isZip ? '/layers' : '/model_weights'));
}

const row = (l: LayerInfo) => [l.name, l.type, l.outputShapes[0], l.params];

interface RealModel {
  label: string;
  file: string;
  skip: { skip: string | false };
  format: 'keras-h5' | 'keras-zip';
  name: string;
  totalParams: number;
  inputShape: (number | null)[];
  outputShape: (number | null)[];
  head: 'softmax' | 'sigmoid';
  check(summary: ModelSummary): void;
}

const realModels: RealModel[] = [
  {
    label: 'Keras 2.1.6 Sequential cats-vs-dogs (batch_input_shape, no InputLayer)',
    file: shared(CATS_SMALL),
    skip: needsShared(CATS_SMALL),
    format: 'keras-h5',
    name: 'sequential',
    totalParams: 187_649,
    inputShape: [null, 50, 50, 3],
    outputShape: [null, 1],
    head: 'sigmoid',
    check: (summary) =>
      // Counted by hand: a k×k conv has k·k·in·out weights plus out biases; a dense layer in·out + out.
      assert.deepEqual(summary.layers.map(row), [
        ['conv2d_4', 'Conv2D', [null, 48, 48, 32], 3 * 3 * 3 * 32 + 32],
        ['max_pooling2d_4', 'MaxPooling2D', [null, 24, 24, 32], 0],
        ['conv2d_5', 'Conv2D', [null, 22, 22, 64], 3 * 3 * 32 * 64 + 64],
        ['max_pooling2d_5', 'MaxPooling2D', [null, 11, 11, 64], 0],
        ['conv2d_6', 'Conv2D', [null, 9, 9, 64], 3 * 3 * 64 * 64 + 64],
        ['max_pooling2d_6', 'MaxPooling2D', [null, 4, 4, 64], 0],
        ['flatten_2', 'Flatten', [null, 1024], 0],
        ['dropout_1', 'Dropout', [null, 1024], 0],
        ['dense_3', 'Dense', [null, 128], 1024 * 128 + 128],
        ['dense_4', 'Dense', [null, 1], 128 + 1],
      ]),
  },
  {
    label: 'Keras 2.0.5 functional mini-Xception (BatchNormalization, SeparableConv2D, residual Add)',
    file: FER2013,
    skip: { skip: false },
    format: 'keras-h5',
    name: 'model_1',
    totalParams: 58_423,
    inputShape: [null, 64, 64, 1],
    outputShape: [null, 7],
    head: 'softmax',
    check: (summary) => {
      const counts: Record<string, number> = {};
      for (const layer of summary.layers) counts[layer.type] = (counts[layer.type] ?? 0) + 1;
      assert.deepEqual(counts, {
        InputLayer: 1,
        Conv2D: 7,
        BatchNormalization: 14,
        Activation: 7,
        SeparableConv2D: 8,
        MaxPooling2D: 4,
        Add: 4,
        GlobalAveragePooling2D: 1,
      });
      const byName = new Map(summary.layers.map((l) => [l.name, l]));
      // A 3×3 separable conv from 8 to 16 channels: 3·3·8 depthwise + 8·16 pointwise, no bias (batch norm follows).
      assert.deepEqual(row(byName.get('separable_conv2d_1')!), [
        'separable_conv2d_1',
        'SeparableConv2D',
        [null, 60, 60, 16],
        3 * 3 * 8 + 8 * 16,
      ]);
      // Batch normalisation keeps gamma and beta (trainable) and the moving mean and variance (not).
      assert.equal(byName.get('batch_normalization_1')!.params, 4 * 8);
      assert.equal(byName.get('batch_normalization_1')!.trainableParams, 2 * 8);
      assert.deepEqual(byName.get('add_1')!.inputs, ['max_pooling2d_1', 'batch_normalization_3']);
      assert.deepEqual(row(summary.layers.at(-1)!), ['predictions', 'Activation', [null, 7], 0]);
    },
  },
  {
    label: 'Keras 2.6 Sequential sign-language digits (InputLayer, six Dropouts)',
    file: shared(SIGN_LANGUAGE),
    skip: needsShared(SIGN_LANGUAGE),
    format: 'keras-h5',
    name: 'sequential_3',
    totalParams: 198_106,
    inputShape: [null, 64, 64, 1],
    outputShape: [null, 10],
    head: 'softmax',
    check: (summary) => {
      const types = summary.layers.map((l) => l.type);
      assert.equal(types.filter((t) => t === 'Conv2D').length, 4);
      assert.equal(types.filter((t) => t === 'Dropout').length, 6);
      assert.deepEqual(row(summary.layers.at(-1)!), ['out_layer', 'Dense', [null, 10], 128 * 10 + 10]);
    },
  },
  {
    label: 'Keras 3.15 .keras Sequential MNIST (batch_shape, DTypePolicy)',
    file: MNIST,
    skip: { skip: false },
    format: 'keras-zip',
    name: 'sequential',
    totalParams: 225_034,
    inputShape: [null, 28, 28, 1],
    outputShape: [null, 10],
    head: 'softmax',
    check: (summary) =>
      assert.deepEqual(summary.layers.map(row), [
        ['input_layer', 'InputLayer', [null, 28, 28, 1], 0],
        ['conv2d', 'Conv2D', [null, 26, 26, 32], 3 * 3 * 1 * 32 + 32],
        ['max_pooling2d', 'MaxPooling2D', [null, 13, 13, 32], 0],
        ['conv2d_1', 'Conv2D', [null, 11, 11, 64], 3 * 3 * 32 * 64 + 64],
        ['max_pooling2d_1', 'MaxPooling2D', [null, 5, 5, 64], 0],
        ['flatten', 'Flatten', [null, 1600], 0],
        ['dropout', 'Dropout', [null, 1600], 0],
        ['dense', 'Dense', [null, 128], 1600 * 128 + 128],
        ['dense_1', 'Dense', [null, 10], 128 * 10 + 10],
      ]),
  },
  {
    label: 'TF-Keras 2.15 .keras functional cats-vs-dogs (nested augmentation Sequential, Rescaling)',
    file: shared(AUGMENTED),
    skip: needsShared(AUGMENTED),
    format: 'keras-zip',
    name: 'model_2',
    // SOURCES.md counts 991,045 values in model.weights.h5: these plus 4 scalars of training metrics.
    totalParams: 991_041,
    inputShape: [null, 180, 180, 3],
    outputShape: [null, 1],
    head: 'sigmoid',
    check: (summary) => {
      const augmentation = summary.layers.find((l) => l.name === 'sequential')!;
      assert.equal(augmentation.type, 'Sequential');
      assert.deepEqual(augmentation.children!.map(row), [
        ['random_flip_input', 'InputLayer', [null, 180, 180, 3], 0],
        ['random_flip', 'RandomFlip', [null, 180, 180, 3], 0],
        ['random_rotation', 'RandomRotation', [null, 180, 180, 3], 0],
        ['random_zoom', 'RandomZoom', [null, 180, 180, 3], 0],
      ]);
      assert.deepEqual(summary.layers.find((l) => l.name === 'rescaling_1')!.inputs, ['sequential']);
      assert.equal(summary.layers.filter((l) => l.type === 'Conv2D').length, 5);
      assert.deepEqual(row(summary.layers.at(-1)!), ['dense_2', 'Dense', [null, 1], 7 * 7 * 256 + 1]);
    },
  },
];

describe('Keras models open with their architecture and weights', () => {
  for (const spec of realModels) {
    test(`${spec.label}: layers, shapes and parameter counts`, spec.skip, async () => {
      const source = fileModelSource(spec.file);
      const model = await load(source);
      try {
        const summary = summarizeLayersModel(model, { format: spec.format, fileName: source.fileName });
        assert.equal(summary.name, spec.name);
        assert.deepEqual(summary.inputShapes, [spec.inputShape]);
        assert.deepEqual(summary.outputShapes, [spec.outputShape]);
        assert.equal(summary.totalParams, spec.totalParams);
        assert.equal(summary.totalParams, await storedWeightCount(spec.file), 'every stored weight value is in the model');
        assert.equal(
          summary.totalParams,
          summary.layers.reduce((n, l) => n + l.params, 0),
        );
        const configured = await configLayers(spec.file);
        assert.deepEqual(
          summary.layers.map((l) => [l.name, l.type]),
          configured,
          'the layers the file configures, in its order',
        );
        for (const layer of walkLayers(summary.layers)) assert.ok(layer.outputShapes.length > 0, `${layer.id} has an output shape`);
        spec.check(summary);
      } finally {
        model.dispose();
      }
    });

    test(`${spec.label}: predictions match a reference computed without Keras`, spec.skip, async (t) => {
      const model = await load(fileModelSource(spec.file));
      const reference = expected[path.basename(spec.file)];
      const input = patternInput(reference.inputShape);
      try {
        const output = predict(model, input);
        const difference = maxDifference(output, [reference.output]);
        t.diagnostic(`max difference from the reference: ${difference.toExponential(2)}`);
        assert.ok(difference < 1e-5, `differs from the reference by ${difference}`);

        const batch = tf.randomUniform([2, ...spec.inputShape.slice(1).map(Number)], 0, 1, 'float32', 11);
        const rows = predict(model, batch);
        batch.dispose();
        for (const probabilities of rows) {
          assert.ok(probabilities.every(Number.isFinite));
          assert.ok(probabilities.every((p) => p >= 0 && p <= 1));
          if (spec.head === 'softmax') assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'probabilities sum to 1');
        }
      } finally {
        input.dispose();
        model.dispose();
      }
    });
  }

  test(
    'the sign-language model gives the same predictions as Keras .h5 and as TensorFlow.js model.json',
    needsShared(SIGN_LANGUAGE),
    async (t) => {
      const fromH5 = await loadKerasH5(fileModelSource(shared(SIGN_LANGUAGE)));
      const folder = shared('tfjs-layers-sign-language-digits');
      const json = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8'));
      const shard = new Uint8Array(readFileSync(path.join(folder, 'group1-shard1of1.bin')));
      const weightSpecs = json.weightsManifest.flatMap((group: { weights: tf.io.WeightsManifestEntry[] }) => group.weights);
      const fromTfjs = await tfl.loadLayersModel(
        tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: shard.buffer }),
      );
      const input = tf.randomUniform([8, 64, 64, 1], 0, 1, 'float32', 42);
      try {
        const difference = maxDifference(predict(fromH5, input), predict(fromTfjs, input));
        t.diagnostic(`max prediction difference, .h5 vs model.json: ${difference.toExponential(2)}`);
        assert.ok(difference <= 1e-4, `predictions differ by ${difference}`);
      } finally {
        input.dispose();
        fromH5.dispose();
        fromTfjs.dispose();
      }
    },
  );

  test('Keras 3 MNIST: the same input always gives the same prediction, and drawn digits are recognised', async () => {
    const model = await loadKerasZip(fileModelSource(MNIST));
    const draw = (inked: (r: number, c: number) => boolean) =>
      tf.tensor4d(
        Float32Array.from({ length: 28 * 28 }, (_, i) => (inked(Math.floor(i / 28), i % 28) ? 1 : 0)),
        [1, 28, 28, 1],
      );
    const digits: [number, tf.Tensor][] = [
      [1, draw((r, c) => r >= 4 && r <= 23 && c >= 13 && c <= 15)],
      [0, draw((r, c) => Math.hypot((r - 13.5) / 9, (c - 13.5) / 6.5) > 0.75 && Math.hypot((r - 13.5) / 9, (c - 13.5) / 6.5) < 1.05)],
      [7, draw((r, c) => (r >= 5 && r <= 7 && c >= 7 && c <= 21) || (r >= 7 && r <= 23 && Math.abs(c - (21 - (r - 7) * 0.45)) < 1.6))],
    ];
    try {
      for (const [digit, image] of digits) {
        const [first] = predict(model, image);
        const [second] = predict(model, image);
        assert.deepEqual(first, second, 'inference is deterministic');
        assert.equal(first.indexOf(Math.max(...first)), digit, `a drawn ${digit} is read as ${first.indexOf(Math.max(...first))}`);
      }
    } finally {
      tf.dispose(digits.map(([, image]) => image));
      model.dispose();
    }
  });

  test('TF-Keras 2.15 augmentation layers act as identity: the rescaling layer sees the input itself', needsShared(AUGMENTED), async () => {
    const model = await loadKerasZip(fileModelSource(shared(AUGMENTED)));
    const rescaling = model.getLayer('rescaling_1');
    const probe = tfl.model({
      inputs: model.inputs,
      outputs: [rescaling.input as tfl.SymbolicTensor, rescaling.output as tfl.SymbolicTensor],
    });
    const input = tf.randomUniform([2, 180, 180, 3], 0, 255, 'float32', 5);
    try {
      const [augmented, rescaled] = tf.tidy(() => (probe.predict(input) as tf.Tensor[]).map((t) => t.dataSync()));
      const original = input.dataSync();
      assert.ok(
        augmented.every((v, i) => v === original[i]),
        'RandomFlip, RandomRotation and RandomZoom leave the image as it is',
      );
      assert.ok(
        rescaled.every((v, i) => Math.abs(v - original[i] / 255) < 1e-6),
        'Rescaling(1/255) still applies',
      );
    } finally {
      input.dispose();
      model.dispose(); // the probe shares the model's layers and owns no weights of its own
    }
  });

  test('a .keras file that is HDF5 inside (Keras 2 saved under any name) opens as HDF5', async () => {
    const model = await loadKerasZip(memorySource('legacy.keras', new Uint8Array(readFileSync(FER2013))));
    try {
      assert.equal(model.countParams(), 58_423);
    } finally {
      model.dispose();
    }
  });

  test('loading, predicting and disposing leave no tensors behind', async () => {
    for (const file of [FER2013, MNIST]) {
      await assertNoTensorLeak(async () => {
        const model = await load(fileModelSource(file));
        tf.tidy(() => {
          model.predict(tf.zeros([1, ...model.inputs[0].shape.slice(1).map(Number)]));
        });
        model.dispose();
      });
    }
  });
});

describe('Keras files that cannot be opened get one clear sentence naming the file', () => {
  const mnistZip = unzipSync(new Uint8Array(readFileSync(MNIST)));
  const mnistConfig = () => JSON.parse(new TextDecoder().decode(mnistZip['config.json']));
  const kerasZip = (files: Record<string, Uint8Array | object>) =>
    zipSync(
      Object.fromEntries(
        Object.entries(files).map(([name, content]) => [name, content instanceof Uint8Array ? content : strToU8(JSON.stringify(content))]),
      ),
    );
  const withLayer = (index: number, change: (layer: { class_name: string; config: Record<string, unknown> }) => void) => {
    const config = mnistConfig();
    change(config.config.layers[index]);
    return config;
  };
  const fer2013 = new Uint8Array(readFileSync(FER2013));

  const cases: [string, string, () => Uint8Array, string | RegExp][] = [
    [
      'weights saved without the model',
      'weights.h5',
      () => new Uint8Array(readFileSync(fixture('weights-only.h5'))),
      'weights.h5 holds only weights: it has no model_config, so the architecture is missing. Save the whole model with model.save().',
    ],
    [
      'an HDF5 file that is no Keras model',
      'data.h5',
      () => new Uint8Array(readFileSync(fixture('dtypes.h5'))),
      'data.h5 is an HDF5 file but not a Keras model: it has no model_config attribute.',
    ],
    ['garbage named .h5', 'model.h5', () => strToU8('<html>Not Found</html>'), 'model.h5 is not an HDF5 file.'],
    ['an empty .h5', 'model.h5', () => new Uint8Array(0), 'model.h5 is not an HDF5 file.'],
    ['a truncated .h5', 'model.h5', () => fer2013.subarray(0, 500_000), /^model\.h5 is cut short: it ends before its HDF5 data does/],
    ['garbage named .keras', 'model.keras', () => strToU8('not a zip'), 'model.keras is not a Keras model archive: it is not a zip file.'],
    [
      'a truncated .keras',
      'model.keras',
      () => new Uint8Array(readFileSync(MNIST)).subarray(0, 1_000_000),
      'model.keras is a damaged zip archive that cannot be unpacked.',
    ],
    [
      'a zip without config.json',
      'model.keras',
      () => kerasZip({ 'metadata.json': { keras_version: '3.4.1' } }),
      'model.keras is not a Keras model archive: it has no config.json.',
    ],
    [
      'a config.json that is not JSON',
      'model.keras',
      () => kerasZip({ 'config.json': strToU8('{"class_name": ') }),
      'model.keras has a config.json that is not valid JSON.',
    ],
    [
      'an archive without its weights',
      'model.keras',
      () => kerasZip({ 'config.json': mnistConfig() }),
      "model.keras has no model.weights.h5, so the model's weights are missing.",
    ],
    [
      'truncated weights inside the archive',
      'model.keras',
      () => kerasZip({ 'config.json': mnistConfig(), 'model.weights.h5': mnistZip['model.weights.h5'].subarray(0, 100_000) }),
      'model.keras has a model.weights.h5 that is cut short, so its weights cannot be read.',
    ],
    [
      'a Lambda layer',
      'model.keras',
      () =>
        kerasZip({
          'config.json': withLayer(5, (l) =>
            Object.assign(l, { class_name: 'Lambda', config: { name: 'custom_fn', function: { class_name: '__lambda__' } } }),
          ),
        }),
      'model.keras has a layer "custom_fn" of class Lambda, which runs Python code and so cannot be rebuilt outside Python.',
    ],
    [
      'a custom layer class',
      'model.keras',
      () =>
        kerasZip({
          'config.json': withLayer(6, (l) => Object.assign(l, { class_name: 'MyAttention', registered_name: 'my_package>MyAttention' })),
        }),
      'model.keras has a layer "dropout" of class MyAttention, a custom or unsupported layer that cannot be rebuilt outside Keras.',
    ],
    [
      'weights that do not fit the architecture',
      'model.keras',
      () => kerasZip({ 'config.json': withLayer(7, (l) => (l.config.units = 64)), 'model.weights.h5': mnistZip['model.weights.h5'] }),
      'model.keras has a weight of shape [1600, 128] for layer "dense" (Dense) where [1600, 64] is needed (kernel).',
    ],
    [
      'an archive entry declaring more bytes than will be unpacked',
      'model.keras',
      () => {
        const zip = kerasZip({ 'config.json': mnistConfig() });
        const view = new DataView(zip.buffer);
        const directory = view.getUint32(zip.length - 22 + 16, true);
        view.setUint32(directory + 24, 0x7fffffff, true); // the entry's uncompressed size
        return zip;
      },
      'model.keras has a config.json of 2147483647 bytes, more than ConvLens will unpack.',
    ],
  ];

  for (const [label, fileName, bytes, message] of cases) {
    test(label, { timeout: 30_000 }, async () => {
      const error = await load(memorySource(fileName, bytes())).then(
        () => assert.fail('expected the model to be rejected'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ModelReadError, `expected a ModelReadError, got ${String(error)}`);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n|\bat .*\(.*:\d+:\d+\)/, 'no stack trace in the message');
    });
  }

  test('a model rejected after it was built frees its tensors', async () => {
    const bytes = kerasZip({ 'config.json': withLayer(7, (l) => (l.config.units = 64)), 'model.weights.h5': mnistZip['model.weights.h5'] });
    await assertNoTensorLeak(() => loadKerasZip(memorySource('model.keras', bytes)).catch((e: unknown) => e));
  });
});
