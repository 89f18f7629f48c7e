/**
 * Receptive fields from the layer stack, checked against hand computations (the arithmetic is in the
 * comments: for each layer, count = output units, jump = input pixels between adjacent units' fields,
 * size = pixels one field spans, start = where unit 0's field begins) for every reader's geometry, and
 * against the network itself: in a linear network, the pixels that change a unit when changed are
 * exactly those its field holds. Long because each reader's geometry has its own hand computation.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { clipToImage, receptiveField, type LocalField, type ReceptiveField, type Size } from '../../src/engine/dataset/receptiveField';
import { runGraph, singleInput } from '../../src/engine/execute';
import type { RunnableModel } from '../../src/engine/graph';
import type { ModelSource } from '../../src/engine/modelSource';
import { loadModel } from '../../src/engine/readers';
import { layersRunnable } from '../../src/engine/readers/layers/layersRunnable';
import { summarizeLayersModel } from '../../src/engine/readers/layers/layersModelSummary';
import { loadOnnx } from '../../src/engine/readers/onnx';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot, sampleModel } from '../support/paths';

before(() => useNodeBackend());

function local(field: ReceptiveField): LocalField {
  assert.equal(field.kind, 'local', field.kind === 'whole-input' ? field.reason : '');
  return field as LocalField;
}

/** A Keras-style model built in memory, as the layers readers would give it. */
function layersModel(model: tfl.LayersModel): RunnableModel {
  return layersRunnable(model, summarizeLayersModel(model, { format: 'tfjs-layers', fileName: 'built.json' }));
}

/** What running the model gives the node for an input of `size`: [H, W] of its output. */
function realOutputSize(model: RunnableModel, nodeId: string, [height, width]: Size): Size {
  const channels = (model.inputs[0].shape[3] as number | null) ?? 1;
  return tf.tidy(() => {
    const [output] = runGraph(model, singleInput(model, tf.zeros([1, height, width, channels])), [nodeId]);
    return [output.shape[1], output.shape[2]] as Size;
  });
}

const conv = (name: string, kernelSize: number, options: Partial<Parameters<typeof tfl.layers.conv2d>[0]> = {}) =>
  tfl.layers.conv2d({ name, filters: 2, kernelSize, ...options });

