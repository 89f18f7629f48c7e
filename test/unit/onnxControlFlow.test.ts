/**
 * ONNX If nodes: a condition fixed by the input's shape (scripted PyTorch exports) runs the branch it
 * takes, nested Ifs included, and computes what PyTorch computes; the layer tree lists the taken
 * branches' nodes under their own names; a condition on the input's values, or on a size the file leaves
 * open, is refused in one sentence naming the node, and subgraphs nested beyond the limit still are.
 * Fixtures: test/fixtures/onnx/make_control_flow.py; the nested models are written here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { errorOverRange } from '../support/statistics';
import * as tf from '@tensorflow/tfjs-core';
import { Writer } from 'protobufjs/minimal';
import { predict, runGraph, singleInput } from '../../src/engine/execute';
import type { ModelSource } from '../../src/engine/modelSource';
import { parseNpy, type NpyArray } from '../../src/engine/npy';
import { loadOnnx, readOnnxSummary } from '../../src/engine/readers/onnx';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';
import { refusal } from '../support/refusals';

before(() => useNodeBackend());

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'onnx');
/** Of the range of PyTorch's values. */
const TOLERANCE = 1e-4;

function npy(folder: string, file: string): NpyArray {
  return parseNpy(new Uint8Array(readFileSync(path.join(fixtures, folder, file))));
}

function source(folder: string): ModelSource {
  return fileModelSource(path.join(fixtures, folder, `${folder}.onnx`));
}

/** The first `batch` images of an NCHW array as the NHWC tensor ConvLens feeds. */
function nhwc(array: NpyArray, batch: number): tf.Tensor4D {
  const [, channels, height, width] = array.shape;
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(array.data.subarray(0, batch * channels * height * width), [batch, channels, height, width]), [0, 2, 3, 1]),
  );
}

/** The first `batch` rows of a PyTorch array, as NHWC where it is an image (NCHW). */
function expectedRows(array: NpyArray, batch: number): Float32Array {
  const rows = array.shape.slice(1).reduce((n, d) => n * d, 1) * batch;
  if (array.shape.length !== 4) return Float32Array.from(array.data.subarray(0, rows));
  const [, c, h, w] = array.shape;
  return tf.tidy(() => tf.transpose(tf.tensor4d(array.data.subarray(0, rows), [batch, c, h, w]), [0, 2, 3, 1]).dataSync() as Float32Array);
}

const SHAPE_CASES = [
  { folder: 'if-shape-opset13', branch: 'then (Conv, Relu), then the nested then (MaxPool)', last: '/adapt/MaxPool' },
  { folder: 'if-shape-gray-opset13', branch: 'else (Slice, Conv, Sigmoid)', last: '/Sigmoid' },
];

