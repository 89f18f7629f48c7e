import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  convertKeras3Topology,
  convertKeras3WeightsManifest,
  convertKerasModelConfig,
  walkLayerConfigs,
} from '../../src/engine/readers/keras/keras3Config';
import { KerasConfigError, type Json, type JsonObject } from '../../src/engine/readers/keras/kerasJson';
import { SavedNameCounter, toSnakeCase } from '../../src/engine/readers/keras/kerasWeights';
import { useNodeBackend } from '../../src/node/tfBackend';
import { needsShared, shared } from '../support/paths';

before(() => useNodeBackend());

// Small configs in the shape Keras 3 writes them (abridged: keys tfjs ignores are left out).
const policy = (name = 'float32'): JsonObject => ({ module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null });
const initializer = (className: string): JsonObject => ({
  module: 'keras.initializers',
  class_name: className,
  config: { seed: null },
  registered_name: null,
});
const tensor = (layer: string, node = 0, index = 0, shape: Json = [null, 4]): JsonObject => ({
  class_name: '__keras_tensor__',
  config: { shape, dtype: 'float32', keras_history: [layer, node, index] },
});
const call = (...args: Json[]): JsonObject => ({ args, kwargs: {} });

function keras3Dense(name: string, units: number, extra: JsonObject = {}): JsonObject {
  return {
    module: 'keras.layers',
    class_name: 'Dense',
    config: {
      name,
      trainable: true,
      dtype: policy(),
      units,
      activation: 'relu',
      use_bias: true,
      kernel_initializer: initializer('GlorotUniform'),
      bias_initializer: initializer('Zeros'),
      kernel_regularizer: { module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.01 }, registered_name: null },
      quantization_config: null,
      ...extra,
    },
    registered_name: null,
    build_config: { input_shape: [null, 4] },
  };
}

function keras3Input(name: string, batchShape: Json = [null, 4]): JsonObject {
  return {
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: { batch_shape: batchShape, dtype: 'float32', sparse: false, name },
    registered_name: null,
    name,
    inbound_nodes: [],
  };
}

async function build(config: JsonObject): Promise<tfl.LayersModel> {
  return tfl.models.modelFromJSON({ modelTopology: config as never });
}