describe('receptive fields of Keras layers, by hand', () => {
  test('a stack of 3×3 valid convolutions grows the field by 2 per layer', () => {
    const model = layersModel(tfl.sequential({ layers: [conv('c1', 3, { inputShape: [10, 10, 1] }), conv('c2', 3), conv('c3', 3)] }));
    // c1: count 10−2 = 8, jump 1, size 3, start 0. c2: count 6, size 3+2·1 = 5. c3: count 4, size 7.
    const c1 = local(receptiveField(model, 'c1', [10, 10]));
    assert.deepEqual([c1.rows, c1.outputSize], [{ jump: 1, size: 3, start: 0 }, [8, 8]]);
    const c3 = local(receptiveField(model, 'c3', [10, 10]));
    assert.deepEqual([c3.rows, c3.columns, c3.outputSize], [{ jump: 1, size: 7, start: 0 }, { jump: 1, size: 7, start: 0 }, [4, 4]]);
    // Unit (1, 2) sees rows 1…7 and columns 2…8.
    assert.deepEqual(c3.fieldOf(1, 2), { top: 1, left: 2, bottom: 8, right: 9 });
    assert.throws(() => c3.fieldOf(4, 0), RangeError);
    // The input itself: each pixel sees itself.
    assert.deepEqual(receptiveField(model, model.inputs[0].id, [10, 10]).fieldOf(3, 4), { top: 3, left: 4, bottom: 4, right: 5 });
    model.dispose();
  });

  test("a stride-2 'same' convolution pads after on an even size, before and after on an odd one", () => {
    const model = layersModel(tfl.sequential({ layers: [conv('s', 3, { strides: 2, padding: 'same', inputShape: [null, null, 1] })] }));
    // Rows, 8 pixels: count ceil(8/2) = 4; pad_total = max((4−1)·2 + 3 − 8, 0) = 1, before = floor(1/2) = 0
    //   → start 0, the odd padding row after the image.
    // Columns, 9 pixels: count ceil(9/2) = 5; pad_total = (5−1)·2 + 3 − 9 = 2, before = 1 → start −1.
    const field = local(receptiveField(model, 's', [8, 9]));
    assert.deepEqual(field.rows, { jump: 2, size: 3, start: 0 });
    assert.deepEqual(field.columns, { jump: 2, size: 3, start: -1 });
    assert.deepEqual(field.outputSize, [4, 5]);
    assert.deepEqual(field.outputSize, realOutputSize(model, 's', [8, 9]));
    // The last unit: rows 6…8 (8 is padding), columns 7…9 (9 is padding).
    assert.deepEqual(field.fieldOf(3, 4), { top: 6, left: 7, bottom: 9, right: 10 });
    assert.deepEqual(field.clippedFieldOf(3, 4), { top: 6, left: 7, bottom: 8, right: 9 });
    // The same layer on a 9×8 image swaps the axes' answers.
    const swapped = local(receptiveField(model, 's', [9, 8]));
    assert.deepEqual([swapped.rows.start, swapped.columns.start], [-1, 0]);
    model.dispose();
  });

  test('dilation 2 spreads a 3×3 kernel over 5 pixels', () => {
    const model = layersModel(
      tfl.sequential({
        layers: [conv('d1', 3, { dilationRate: 2, inputShape: [9, 11, 1] }), conv('d2', 3, { dilationRate: 2, padding: 'same' })],
      }),
    );
    // d1: span 2·(3−1) + 1 = 5, valid: count 9−4 = 5 rows, 11−4 = 7 columns; size 5, start 0.
    const d1 = local(receptiveField(model, 'd1', [9, 11]));
    assert.deepEqual([d1.rows, d1.outputSize], [{ jump: 1, size: 5, start: 0 }, [5, 7]]);
    // d2: span 5, 'same', stride 1: pad_total = (5−1)·1 + 5 − 5 = 4, before 2 → start 0 − 2 = −2, size 5 + 4 = 9.
    const d2 = local(receptiveField(model, 'd2', [9, 11]));
    assert.deepEqual([d2.rows, d2.columns, d2.outputSize], [{ jump: 1, size: 9, start: -2 }, { jump: 1, size: 9, start: -2 }, [5, 7]]);
    model.dispose();
  });

  test('2×2 max pooling with stride 2 doubles the jump', () => {
    const model = layersModel(
      tfl.sequential({
        layers: [
          conv('c1', 3, { inputShape: [12, 12, 1] }),
          tfl.layers.maxPooling2d({ name: 'pool', poolSize: 2, strides: 2 }),
          conv('c2', 3),
        ],
      }),
    );
    // c1: count 10, jump 1, size 3. pool: count 5, jump 2, size 3 + 1·1 = 4. c2: count 3, jump 2, size 4 + 2·2 = 8.
    const pool = local(receptiveField(model, 'pool', [12, 12]));
    assert.deepEqual([pool.rows, pool.outputSize], [{ jump: 2, size: 4, start: 0 }, [5, 5]]);
    const c2 = local(receptiveField(model, 'c2', [12, 12]));
    assert.deepEqual([c2.rows, c2.outputSize], [{ jump: 2, size: 8, start: 0 }, [3, 3]]);
    // Unit (2, 1): rows 2·2 = 4 … 11, columns 2 … 9.
    assert.deepEqual(c2.fieldOf(2, 1), { top: 4, left: 2, bottom: 12, right: 10 });
    model.dispose();
  });

  test('ZeroPadding2D moves the field back, Cropping2D forward', () => {
    const model = layersModel(
      tfl.sequential({
        layers: [
          tfl.layers.zeroPadding2d({
            name: 'padded',
            padding: [
              [2, 0],
              [1, 3],
            ],
            inputShape: [6, 6, 1],
          }),
          conv('c', 3, { strides: 2 }),
          tfl.layers.cropping2D({
            name: 'cropped',
            cropping: [
              [1, 0],
              [0, 1],
            ],
          }),
        ],
      }),
    );
    // padded: 8×10, rows start −2, columns start −1.
    // c, valid, stride 2: rows count floor((8−3)/2) + 1 = 3, columns floor((10−3)/2) + 1 = 4; jump 2, size 3.
    const c = local(receptiveField(model, 'c', [6, 6]));
    assert.deepEqual([c.rows, c.columns, c.outputSize], [{ jump: 2, size: 3, start: -2 }, { jump: 2, size: 3, start: -1 }, [3, 4]]);
    // cropped: one row off the top moves the start by one jump: −2 + 2 = 0; count 2 × 3.
    const cropped = local(receptiveField(model, 'cropped', [6, 6]));
    assert.deepEqual(
      [cropped.rows, cropped.columns, cropped.outputSize],
      [{ jump: 2, size: 3, start: 0 }, { jump: 2, size: 3, start: -1 }, [2, 3]],
    );
    model.dispose();
  });

  test('where branches are added, the field is the union of theirs', () => {
    const input = tfl.input({ shape: [8, 8, 1], name: 'image' });
    // A residual-style block: 1×1 (start 0, size 1) + 3×3 'same' (start −1, size 3) → start −1, size 3.
    const one = conv('one', 1).apply(input) as tfl.SymbolicTensor;
    const three = conv('three', 3, { padding: 'same' }).apply(input) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({ name: 'sum' }).apply([one, three]) as tfl.SymbolicTensor;
    // Two 3×3 windows that overlap without one holding the other: padded below and right then valid
    // (pixels i … i+2), and 'same' (pixels i−1 … i+1): the union is i−1 … i+2, start −1, size 4.
    const padded = tfl.layers
      .zeroPadding2d({
        name: 'padded',
        padding: [
          [0, 2],
          [0, 2],
        ],
      })
      .apply(input) as tfl.SymbolicTensor;
    const below = conv('below', 3).apply(padded) as tfl.SymbolicTensor;
    const union = tfl.layers.add({ name: 'union' }).apply([below, three]) as tfl.SymbolicTensor;
    const model = layersModel(tfl.model({ inputs: input, outputs: [sum, union] }));

    const sumField = local(receptiveField(model, 'sum', [8, 8]));
    assert.deepEqual([sumField.rows, sumField.outputSize], [{ jump: 1, size: 3, start: -1 }, [8, 8]]);
    const unionField = local(receptiveField(model, 'union', [8, 8]));
    assert.deepEqual(
      [unionField.rows, unionField.columns],
      [
        { jump: 1, size: 4, start: -1 },
        { jump: 1, size: 4, start: -1 },
      ],
    );
    assert.deepEqual(unionField.fieldOf(3, 5), { top: 2, left: 4, bottom: 6, right: 8 });
    model.dispose();
  });

  test('global pooling and flatten make every unit see the whole input; a squeeze-and-excitation gate can be left out', () => {
    const input = tfl.input({ shape: [8, 8, 1], name: 'image' });
    const features = conv('features', 3, { padding: 'same', filters: 4 }).apply(input) as tfl.SymbolicTensor;
    const squeeze = tfl.layers.globalAveragePooling2d({ name: 'squeeze' }).apply(features) as tfl.SymbolicTensor;
    const excite = tfl.layers.dense({ name: 'excite', units: 4, activation: 'sigmoid' }).apply(squeeze) as tfl.SymbolicTensor;
    const gate = tfl.layers.reshape({ name: 'gate', targetShape: [1, 1, 4] }).apply(excite) as tfl.SymbolicTensor;
    const scaled = tfl.layers.multiply({ name: 'scaled' }).apply([features, gate]) as tfl.SymbolicTensor;
    const after = conv('after', 3).apply(scaled) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(after) as tfl.SymbolicTensor;
    const model = layersModel(tfl.model({ inputs: input, outputs: flat }));

    const pooled = receptiveField(model, 'squeeze', [8, 8]);
    assert.equal(pooled.kind, 'whole-input');
    assert.match(pooled.kind === 'whole-input' ? pooled.reason : '', /GlobalAveragePooling2D "squeeze" combines every position/);
    assert.deepEqual(pooled.fieldOf(0, 0), { top: 0, left: 0, bottom: 8, right: 8 });

    // Strictly, the gate scales each unit by something computed from the whole image…
    const strict = receptiveField(model, 'after', [8, 8]);
    assert.equal(strict.kind, 'whole-input');
    // …but the unit's own window is that of features (start −1, size 3) and then a valid 3×3: size 5, count 6.
    const windowed = local(receptiveField(model, 'after', [8, 8], { ignoreGlobalBranches: true }));
    assert.deepEqual([windowed.rows, windowed.outputSize], [{ jump: 1, size: 5, start: -1 }, [6, 6]]);
    const flattened = receptiveField(model, 'flat', [8, 8], { ignoreGlobalBranches: true });
    assert.equal(flattened.kind, 'whole-input');
    assert.match(flattened.kind === 'whole-input' ? flattened.reason : '', /Flatten "flat"/);
    model.dispose();
  });

  test('a layer that resizes without known geometry gives the whole input, saying which', () => {
    const model = layersModel(
      tfl.sequential({
        layers: [
          conv('c', 3, { padding: 'same', inputShape: [4, 4, 1] }),
          tfl.layers.upSampling2d({ name: 'up', size: [2, 2] }),
          conv('d', 3),
        ],
      }),
    );
    local(receptiveField(model, 'c', [4, 4]));
    const field = receptiveField(model, 'd', [4, 4]);
    assert.equal(field.kind, 'whole-input');
    assert.match(field.kind === 'whole-input' ? field.reason : '', /UpSampling2D "up" changes the feature map from 4×4 to 8×8/);
    assert.deepEqual(field.outputSize, [6, 6]);
    model.dispose();
  });

  test('a Permute that swaps height and width gives the whole input (on a square map no shape shows it); one that keeps them, a local field', () => {
    const model = layersModel(
      tfl.sequential({
        layers: [
          conv('c', 3, { padding: 'same', inputShape: [6, 6, 1] }),
          tfl.layers.permute({ name: 'keep', dims: [1, 2, 3] }),
          conv('d', 3, { padding: 'same' }),
          tfl.layers.permute({ name: 'swap', dims: [2, 1, 3] }),
          conv('e', 3, { padding: 'same' }),
        ],
      }),
    );
    // d: two 3×3 'same' convolutions, size 5, start −2.
    assert.deepEqual(local(receptiveField(model, 'd', [6, 6])).rows, { jump: 1, size: 5, start: -2 });
    const field = receptiveField(model, 'e', [6, 6]);
    assert.equal(field.kind, 'whole-input');
    assert.match(field.kind === 'whole-input' ? field.reason : '', /Permute "swap" reorders the height and width axes/);
    model.dispose();
  });
});