describe('an If on the input shape runs the branch it takes', () => {
  for (const { folder, branch, last } of SHAPE_CASES) {
    test(`${folder}: the ${branch} branch computes PyTorch's output and the branch's own, within ${TOLERANCE} of their range`, async () => {
      const images = npy(folder, 'input.npy');
      const output = npy(folder, 'output.npy');
      const adapt = npy(folder, 'adapt.npy');
      await assertNoTensorLeak(async () => {
        const model = await loadOnnx(source(folder));
        try {
          for (const batch of [2, 1]) {
            const input = nhwc(images, batch);
            try {
              const [predicted] = predict(model, singleInput(model, input));
              const [branchOutput] = runGraph(model, singleInput(model, input), [last]);
              try {
                assert.ok(
                  errorOverRange(predicted.dataSync(), expectedRows(output, batch)) <= TOLERANCE,
                  `${folder} output, batch ${batch}`,
                );
                assert.deepEqual(branchOutput.shape, [batch, adapt.shape[2], adapt.shape[3], adapt.shape[1]]);
                assert.ok(errorOverRange(branchOutput.dataSync(), expectedRows(adapt, batch)) <= TOLERANCE, `${last}, batch ${batch}`);
              } finally {
                predicted.dispose();
                branchOutput.dispose();
              }
            } finally {
              input.dispose();
            }
          }
        } finally {
          model.dispose();
        }
      });
    });
  }

  test('the layer tree lists the taken branches under their own names, feeding the nodes after the If', async () => {
    const summary = await readOnnxSummary(source('if-shape-opset13'));
    const byName = new Map(summary.layers.map((layer) => [layer.name, layer]));
    // The If nodes give way to what they run; the branches not taken leave nothing.
    assert.ok(!summary.layers.some((layer) => layer.type === 'If'));
    for (const untaken of ['/adapt/gray/Conv', '/adapt/Sigmoid', '/adapt/Mul']) assert.ok(!byName.has(untaken), untaken);
    assert.equal(byName.get('/adapt/conv/Conv')?.type, 'Conv');
    assert.equal(byName.get('/adapt/conv/Conv')?.params, 3 * 4 * 9 + 4);
    assert.deepEqual(byName.get('/adapt/Relu')?.inputs, ['/adapt/conv/Conv']);
    assert.deepEqual(byName.get('/adapt/MaxPool')?.inputs, ['/adapt/Relu']);
    assert.deepEqual(byName.get('/adapt/MaxPool')?.declaredShapes, [[null, 4, 8, 8]]);
    assert.deepEqual(byName.get('/head/Conv')?.inputs, ['/adapt/MaxPool']);
    // The weights of the branch not taken (the grey Conv's 40) are no parameters of the model as it runs.
    assert.equal(summary.totalParams, 3 * 4 * 9 + 4 + (4 * 6 + 6) + (6 * 5 + 5));

    const grey = await readOnnxSummary(source('if-shape-gray-opset13'));
    const greyNames = grey.layers.map((layer) => layer.name);
    assert.ok(greyNames.includes('/Sigmoid') && !greyNames.some((name) => name.endsWith('MaxPool')));
    assert.equal(grey.totalParams, 1 * 4 * 9 + 4 + (4 * 6 + 6) + (6 * 5 + 5));
  });
});