function conversionError(run: () => unknown): KerasConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof KerasConfigError, `expected a KerasConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}

describe('Keras 3 config conversion', () => {
  test('a Sequential: wrappers stripped, dtype policies and batch_shape rewritten, training-only settings dropped', async () => {
    const converted = convertKerasModelConfig({
      module: 'keras',
      class_name: 'Sequential',
      config: {
        name: 'tiny',
        trainable: true,
        dtype: policy(),
        layers: [keras3Input('input_layer'), keras3Dense('hidden', 3), keras3Dense('out', 2)],
      },
      registered_name: null,
      build_config: { input_shape: [null, 4] },
      compile_config: { optimizer: 'adam' },
    });
    const text = JSON.stringify(converted);
    for (const gone of [
      'module',
      'registered_name',
      'build_config',
      'compile_config',
      'batch_shape',
      'DTypePolicy',
      'GlorotUniform',
      '"L2"',
    ]) {
      assert.ok(!text.includes(gone), `${gone} should be gone from ${text}`);
    }
    const [input, hidden] = (converted.config as JsonObject).layers as JsonObject[];
    assert.deepEqual((input.config as JsonObject).batch_input_shape, [null, 4]);
    assert.equal((hidden.config as JsonObject).dtype, 'float32');
    assert.deepEqual((hidden.config as JsonObject).kernel_initializer, { class_name: 'Zeros', config: {} });
    assert.equal((hidden.config as JsonObject).kernel_regularizer, null);

    const model = await build(converted);
    try {
      assert.equal(model.name, 'tiny');
      assert.deepEqual(model.outputs[0].shape, [null, 2]);
      assert.equal(model.countParams(), 4 * 3 + 3 + 3 * 2 + 2);
    } finally {
      model.dispose();
    }
  });

  test('a functional model: {args, kwargs} calls become Keras 2 node lists, a nested Sequential counts its built-in node', async () => {
    const nested: JsonObject = {
      module: 'keras',
      class_name: 'Sequential',
      config: { name: 'block', layers: [keras3Input('block_input'), keras3Dense('inner', 4)] },
      registered_name: null,
      name: 'block',
      inbound_nodes: [call(tensor('inputs'))],
    };
    const add: JsonObject = {
      module: 'keras.layers',
      class_name: 'Add',
      config: { name: 'add', trainable: true, dtype: policy() },
      registered_name: null,
      name: 'add',
      inbound_nodes: [call([tensor('block'), tensor('inputs')])],
    };
    const head = { ...keras3Dense('head', 2, { activation: 'silu' }), name: 'head', inbound_nodes: [call(tensor('add'))] };
    const converted = convertKerasModelConfig({
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: {
        name: 'graph',
        trainable: true,
        layers: [keras3Input('inputs'), nested, add, head],
        input_layers: ['inputs', 0, 0],
        output_layers: { head: ['head', 0, 0] },
      },
      registered_name: 'Functional',
    });
    const layers = (converted.config as JsonObject).layers as JsonObject[];
    const nodesOf = (name: string) => layers.find((l) => l.name === name)!.inbound_nodes;
    assert.deepEqual(nodesOf('block'), [[['inputs', 0, 0, {}]]]);
    assert.deepEqual(nodesOf('add'), [
      [
        ['block', 1, 0, {}],
        ['inputs', 0, 0, {}],
      ],
    ]);
    assert.deepEqual((converted.config as JsonObject).input_layers, [['inputs', 0, 0]]);
    assert.deepEqual((converted.config as JsonObject).output_layers, [['head', 0, 0]]);
    assert.equal((layers[3].config as JsonObject).activation, 'swish', 'silu is tfjs swish');

    const model = await build(converted);
    try {
      assert.equal(model.name, 'graph');
      assert.deepEqual(
        model.getLayer('add').inboundNodes[0].inboundLayers.map((l) => l.name),
        ['block', 'inputs'],
      );
      assert.deepEqual(model.outputs[0].shape, [null, 2]);
      const y = tf.tidy(() => (model.predict(tf.ones([1, 4])) as tf.Tensor).arraySync());
      assert.deepEqual(y, [[0, 0]], 'weights start at zero: the file supplies them');
    } finally {
      model.dispose();
    }
  });

  test('a nested Sequential named as a model output points past its built-in node', () => {
    const converted = convertKerasModelConfig({
      class_name: 'Functional',
      config: {
        name: 'wrapper',
        layers: [
          keras3Input('x'),
          {
            class_name: 'Sequential',
            config: { name: 'body', layers: [keras3Input('body_in'), keras3Dense('d', 2)] },
            name: 'body',
            inbound_nodes: [call(tensor('x'))],
          },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['body', 0, 0]],
      },
    });
    assert.deepEqual((converted.config as JsonObject).output_layers, [['body', 1, 0]]);
  });

  test('Keras 2 configs keep their meaning: node lists untouched, list-form Sequential named', () => {
    const functional = convertKerasModelConfig({
      class_name: 'Model',
      config: {
        name: 'model_1',
        layers: [
          {
            class_name: 'InputLayer',
            name: 'input_1',
            config: { batch_input_shape: [null, 4], dtype: 'float32', name: 'input_1' },
            inbound_nodes: [],
          },
          {
            class_name: 'Dense',
            name: 'dense_1',
            config: { name: 'dense_1', units: 2, activation: 'softmax' },
            inbound_nodes: [[['input_1', 0, 0, {}]]],
          },
        ],
        input_layers: [['input_1', 0, 0]],
        output_layers: [['dense_1', 0, 0]],
      },
    });
    assert.equal(functional.class_name, 'Model');
    assert.deepEqual(((functional.config as JsonObject).layers as JsonObject[])[1].inbound_nodes, [[['input_1', 0, 0, {}]]]);

    const listForm = convertKerasModelConfig({
      class_name: 'Sequential',
      config: [{ class_name: 'Dense', config: { name: 'd', units: 1, batch_input_shape: [null, 3] } }],
    });
    assert.equal((listForm.config as JsonObject).name, 'sequential');
    assert.equal(((listForm.config as JsonObject).layers as JsonObject[]).length, 1);
  });

  test('a Sequential without an input layer takes its input shape from the build config', async () => {
    const converted = convertKerasModelConfig({
      class_name: 'Sequential',
      config: { name: 'no_input', layers: [keras3Dense('d', 2)] },
      build_config: { input_shape: [null, 4] },
    });
    const model = await build(converted);
    try {
      assert.deepEqual(model.inputs[0].shape, [null, 4]);
    } finally {
      model.dispose();
    }
  });

  test('dtype policies: mixed precision and float16 run in float32', () => {
    const converted = convertKerasModelConfig({
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [keras3Input('i'), keras3Dense('a', 2, { dtype: policy('mixed_float16') }), keras3Dense('b', 2, { dtype: 'float16' })],
      },
    });
    const [, a, b] = (converted.config as JsonObject).layers as JsonObject[];
    assert.equal((a.config as JsonObject).dtype, 'float32');
    assert.equal((b.config as JsonObject).dtype, 'float32');
  });

  test('LeakyReLU: Keras 3 negative_slope becomes alpha', () => {
    const converted = convertKerasModelConfig({
      class_name: 'Sequential',
      config: { name: 's', layers: [keras3Input('i'), { class_name: 'LeakyReLU', config: { name: 'leaky', negative_slope: 0.1 } }] },
    });
    const leaky = ((converted.config as JsonObject).layers as JsonObject[])[1].config as JsonObject;
    assert.equal(leaky.alpha, 0.1);
    assert.ok(!('negative_slope' in leaky));
  });

  test('walkLayerConfigs visits nested layers with their path', () => {
    const converted = convertKerasModelConfig({
      class_name: 'Functional',
      config: {
        name: 'outer',
        layers: [
          keras3Input('x'),
          {
            class_name: 'Sequential',
            config: { name: 'aug', layers: [keras3Input('aug_in'), { class_name: 'RandomFlip', config: { name: 'flip' } }] },
            name: 'aug',
            inbound_nodes: [call(tensor('x'))],
          },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['aug', 0, 0]],
      },
    });
    assert.deepEqual(
      [...walkLayerConfigs(converted)].map((l) => [l.path.join('/'), l.className]),
      [
        ['x', 'InputLayer'],
        ['aug', 'Sequential'],
        ['aug/aug_in', 'InputLayer'],
        ['aug/flip', 'RandomFlip'],
      ],
    );
  });
});

describe('configs that cannot be converted get one sentence, and never a hang', () => {
  const functional = (layers: Json[], outputs: Json = [['a', 0, 0]]): JsonObject => ({
    class_name: 'Functional',
    config: { name: 'f', layers, input_layers: [['x', 0, 0]], output_layers: outputs },
  });
  const dense = (name: string, nodes: Json[]): JsonObject => ({
    class_name: 'Dense',
    name,
    config: { name, units: 1 },
    inbound_nodes: nodes,
  });

  const cases: [string, () => unknown, RegExp][] = [
    [
      'a subclassed model',
      () => convertKerasModelConfig({ class_name: 'MyModel', config: {} }),
      /^holds a subclassed Keras model \(class "MyModel"\)/,
    ],
    ['not a model config', () => convertKerasModelConfig([1, 2]), /^has a model config that is not a Keras model description\.$/],
    [
      'a layer fed by a missing layer',
      () => convertKerasModelConfig(functional([keras3Input('x'), dense('a', [call(tensor('ghost'))])])),
      /^has a layer "a" fed by a layer "ghost" that it does not contain\.$/,
    ],
    [
      'two layers waiting on each other',
      () => convertKerasModelConfig(functional([keras3Input('x'), dense('a', [[['b', 0, 0, {}]]]), dense('b', [[['a', 0, 0, {}]]])])),
      /^has a layer "a" whose inputs can never be computed/,
    ],
    [
      'a call that never happens',
      () => convertKerasModelConfig(functional([keras3Input('x'), dense('a', [[['x', 3, 0, {}]]])])),
      /^has a layer "a" whose inputs can never be computed/,
    ],
    [
      'an output nobody computes',
      () => convertKerasModelConfig(functional([keras3Input('x'), dense('a', [[['x', 0, 0, {}]]])], [['a', 1, 0]])),
      /^names the output of a layer "a" that is never computed\.$/,
    ],
    [
      'an unknown output layer',
      () => convertKerasModelConfig(functional([keras3Input('x')], [['nope', 0, 0]])),
      /^lists "nope" among its model outputs, but has no layer of that name\.$/,
    ],
    [
      'Keras 3 hard_sigmoid',
      () =>
        convertKerasModelConfig({
          class_name: 'Sequential',
          config: { name: 's', layers: [keras3Input('i'), keras3Dense('d', 1, { activation: 'hard_sigmoid' })] },
        }),
      /^has a layer "d" with the Keras 3 hard_sigmoid activation, which TensorFlow\.js computes differently\.$/,
    ],
    [
      'pooling that keeps its dimensions',
      () =>
        convertKerasModelConfig({
          class_name: 'Sequential',
          config: {
            name: 's',
            layers: [keras3Input('i', [null, 4, 4, 2]), { class_name: 'GlobalAveragePooling2D', config: { name: 'gap', keepdims: true } }],
          },
        }),
      /^has a layer "gap" \(GlobalAveragePooling2D\) that keeps the pooled dimensions/,
    ],
  ];
  for (const [label, run, message] of cases) {
    test(label, () => {
      const error = conversionError(run);
      assert.match(error.problem, message);
      assert.doesNotMatch(error.problem, /\n/);
    });
  }

  test('Keras 2 hard_sigmoid is left to tfjs, which computes it the Keras 2 way', () => {
    const converted = convertKerasModelConfig(
      {
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [{ class_name: 'Dense', config: { name: 'd', units: 1, activation: 'hard_sigmoid', batch_input_shape: [null, 2] } }],
        },
      },
      { kerasVersion: '2.6.0' },
    );
    assert.equal((((converted.config as JsonObject).layers as JsonObject[])[0].config as JsonObject).activation, 'hard_sigmoid');
  });
});

describe('names Keras gives saved layers in .keras weight files', () => {
  test('snake_case of class names, as Keras computes it', () => {
    const cases: [string, string][] = [
      ['Conv2D', 'conv2d'],
      ['MaxPooling2D', 'max_pooling2d'],
      ['GlobalAveragePooling2D', 'global_average_pooling2d'],
      ['BatchNormalization', 'batch_normalization'],
      ['SeparableConv2D', 'separable_conv2d'],
      ['InputLayer', 'input_layer'],
      ['ReLU', 're_lu'],
      ['PReLU', 'p_re_lu'],
      ['RandomFlip', 'random_flip'],
    ];
    for (const [className, expected] of cases) assert.equal(toSnakeCase(className), expected, className);
  });

  test('repeats are numbered from _1, per class', () => {
    const counter = new SavedNameCounter();
    assert.deepEqual(
      ['Conv2D', 'MaxPooling2D', 'Conv2D', 'Dense', 'Conv2D'].map((c) => counter.next(c)),
      ['conv2d', 'max_pooling2d', 'conv2d_1', 'dense', 'conv2d_2'],
    );
  });
});

describe('TensorFlow.js models converted from Keras 3', () => {
  test(
    'the doodle classifier loads with tf.loadLayersModel once its topology and weight names are converted',
    needsShared('tfjs-layers-keras3-doodle-classifier/model.json'),
    async () => {
      const folder = shared('tfjs-layers-keras3-doodle-classifier');
      const json = JSON.parse(readFileSync(`${folder}/model.json`, 'utf8'));
      const shard = readFileSync(`${folder}/group1-shard1of1.bin`);
      await assert.rejects(
        tfl.loadLayersModel(
          tf.io.fromMemory({
            modelTopology: json.modelTopology,
            weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
            weightData: new Uint8Array(shard).buffer,
          }),
        ),
        /batchInputShape|inputShape/,
        'tfjs cannot read the Keras 3 dialect by itself',
      );
      const topology = convertKeras3Topology(json.modelTopology);
      const manifest = convertKeras3WeightsManifest(json.weightsManifest, json.modelTopology);
      assert.equal(manifest[0].weights[0].name, 'conv2d/kernel');
      const model = await tfl.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: topology,
          weightSpecs: manifest.flatMap((g) => g.weights),
          weightData: new Uint8Array(shard).buffer,
        } as never),
      );
      try {
        assert.deepEqual(model.inputs[0].shape, [null, 28, 28, 1]);
        assert.deepEqual(
          model.layers.map((l) => l.getClassName()),
          ['InputLayer', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'Flatten', 'Dense', 'Dense'],
        );
        const probabilities = tf.tidy(() =>
          Array.from((model.predict(tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 7)) as tf.Tensor).dataSync()),
        );
        for (const row of [probabilities.slice(0, 10), probabilities.slice(10)]) {
          assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        }
      } finally {
        model.dispose();
      }
    },
  );

  test('the weights manifest of a Keras 2 conversion is left alone', () => {
    const manifest = [{ paths: ['w.bin'], weights: [{ name: 'sequential/dense/kernel' }] }];
    const topology = { keras_version: '2.6.0', model_config: { class_name: 'Sequential', config: { name: 'sequential', layers: [] } } };
    assert.equal(convertKeras3WeightsManifest(manifest, topology), manifest);
  });
});