describe('receptive fields of the sample model (fashion-mnist-cnn, 28×28)', () => {
  let model: RunnableModel;
  before(async () => {
    model = await loadModel(fileModelSource(sampleModel));
  });
  after(() => model?.dispose());

  test('each conv layer’s field, by hand', () => {
    // rescale: pointwise. conv1, 3×3 'same' on 28: pad_total = 27 + 3 − 28 = 2, before 1
    //   → count 28, jump 1, size 3, start −1.
    // pool1, 2×2 stride 2 valid: count 14, jump 2, size 3 + 1·1 = 4, start −1.
    // conv2, 3×3 'same' on 14: before 1 → count 14, jump 2, size 4 + 2·2 = 8, start −1 − 1·2 = −3.
    // pool2: count 7, jump 4, size 8 + 1·2 = 10, start −3.
    // conv3, 3×3 'same' on 7: before 1 → count 7, jump 4, size 10 + 2·4 = 18, start −3 − 1·4 = −7.
    const expected: Record<string, [number, number, number, number]> = {
      conv1: [28, 1, 3, -1],
      pool1: [14, 2, 4, -1],
      conv2: [14, 2, 8, -3],
      pool2: [7, 4, 10, -3],
      conv3: [7, 4, 18, -7],
    };
    for (const [id, [count, jump, size, start]] of Object.entries(expected)) {
      const field = local(receptiveField(model, id, [28, 28]));
      assert.deepEqual([field.outputSize, field.rows, field.columns], [[count, count], { jump, size, start }, { jump, size, start }], id);
    }
    // conv3 unit (3, 6): rows −7 + 12 = 5 … 22, columns −7 + 24 = 17 … 34, clipped to 17 … 27.
    const conv3 = local(receptiveField(model, 'conv3', [28, 28]));
    assert.deepEqual(conv3.fieldOf(3, 6), { top: 5, left: 17, bottom: 23, right: 35 });
    assert.deepEqual(conv3.clippedFieldOf(3, 6), { top: 5, left: 17, bottom: 23, right: 28 });
  });

  test('after global average pooling every unit sees the whole image', () => {
    for (const id of ['gap', 'predictions']) {
      const field = receptiveField(model, id, [28, 28]);
      assert.equal(field.kind, 'whole-input', id);
      assert.match(field.kind === 'whole-input' ? field.reason : '', /GlobalAveragePooling2D "gap"/);
    }
  });

  test('an input size the model does not take, or a stack that disagrees with the model, is an error', () => {
    assert.throws(() => receptiveField(model, 'conv3', [32, 32]), /takes 28×28 images, not 32×32/);
    assert.throws(() => receptiveField(model, 'nothing', [28, 28]), /no node "nothing"/);
    // conv1 declared 'valid' would give 26×26, where the model says 28×28.
    const wrong: RunnableModel = {
      ...model,
      nodes: model.nodes.map((node) =>
        node.id === 'conv1' && node.geometry?.kind === 'window' ? { ...node, geometry: { ...node.geometry, padding: 'valid' } } : node,
      ),
    };
    assert.throws(
      () => receptiveField(wrong, 'conv3', [28, 28]),
      /gives Conv2D "conv1" a 26×26 output for a 28×28 input, but the model says 28×28/,
    );
  });
});