describe('an If that only running can decide is refused', () => {
  test("an If on the input's values is refused in one sentence naming it; its layer tree still opens", async () => {
    const error = await refusal(loadOnnx(source('if-values-opset13')));
    assert.equal(
      error.message,
      `if-values-opset13.onnx has an If node "/If" that branches on the input's values; ConvLens runs graphs without control flow.`,
    );
    const summary = await readOnnxSummary(source('if-values-opset13'));
    assert.deepEqual(
      summary.layers.map((layer) => layer.type),
      ['ReduceMean', 'Constant', 'Greater', 'Cast', 'If', 'ReduceMean'],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Nested Ifs, written with protobufjs's wire Writer (field numbers of onnx.proto)

const BOOL = 9;
const FLOAT = 1;

function field(writer: Writer, number: number, bytes: Uint8Array): void {
  writer.uint32((number << 3) | 2).bytes(bytes);
}

function text(writer: Writer, number: number, value: string): void {
  writer.uint32((number << 3) | 2).string(value);
}

function bytesOf(write: (writer: Writer) => void): Uint8Array {
  const writer = Writer.create();
  write(writer);
  return writer.finish();
}

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** A boolean scalar `value` (Constant) */
  value?: boolean;
  /** Subgraph attributes, written already. */
  branches?: Record<string, Uint8Array>;
}

function node(spec: NodeSpec): Uint8Array {
  return bytesOf((writer) => {
    for (const input of spec.inputs) text(writer, 1, input);
    for (const output of spec.outputs) text(writer, 2, output);
    if (spec.name) text(writer, 3, spec.name);
    text(writer, 4, spec.op);
    if (spec.value !== undefined) {
      const tensor = bytesOf((t) =>
        t
          .uint32(2 << 3)
          .int32(BOOL)
          .uint32((9 << 3) | 2)
          .bytes(new Uint8Array([spec.value ? 1 : 0])),
      );
      field(
        writer,
        5,
        bytesOf((a) => (text(a, 1, 'value'), field(a, 5, tensor), a.uint32(20 << 3).int32(4))),
      );
    }
    for (const [name, graph] of Object.entries(spec.branches ?? {})) {
      field(
        writer,
        5,
        bytesOf((a) => (text(a, 1, name), field(a, 6, graph), a.uint32(20 << 3).int32(5))),
      );
    }
  });
}

/** A value info: a float tensor of `dims` (a string for a free dimension), or a name alone. */
function valueInfo(name: string, dims?: (number | string)[]): Uint8Array {
  return bytesOf((writer) => {
    text(writer, 1, name);
    if (!dims) return;
    const shape = bytesOf((s) => {
      for (const dim of dims)
        field(
          s,
          1,
          bytesOf((d) => (typeof dim === 'number' ? d.uint32(1 << 3).int64(dim) : text(d, 2, dim))),
        );
    });
    const tensorType = bytesOf((t) => (t.uint32(1 << 3).int32(FLOAT), field(t, 2, shape)));
    field(
      writer,
      2,
      bytesOf((type) => field(type, 1, tensorType)),
    );
  });
}

/** An initializer: booleans or floats, by the array given. */
function initializer(name: string, dims: number[], values: Uint8Array | Float32Array): Uint8Array {
  return bytesOf((writer) => {
    for (const dim of dims) writer.uint32(1 << 3).int64(dim);
    writer.uint32(2 << 3).int32(values instanceof Float32Array ? FLOAT : BOOL);
    text(writer, 8, name);
    field(writer, 9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  });
}

function graph(nodes: Uint8Array[], outputs: Uint8Array[], inputs: Uint8Array[] = [], initializers: Uint8Array[] = []): Uint8Array {
  return bytesOf((writer) => {
    for (const n of nodes) field(writer, 1, n);
    text(writer, 2, 'g');
    for (const tensor of initializers) field(writer, 5, tensor);
    for (const input of inputs) field(writer, 11, input);
    for (const output of outputs) field(writer, 12, output);
  });
}

/**
 * A model of [N, 6] → [N, 6] whose If nodes nest `depth` levels, each on a Constant condition: true at
 * even levels (the nested If in the then branch), false at odd ones (in the else branch). The branch
 * not taken negates the input; the innermost branch runs Relu on it, read from the main graph.
 */
function nestedIfs(depth: number): Uint8Array {
  let inner = graph([node({ op: 'Relu', inputs: ['x'], outputs: ['relu'], name: 'Innermost' })], [valueInfo('relu')]);
  for (let level = depth - 1; level >= 0; level--) {
    const taken = level % 2 === 0;
    const other = graph([node({ op: 'Neg', inputs: ['x'], outputs: [`neg${level}`] })], [valueInfo(`neg${level}`)]);
    const condition = node({ op: 'Constant', inputs: [], outputs: [`c${level}`], value: taken });
    const branch = node({
      op: 'If',
      name: `If${level}`,
      inputs: [`c${level}`],
      outputs: [`y${level}`],
      branches: { then_branch: taken ? inner : other, else_branch: taken ? other : inner },
    });
    inner =
      level === 0
        ? graph([condition, branch], [valueInfo('y0', ['N', 6])], [valueInfo('x', ['N', 6])])
        : graph([condition, branch], [valueInfo(`y${level}`)]);
  }
  return model(inner);
}

function model(main: Uint8Array): Uint8Array {
  return bytesOf((writer) => {
    writer.uint32(1 << 3).int64(8);
    field(
      writer,
      8,
      bytesOf((opset) => opset.uint32(2 << 3).int64(13)),
    );
    field(writer, 7, main);
  });
}

/**
 * y = If(flag: false) { Neg(x) } else { Mul(x, scale), scale a branch initializer named as a main graph
 * tensor is } + If(pass: true) { x itself } else { Neg(x) }: conditions from initializers, a branch's own
 * weight, a name taken twice, and a branch that gives an outer value as its output.
 */
function initializerConditions(): Uint8Array {
  const negated = (name: string) => graph([node({ op: 'Neg', inputs: ['x'], outputs: [name] })], [valueInfo(name)]);
  const scaled = graph(
    [node({ op: 'Mul', inputs: ['x', 'scale'], outputs: ['product'], name: 'Scale' })],
    [valueInfo('product')],
    [],
    [initializer('scale', [6], Float32Array.from([1, 2, 3, 4, 5, 6]))],
  );
  const passed = graph([], [valueInfo('x')]);
  const main = graph(
    [
      node({ op: 'If', name: 'Scaled', inputs: ['flag'], outputs: ['a'], branches: { then_branch: negated('n1'), else_branch: scaled } }),
      node({ op: 'If', name: 'Passed', inputs: ['pass'], outputs: ['b'], branches: { then_branch: passed, else_branch: negated('n2') } }),
      node({ op: 'Add', inputs: ['a', 'b'], outputs: ['sum'], name: 'Sum' }),
      // Main-graph tensors named as the branch's: the branch's are renamed.
      node({ op: 'Relu', inputs: ['sum'], outputs: ['product'], name: 'Relu' }),
      node({ op: 'Mul', inputs: ['product', 'scale'], outputs: ['y'], name: 'Twice' }),
    ],
    [valueInfo('y', ['N', 6])],
    [valueInfo('x', ['N', 6])],
    [
      initializer('flag', [], new Uint8Array([0])),
      initializer('pass', [], new Uint8Array([1])),
      initializer('scale', [], Float32Array.from([2])),
    ],
  );
  return model(main);
}

function memorySource(fileName: string, bytes: Uint8Array): ModelSource {
  return {
    fileName,
    read: async () => bytes,
    readSibling: async (name) => {
      throw new Error(`no file ${name}`);
    },
  };
}

describe('an If on a size the file leaves open is refused', () => {
  test('an If on the width of an input exported with free height and width is refused in one sentence saying so', async () => {
    const error = await refusal(loadOnnx(source('if-open-size-opset13')));
    assert.equal(
      error.message,
      'if-open-size-opset13.onnx has an If node "/If" that branches on the input\'s size, which the file leaves open ' +
        '(an export with a fixed input size runs); ConvLens runs graphs without control flow.',
    );
  });
});

describe('conditions and weights from initializers', () => {
  test("a branch's own initializer, an outer value as a branch's output, and names taken twice", async () => {
    await assertNoTensorLeak(async () => {
      const loaded = await loadOnnx(memorySource('flags.onnx', initializerConditions()));
      const x = tf.tensor2d([
        [-2, -1, 0, 1, 2, 3],
        [4, -5, 6, -7, 8, -9],
      ]);
      try {
        const [y] = predict(loaded, singleInput(loaded, x));
        // 2 · relu(x · [1…6] + x)
        const expected = [-2, -1, 0, 1, 2, 3, 4, -5, 6, -7, 8, -9].map((v, i) => 2 * Math.max(0, v * ((i % 6) + 1) + v));
        assert.deepEqual(Array.from(y.dataSync()), expected);
        y.dispose();
        const layers = loaded.summary.layers.map((layer) => [layer.name, layer.type, layer.params]);
        // "Passed" gives x itself: an Identity under the If's name stands for it.
        assert.deepEqual(layers, [
          ['Scale', 'Mul', 6],
          ['Passed', 'Identity', 0],
          ['Sum', 'Add', 0],
          ['Relu', 'Relu', 0],
          ['Twice', 'Mul', 1],
        ]);
        assert.equal(loaded.summary.totalParams, 7);
      } finally {
        x.dispose();
        loaded.dispose();
      }
    });
  });
});

describe('nested Ifs', () => {
  test('Ifs nested 60 levels deep, each taking the branch its constant says, run the innermost branch', async () => {
    await assertNoTensorLeak(async () => {
      const model = await loadOnnx(memorySource('nested.onnx', nestedIfs(60)));
      const x = tf.tensor2d([
        [-2, -1, 0, 1, 2, 3],
        [4, -5, 6, -7, 8, -9],
      ]);
      try {
        const [y] = predict(model, singleInput(model, x));
        assert.deepEqual(Array.from(y.dataSync()), [0, 0, 0, 1, 2, 3, 4, 0, 6, 0, 8, 0]);
        y.dispose();
        // The If nodes give way to the branch they take; the conditions stay as Constant layers.
        const layers = model.summary.layers.filter((layer) => layer.type !== 'Constant');
        assert.deepEqual(
          layers.map((layer) => [layer.name, layer.type]),
          [['Innermost', 'Relu']],
        );
        assert.deepEqual(model.summary.outputNames, ['y0']);
      } finally {
        x.dispose();
        model.dispose();
      }
    });
  });

  test('Ifs nested beyond the nesting limit are refused in one sentence, by the layer tree and the loader', async () => {
    for (const read of [readOnnxSummary, loadOnnx]) {
      const error = await refusal(read(memorySource('deep.onnx', nestedIfs(70))));
      assert.equal(
        error.message,
        'deep.onnx has subgraphs nested 201 or more levels deep, more than the 200 levels of nesting ConvLens reads.',
      );
    }
  });
});