describe('receptive fields of a TensorFlow.js graph model (the small-cnn fixture, 16×16)', () => {
  let model: RunnableModel;
  const P = 'StatefulPartitionedCall/small_cnn';
  before(async () => {
    model = await loadModel(fileModelSource(path.join(repoRoot, 'test', 'fixtures', 'tfjs-graph', 'small-cnn', 'model.json')));
  });
  after(() => model?.dispose());

  test('fused convolutions, a depthwise one, a residual add, max pooling, Pad and a strided Conv2D, by hand', () => {
    // conv1 (_FusedConv2D 3×3 SAME): before 1 → count 16, jump 1, size 3, start −1.
    // dw (FusedDepthwiseConv2dNative 3×3 SAME): size 5, start −2.   pw (1×1 VALID): the same.
    // add(conv1, pw): [−1, 2) ∪ [−2, 3) = [−2, 3): size 5, start −2.
    // pool (MaxPool 2×2 stride 2 VALID): count 8, jump 2, size 5 + 1 = 6, start −2.
    // split / concat on channels: pointwise.   pad (1 on each side): count 10, start −2 − 1·2 = −4.
    // conv2 (Conv2D 3×3 stride 2 VALID): count floor((10 − 3)/2) + 1 = 4, jump 4, size 6 + 2·2 = 10, start −4.
    const expected: [string, number, number, number, number][] = [
      [`${P}/conv1/Relu`, 16, 1, 3, -1],
      [`${P}/dw/Relu6`, 16, 1, 5, -2],
      [`${P}/add/add`, 16, 1, 5, -2],
      [`${P}/pool/MaxPool`, 8, 2, 6, -2],
      [`${P}/concat/concat`, 8, 2, 6, -2],
      [`${P}/pad/Pad`, 10, 2, 6, -4],
      [`${P}/conv2/Conv2D`, 4, 4, 10, -4],
      [`${P}/swish/mul`, 4, 4, 10, -4],
    ];
    for (const [id, count, jump, size, start] of expected) {
      const field = local(receptiveField(model, id, [16, 16]));
      assert.deepEqual([field.outputSize, field.rows, field.columns], [[count, count], { jump, size, start }, { jump, size, start }], id);
      assert.deepEqual(field.outputSize, realOutputSize(model, id, [16, 16]), id);
    }
    // conv2 unit (3, 3): −4 + 12 = 8 … 17, clipped to 8 … 15.
    assert.deepEqual(local(receptiveField(model, `${P}/conv2/Conv2D`, [16, 16])).clippedFieldOf(3, 3), {
      top: 8,
      left: 8,
      bottom: 16,
      right: 16,
    });
  });

  test('Mean over H and W sees the whole input', () => {
    const field = receptiveField(model, `${P}/gap/Mean`, [16, 16]);
    assert.equal(field.kind, 'whole-input');
    assert.match(field.kind === 'whole-input' ? field.reason : '', /Mean ".*gap\/Mean" combines every position/);
  });
});

// -------------------------------------------------------------------------------------------------
// ONNX graphs written here, with just enough protobuf to encode them

type Bytes = number[];

function varint(value: number): Bytes {
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: Bytes = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  return [...bytes, Number(rest)];
}
const intField = (field: number, value: number): Bytes => [...varint(field << 3), ...varint(value)];
const bytesField = (field: number, bytes: ArrayLike<number>): Bytes => [
  ...varint((field << 3) | 2),
  ...varint(bytes.length),
  ...Array.from(bytes),
];
const textField = (field: number, text: string): Bytes => bytesField(field, new TextEncoder().encode(text));

type AttributeValue = number | number[] | string;

function onnxAttribute(name: string, value: AttributeValue): Bytes {
  // AttributeProto: name 1, type 20 (INT 2, STRING 3, INTS 7), i 3, s 4, ints 8.
  if (typeof value === 'string') return [...textField(1, name), ...intField(20, 3), ...textField(4, value)];
  if (Array.isArray(value)) return [...textField(1, name), ...intField(20, 7), ...value.flatMap((v) => intField(8, v))];
  return [...textField(1, name), ...intField(20, 2), ...intField(3, value)];
}

function onnxNode(name: string, opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): Bytes {
  // NodeProto: input 1, output 2 (named after the node), name 3, op_type 4, attribute 5.
  return [
    ...inputs.flatMap((input) => textField(1, input)),
    ...textField(2, name),
    ...textField(3, name),
    ...textField(4, opType),
    ...Object.entries(attributes).flatMap(([key, value]) => bytesField(5, onnxAttribute(key, value))),
  ];
}

function onnxTensor(name: string, dims: number[], values: Float32Array | BigInt64Array): Bytes {
  // TensorProto: dims 1, data_type 2 (FLOAT 1, INT64 7), name 8, raw_data 9.
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return [
    ...dims.flatMap((d) => intField(1, d)),
    ...intField(2, values instanceof Float32Array ? 1 : 7),
    ...textField(8, name),
    ...bytesField(9, raw),
  ];
}

function onnxValueInfo(name: string, dims: number[]): Bytes {
  // ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2: { dim 1: { dim_value 1 } } } } }.
  const shape = dims.flatMap((d) => bytesField(1, intField(1, d)));
  return [...textField(1, name), ...bytesField(2, bytesField(1, [...intField(1, 1), ...bytesField(2, shape)]))];
}

function onnxModel(graph: { nodes: Bytes[]; initializers: Bytes[]; input: Bytes; output: Bytes }): Uint8Array {
  const graphBytes = [
    ...graph.nodes.flatMap((node) => bytesField(1, node)),
    ...textField(2, 'built'),
    ...graph.initializers.flatMap((tensor) => bytesField(5, tensor)),
    ...bytesField(11, graph.input),
    ...bytesField(12, graph.output),
  ];
  // ModelProto: ir_version 1, graph 7, opset_import 8 (version 2).
  return Uint8Array.from([...intField(1, 8), ...bytesField(7, graphBytes), ...bytesField(8, intField(2, 13))]);
}

function memorySource(fileName: string, bytes: Uint8Array): ModelSource {
  return { fileName, read: async () => bytes, readSibling: async (relativePath) => Promise.reject(new Error(`no file ${relativePath}`)) };
}

/** Weights in ±[0.5, 1): seeded, and never near zero, so that every connection shows. */
function weights(count: number, seed: number): Float32Array {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float32Array.from({ length: count }, () => (next() < 0.5 ? -1 : 1) * (0.5 + next() / 2));
}

/**
 * A linear ONNX graph on an image of `size` (NCHW [1, 1, H, W]) using each attribute:
 * Pad (pads input) → Conv (asymmetric pads, stride 2, dilation 2 along W) → AveragePool (ceil_mode)
 * → Conv (auto_pad SAME_LOWER, stride 2) → GlobalAveragePool → Flatten.
 */
function attributesGraph([height, width]: Size): Uint8Array {
  return onnxModel({
    nodes: [
      onnxNode('pad', 'Pad', ['x', 'pads']),
      onnxNode('convA', 'Conv', ['pad', 'wA'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1], dilations: [1, 2] }),
      onnxNode('pool', 'AveragePool', ['convA'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }),
      onnxNode('convB', 'Conv', ['pool', 'wB'], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_LOWER' }),
      onnxNode('gap', 'GlobalAveragePool', ['convB']),
      onnxNode('flatten', 'Flatten', ['gap']),
    ],
    initializers: [
      // [N, C, H, W] begins then ends: H 2 before, 0 after; W 1 before, 3 after.
      onnxTensor('pads', [8], BigInt64Array.from([0n, 0n, 2n, 1n, 0n, 0n, 0n, 3n])),
      onnxTensor('wA', [2, 1, 3, 3], weights(18, 1)),
      onnxTensor('wB', [2, 2, 3, 3], weights(36, 2)),
    ],
    input: onnxValueInfo('x', [1, 1, height, width]),
    output: onnxValueInfo('flatten', [1, 2]),
  });
}

/** Two paths added on a 9×9 image: a 1×1 convolution and a 3×3 one padded only above and left. */
function branchGraph(): Uint8Array {
  return onnxModel({
    nodes: [
      onnxNode('one', 'Conv', ['x', 'w1'], { kernel_shape: [1, 1] }),
      onnxNode('three', 'Conv', ['x', 'w3'], { kernel_shape: [3, 3], pads: [2, 2, 0, 0] }),
      onnxNode('sum', 'Add', ['one', 'three']),
      onnxNode('relu', 'Relu', ['sum']),
      onnxNode('next', 'Conv', ['relu', 'w'], { kernel_shape: [3, 3], strides: [2, 2] }),
    ],
    initializers: [
      onnxTensor('w1', [2, 2, 1, 1], weights(4, 3)),
      onnxTensor('w3', [2, 2, 3, 3], weights(36, 4)),
      onnxTensor('w', [2, 2, 3, 3], weights(36, 5)),
    ],
    input: onnxValueInfo('x', [1, 2, 9, 9]),
    output: onnxValueInfo('next', [1, 2, 4, 4]),
  });
}

describe('receptive fields of ONNX models, by hand', () => {
  test('Pad, asymmetric pads, dilation, ceil_mode and SAME_LOWER', async () => {
    const model = await loadOnnx(memorySource('attributes.onnx', attributesGraph([13, 12])));
    try {
      // pad: rows 13 + 2 + 0 = 15, start −2; columns 12 + 1 + 3 = 16, start −1.
      // convA rows: kernel 3, stride 2, pads 1 before, 0 after: count floor((15 + 1 − 3)/2) + 1 = 7,
      //   jump 2, size 3, start −2 − 1 = −3.
      // convA columns: span 2·(3−1) + 1 = 5, pads 0 before, 1 after: count floor((16 + 1 − 5)/2) + 1 = 7,
      //   jump 2, size 5, start −1.
      // pool, 2×2 stride 2 ceil_mode: count ceil((7 − 2)/2) + 1 = 4 (the last window starts at 6 < 7: kept);
      //   jump 4; rows size 3 + 1·2 = 5, start −3; columns size 5 + 2 = 7, start −1.
      // convB, SAME_LOWER stride 2 on 4: count 2, pad_total = (2−1)·2 + 3 − 4 = 1, the pixel before:
      //   jump 8; rows size 5 + 2·4 = 13, start −3 − 4 = −7; columns size 7 + 8 = 15, start −1 − 4 = −5.
      //   (SAME_UPPER would put it after and leave the starts at −3 and −1.)
      const expected: [string, Size, [number, number, number], [number, number, number]][] = [
        ['pad', [15, 16], [1, 1, -2], [1, 1, -1]],
        ['convA', [7, 7], [2, 3, -3], [2, 5, -1]],
        ['pool', [4, 4], [4, 5, -3], [4, 7, -1]],
        ['convB', [2, 2], [8, 13, -7], [8, 15, -5]],
      ];
      for (const [id, outputSize, [rowJump, rowSize, rowStart], [columnJump, columnSize, columnStart]] of expected) {
        const field = local(receptiveField(model, id, [13, 12]));
        assert.deepEqual(
          [field.outputSize, field.rows, field.columns],
          [outputSize, { jump: rowJump, size: rowSize, start: rowStart }, { jump: columnJump, size: columnSize, start: columnStart }],
          id,
        );
        assert.deepEqual(field.outputSize, realOutputSize(model, id, [13, 12]), id);
      }
      for (const id of ['gap', 'flatten']) assert.equal(receptiveField(model, id, [13, 12]).kind, 'whole-input', id);
    } finally {
      model.dispose();
    }
  });

  test('an Add of a 1×1 and a 3×3 path takes the union of their fields', async () => {
    const model = await loadOnnx(memorySource('branch.onnx', branchGraph()));
    try {
      // one: pixel i (start 0, size 1). three, pads 2 before and 0 after: pixels i−2 … i (start −2, size 3).
      // sum: [0, 1) ∪ [−2, 1) = [−2, 1): start −2, size 3. next, 3×3 stride 2 valid on 9: count 4, jump 2,
      // size 3 + 2 = 5, start −2.
      const sum = local(receptiveField(model, 'sum', [9, 9]));
      assert.deepEqual([sum.rows, sum.columns, sum.outputSize], [{ jump: 1, size: 3, start: -2 }, { jump: 1, size: 3, start: -2 }, [9, 9]]);
      const next = local(receptiveField(model, 'next', [9, 9]));
      assert.deepEqual([next.rows, next.outputSize], [{ jump: 2, size: 5, start: -2 }, [4, 4]]);
    } finally {
      model.dispose();
    }
  });

  test('a Transpose that swaps H and W gives the whole input; an NHWC input transposed to NCHW keeps its positions', async () => {
    // As tf2onnx writes a Keras model: the NHWC image transposed to NCHW first.
    const graph = onnxModel({
      nodes: [
        onnxNode('toNchw', 'Transpose', ['x'], { perm: [0, 3, 1, 2] }),
        onnxNode('a', 'Conv', ['toNchw', 'w'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        onnxNode('b', 'Conv', ['a', 'w'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        onnxNode('swap', 'Transpose', ['b'], { perm: [0, 1, 3, 2] }),
        onnxNode('c', 'Conv', ['swap', 'w'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      ],
      initializers: [onnxTensor('w', [2, 2, 3, 3], weights(36, 6))],
      input: onnxValueInfo('x', [1, 8, 8, 2]),
      output: onnxValueInfo('c', [1, 2, 8, 8]),
    });
    const model = await loadOnnx(memorySource('transpose.onnx', graph));
    try {
      // b: two 3×3 convolutions padded by 1, size 5, start −2.
      assert.deepEqual(local(receptiveField(model, 'b', [8, 8])).columns, { jump: 1, size: 5, start: -2 });
      const field = receptiveField(model, 'c', [8, 8]);
      assert.equal(field.kind, 'whole-input');
      assert.match(field.kind === 'whole-input' ? field.reason : '', /swaps the height and width axes/);
    } finally {
      model.dispose();
    }
  });

  test('resnet_small.onnx (64×64): stem, residual blocks and their strided shortcuts', async () => {
    const model = await loadOnnx(fileModelSource(path.join(repoRoot, 'test', 'fixtures', 'explain', 'resnet_small.onnx')));
    try {
      // conv1 7×7 stride 2 pads 3: count floor((64 + 6 − 7)/2) + 1 = 32, jump 2, size 7, start −3.
      // maxpool 3×3 stride 2 pads 1: count 16, jump 4, size 7 + 2·2 = 11, start −3 − 2 = −5.
      // layer1 conv1 3×3 pads 1: size 11 + 2·4 = 19, start −9; conv2: size 27, start −13;
      //   Add with the identity [−5, 6): [−13, 14), size 27.
      // layer2 conv1 stride 2: count 8, jump 8, size 27 + 8 = 35, start −17; conv2: size 35 + 16 = 51, start −25;
      //   shortcut 1×1 stride 2: [−13, 14); Add: [−25, 26), size 51.
      // layer3: conv1 count 4, jump 16, size 67, start −33; conv2 size 99, start −49; shortcut [−25, 26) → size 99.
      // layer4: conv1 count 2, jump 32, size 131, start −65; conv2 size 195, start −97; shortcut [−49, 50) → size 195.
      const expected: [string, number, number, number, number][] = [
        ['/conv1/Conv', 32, 2, 7, -3],
        ['/maxpool/MaxPool', 16, 4, 11, -5],
        ['/layer1/layer1.0/Add', 16, 4, 27, -13],
        ['/layer2/layer2.0/downsample/downsample.0/Conv', 8, 8, 27, -13],
        ['/layer2/layer2.0/Add', 8, 8, 51, -25],
        ['/layer3/layer3.0/Add', 4, 16, 99, -49],
        ['/layer4/layer4.0/relu_1/Relu', 2, 32, 195, -97],
      ];
      for (const [id, count, jump, size, start] of expected) {
        const field = local(receptiveField(model, id, [64, 64]));
        assert.deepEqual([field.outputSize, field.rows, field.columns], [[count, count], { jump, size, start }, { jump, size, start }], id);
      }
      // The last block's units see past the image on every side: −97 + 32 = −65 … 129.
      const last = local(receptiveField(model, '/layer4/layer4.0/relu_1/Relu', [64, 64]));
      assert.deepEqual(last.fieldOf(1, 1), { top: -65, left: -65, bottom: 130, right: 130 });
      assert.deepEqual(last.clippedFieldOf(1, 1), { top: 0, left: 0, bottom: 64, right: 64 });
      assert.equal(receptiveField(model, '/fc/Gemm', [64, 64]).kind, 'whole-input');
    } finally {
      model.dispose();
    }
  });
});

describe('fields agree with the network itself', () => {
  /**
   * For every unit of `nodeId`, which input pixels change it when changed: one batch holding the
   * image and, for each pixel, the image with that pixel (every channel) raised by 1. The network
   * is linear, so a pixel changes a unit exactly when a path of nonzero weights joins them.
   */
  function pixelsThatMatter(model: RunnableModel, nodeId: string, [height, width]: Size): boolean[][][] {
    const channels = model.inputs[0].shape[3] as number;
    const values = tf.tidy(() => {
      const base = tf.randomUniform([1, height, width, channels], -1, 1, 'float32', 11);
      const bumps = tf.reshape(tf.oneHot(tf.range(0, height * width, 1, 'int32'), height * width), [height * width, height, width, 1]);
      const batch = tf.concat([base, tf.add(base, tf.tile(bumps, [1, 1, 1, channels]))]);
      const [output] = runGraph(model, singleInput(model, batch), [nodeId]);
      // How much each unit moved, summed over channels: [pixels, H', W'].
      return tf.sum(tf.abs(tf.sub(tf.slice(output, 1), tf.slice(output, 0, 1))), 3).arraySync() as number[][][];
    });
    // values[pixel][y][x] → matters[y][x][pixel]
    return values[0].map((row, y) => row.map((_, x) => values.map((units) => units[y][x] > 0)));
  }

  function checkEveryUnit(model: RunnableModel, nodeId: string, size: Size): void {
    const field = local(receptiveField(model, nodeId, size));
    const matters = pixelsThatMatter(model, nodeId, size);
    assert.deepEqual([matters.length, matters[0].length], field.outputSize);
    let inside = 0;
    matters.forEach((row, y) =>
      row.forEach((pixels, x) => {
        const box = field.clippedFieldOf(y, x);
        let bounds: { top: number; left: number; bottom: number; right: number } | undefined;
        pixels.forEach((changed, pixel) => {
          if (!changed) return;
          const [py, px] = [Math.floor(pixel / size[1]), pixel % size[1]];
          // Just outside the field, nothing changes the unit.
          assert.ok(
            py >= box.top && py < box.bottom && px >= box.left && px < box.right,
            `pixel (${py}, ${px}) changes unit (${y}, ${x}) of ${nodeId}, outside ${JSON.stringify(box)}`,
          );
          bounds = bounds
            ? {
                top: Math.min(bounds.top, py),
                left: Math.min(bounds.left, px),
                bottom: Math.max(bounds.bottom, py + 1),
                right: Math.max(bounds.right, px + 1),
              }
            : { top: py, left: px, bottom: py + 1, right: px + 1 };
        });
        // Where the whole field lies in the image, its first and last rows and columns (just inside) do
        // change the unit: the rectangle is tight. (Near the border a dilated kernel may skip the row
        // the clipping leaves outermost.)
        const unclipped = field.fieldOf(y, x);
        if (JSON.stringify(clipToImage(unclipped, size)) === JSON.stringify(unclipped)) {
          assert.deepEqual(bounds, box, `unit (${y}, ${x}) of ${nodeId}`);
          inside++;
        }
      }),
    );
    assert.ok(inside > 0, `no unit of ${nodeId} has its whole field inside the image`);
  }

  test('a linear Keras stack: strides, "same" padding on odd and even sizes, pooling, dilation, zero padding', () => {
    const model = layersModel(
      tfl.sequential({
        layers: [
          conv('c1', 3, { strides: 2, padding: 'same', inputShape: [25, 22, 2] }),
          tfl.layers.averagePooling2d({ name: 'pool', poolSize: 2, strides: 1 }),
          conv('c2', 3, { dilationRate: 2, padding: 'same' }),
          tfl.layers.zeroPadding2d({
            name: 'padded',
            padding: [
              [1, 0],
              [0, 2],
            ],
          }),
          conv('c3', 2),
        ],
      }),
    );
    for (const id of ['c1', 'pool', 'c2', 'c3']) checkEveryUnit(model, id, [25, 22]);
    model.dispose();
  });

  test('the linear ONNX graph: Pad, asymmetric pads, dilation, ceil_mode, SAME_LOWER', async () => {
    // Large enough for some of convB's units to see only pixels of the image: at 29×28, rows
    // −7 + 8y … 5 + 8y for y = 1, 2. The pool's last window still hangs over by a row (ceil_mode).
    const model = await loadOnnx(memorySource('attributes.onnx', attributesGraph([29, 28])));
    try {
      for (const id of ['convA', 'pool', 'convB']) checkEveryUnit(model, id, [29, 28]);
    } finally {
      model.dispose();
    }
  });
});
