/**
 * ONNX files from a stranger that ask for more than the machine has: each is refused in one sentence
 * naming the file and the limit, before any large tensor is allocated. The models are written here
 * with protobufjs's wire Writer (small, and within every per-tensor limit: what they ask for is in
 * their shapes). The largest go through the command line in a child process, to prove the memory bound.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { Writer } from 'protobufjs/minimal';
import { ModelReadError } from '../../src/engine/errors';
import { predict, singleInput } from '../../src/engine/execute';
import { LimitExceededError, type Limits } from '../../src/engine/limits';
import type { ModelSource } from '../../src/engine/modelSource';
import { loadOnnx, readOnnxSummary } from '../../src/engine/readers/onnx';
import { useNodeBackend } from '../../src/node/tfBackend';
import { HOSTILE_RSS_LIMIT, runCliBounded } from '../support/boundedRun';
import { repoRoot } from '../support/paths';
import { temporaryFolder } from '../support/temporaryFolders';
import { refusal } from '../support/refusals';

before(() => useNodeBackend());

// ---------------------------------------------------------------------------------------------
// A minimal ONNX writer (field numbers of onnx.proto)

const FLOAT = 1;
const INT64 = 7;

type Attribute =
  | { name: string; i: number }
  | { name: string; ints: number[] }
  | { name: string; t: Tensor }
  | { name: string; g: Graph }
  /** A subgraph already written (deep nesting is written from the inside out, without recursion). */
  | { name: string; graphBytes: Uint8Array };

interface Tensor {
  name: string;
  dims: number[];
  dataType: number;
  raw?: Uint8Array;
  int64s?: number[];
  floats?: number[];
  /** External data entries (location, offset, length). */
  external?: Record<string, string>;
}

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Attribute[];
}

interface Graph {
  nodes: Node[];
  initializers?: Tensor[];
  inputs?: { name: string; dims: (number | string)[] }[];
  outputs?: string[];
}

function message(writer: Writer, field: number, write: (inner: Writer) => void): void {
  writer.uint32((field << 3) | 2).fork();
  write(writer);
  writer.ldelim();
}

function writeTensor(writer: Writer, tensor: Tensor): void {
  for (const dim of tensor.dims) writer.uint32(1 << 3).int64(dim);
  writer.uint32(2 << 3).int32(tensor.dataType);
  writer.uint32((8 << 3) | 2).string(tensor.name);
  if (tensor.raw) writer.uint32((9 << 3) | 2).bytes(tensor.raw);
  for (const value of tensor.int64s ?? []) writer.uint32(7 << 3).int64(value);
  for (const value of tensor.floats ?? []) writer.uint32((4 << 3) | 5).float(value);
  for (const [key, value] of Object.entries(tensor.external ?? {})) {
    message(writer, 13, (entry) =>
      entry
        .uint32((1 << 3) | 2)
        .string(key)
        .uint32((2 << 3) | 2)
        .string(value),
    );
  }
  if (tensor.external) writer.uint32(14 << 3).int32(1);
}

function writeAttribute(writer: Writer, attribute: Attribute): void {
  writer.uint32((1 << 3) | 2).string(attribute.name);
  if ('i' in attribute)
    writer
      .uint32(20 << 3)
      .int32(2)
      .uint32(3 << 3)
      .int64(attribute.i);
  if ('ints' in attribute) {
    writer.uint32(20 << 3).int32(7);
    for (const value of attribute.ints) writer.uint32(8 << 3).int64(value);
  }
  if ('t' in attribute) {
    writer.uint32(20 << 3).int32(4);
    message(writer, 5, (inner) => writeTensor(inner, attribute.t));
  }
  if ('g' in attribute) {
    writer.uint32(20 << 3).int32(5);
    message(writer, 6, (inner) => writeGraph(inner, attribute.g));
  }
  if ('graphBytes' in attribute)
    writer
      .uint32(20 << 3)
      .int32(5)
      .uint32((6 << 3) | 2)
      .bytes(attribute.graphBytes);
}

function writeNode(writer: Writer, node: Node): void {
  for (const input of node.inputs) writer.uint32((1 << 3) | 2).string(input);
  for (const output of node.outputs) writer.uint32((2 << 3) | 2).string(output);
  if (node.name) writer.uint32((3 << 3) | 2).string(node.name);
  writer.uint32((4 << 3) | 2).string(node.op);
  for (const attribute of node.attributes ?? []) message(writer, 5, (inner) => writeAttribute(inner, attribute));
}

function writeValueInfo(writer: Writer, name: string, dims: (number | string)[]): void {
  writer.uint32((1 << 3) | 2).string(name);
  message(writer, 2, (type) =>
    message(type, 1, (tensorType) => {
      tensorType.uint32(1 << 3).int32(FLOAT);
      message(tensorType, 2, (shape) => {
        for (const dim of dims) {
          message(shape, 1, (d) => (typeof dim === 'number' ? d.uint32(1 << 3).int64(dim) : d.uint32((2 << 3) | 2).string(dim)));
        }
      });
    }),
  );
}

function writeGraph(writer: Writer, graph: Graph): void {
  for (const node of graph.nodes) message(writer, 1, (inner) => writeNode(inner, node));
  writer.uint32((2 << 3) | 2).string('hostile');
  for (const tensor of graph.initializers ?? []) message(writer, 5, (inner) => writeTensor(inner, tensor));
  for (const input of graph.inputs ?? []) message(writer, 11, (inner) => writeValueInfo(inner, input.name, input.dims));
  for (const output of graph.outputs ?? []) message(writer, 12, (inner) => writeValueInfo(inner, output, []));
}

function onnxModel(graph: Graph, opset = 13): Uint8Array {
  const writer = Writer.create();
  writer.uint32(1 << 3).int64(8);
  writer.uint32((2 << 3) | 2).string('hostileOnnx.test');
  message(writer, 7, (inner) => writeGraph(inner, graph));
  message(writer, 8, (inner) => inner.uint32(2 << 3).int64(opset));
  return writer.finish();
}

const int64s = (name: string, values: number[]): Tensor => ({ name, dims: [values.length], dataType: INT64, int64s: values });
const floats = (name: string, dims: number[], values: number[]): Tensor => ({ name, dims, dataType: FLOAT, floats: values });

/** An image classifier's tail: x [N, 3, 8, 8] → [N, 3] scores, plus whatever `extra` (a scalar) adds. */
function classifier(extra: Node[], extraOutput: string, initializers: Tensor[] = []): Graph {
  return {
    inputs: [{ name: 'x', dims: ['N', 3, 8, 8] }],
    initializers: [int64s('flat', [0, -1]), ...initializers],
    nodes: [
      ...extra,
      { op: 'ReduceMean', inputs: [extraOutput], outputs: ['extra'], attributes: [{ name: 'keepdims', i: 0 }] },
      { op: 'GlobalAveragePool', inputs: ['x'], outputs: ['pooled'] },
      { op: 'Reshape', inputs: ['pooled', 'flat'], outputs: ['features'] },
      { op: 'Add', inputs: ['features', 'extra'], outputs: ['scores'] },
    ],
    outputs: ['scores'],
  };
}

// ---------------------------------------------------------------------------------------------
// The hostile models

/** One value tiled to `side`² by the first of three Tile nodes; the other two keep the size. */
function tiles(side: number): Uint8Array {
  return onnxModel(
    classifier(
      [
        { name: 'Tile_1', op: 'Tile', inputs: ['one', 'grow'], outputs: ['t1'] },
        { name: 'Tile_2', op: 'Tile', inputs: ['t1', 'same'], outputs: ['t2'] },
        { name: 'Tile_3', op: 'Tile', inputs: ['t2', 'same'], outputs: ['t3'] },
      ],
      't3',
      [floats('one', [1, 1], [1]), int64s('grow', [side, side]), int64s('same', [1, 1])],
    ),
  );
}

/** Each output 1.07 GB, within the per-tensor cap of 2^28 values. */
const tileChain = () => tiles(16380);

/** Three Tile outputs of 400 MB each: none over the limit alone, 1.2 GB together. */
const tileTotal = () => tiles(10000);

function constantOfShape(): Uint8Array {
  return onnxModel(
    classifier([{ name: 'Fill', op: 'ConstantOfShape', inputs: ['huge'], outputs: ['filled'] }], 'filled', [
      int64s('huge', [100000, 100000]),
    ]),
  );
}

function expandHuge(): Uint8Array {
  return onnxModel(
    classifier([{ name: 'Grow', op: 'Expand', inputs: ['one', 'huge'], outputs: ['grown'] }], 'grown', [
      floats('one', [1], [1]),
      int64s('huge', [60000, 60000]),
    ]),
  );
}

function rangeHuge(): Uint8Array {
  return onnxModel(
    classifier([{ name: 'Count', op: 'Range', inputs: ['start', 'limit', 'delta'], outputs: ['counted'] }], 'counted', [
      floats('start', [], [0]),
      floats('limit', [], [1e12]),
      floats('delta', [], [1]),
    ]),
  );
}

/** A Resize whose scales ask for terabytes: refused from its inferred output size, before anything is allocated. */
function resizeHuge(): Uint8Array {
  return onnxModel(
    classifier([{ name: 'Up', op: 'Resize', inputs: ['x', '', 'scales'], outputs: ['up'] }], 'up', [
      floats('scales', [4], [1, 1, 100000, 100000]),
    ]),
  );
}

function graphBytes(graph: Graph): Uint8Array {
  const writer = Writer.create();
  writeGraph(writer, graph);
  return writer.finish();
}

/** An If node whose subgraphs nest `depth` levels (three messages each): no decoder may recurse through them. */
function nestedSubgraphs(depth: number): Uint8Array {
  let inner = graphBytes({ nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }] });
  for (let level = 0; level < depth; level++) {
    inner = graphBytes({ nodes: [{ op: 'If', inputs: ['c'], outputs: ['y'], attributes: [{ name: 'then_branch', graphBytes: inner }] }] });
  }
  const branch: Node = {
    name: 'Branch',
    op: 'If',
    inputs: ['x'],
    outputs: ['branched'],
    attributes: [{ name: 'then_branch', graphBytes: inner }],
  };
  return onnxModel(classifier([branch], 'branched'));
}

/** A graph input whose type is a sequence of sequences `depth` deep (two messages a level), written from the inside out. */
function nestedTypes(depth: number): Uint8Array {
  const tensorType = Writer.create();
  message(tensorType, 1, (tensor) => tensor.uint32(1 << 3).int32(FLOAT));
  let inner = tensorType.finish();
  for (let level = 0; level < depth; level++) {
    const sequence = Writer.create();
    const elemType = inner;
    message(sequence, 4, (inside) => inside.uint32((1 << 3) | 2).bytes(elemType));
    inner = sequence.finish();
  }
  const writer = Writer.create();
  writer.uint32(1 << 3).int64(8);
  message(writer, 7, (graph) => {
    writeGraph(graph, classifier([], 'scores'));
    message(graph, 11, (info) =>
      info
        .uint32((1 << 3) | 2)
        .string('sequence')
        .uint32((2 << 3) | 2)
        .bytes(inner),
    );
  });
  return writer.finish();
}

/** A model whose one node writes its operator type as a number. */
function opTypeAsNumber(): Uint8Array {
  const writer = Writer.create();
  writer.uint32(1 << 3).int64(8);
  message(writer, 7, (graph) =>
    message(graph, 1, (node) =>
      node
        .uint32((1 << 3) | 2)
        .string('x')
        .uint32(4 << 3)
        .int32(7),
    ),
  );
  return writer.finish();
}

let manyNodesModel: Uint8Array | undefined;

/** 250,000 Identity nodes (and the classifier's four): written once, used in process and on the command line. */
function manyNodes(): Uint8Array {
  manyNodesModel ??= identityChain(250_000);
  return manyNodesModel;
}

function identityChain(count: number): Uint8Array {
  const chain: Node[] = Array.from({ length: count }, (_, i) => ({ op: 'Identity', inputs: [i ? `v${i - 1}` : 'x'], outputs: [`v${i}`] }));
  return onnxModel(classifier(chain, `v${count - 1}`));
}

/** An initializer that declares 2^40 values (4 TB) with four bytes of data. */
function hugeInitializer(): Uint8Array {
  const weight: Tensor = { name: 'w', dims: [1 << 20, 1 << 20], dataType: FLOAT, raw: new Uint8Array(4) };
  return onnxModel(classifier([{ name: 'Use', op: 'Mul', inputs: ['x', 'w'], outputs: ['used'] }], 'used', [weight]));
}

/**
 * Sizes only running tells: x [N, K] against its own transpose is [K, K], and tiled by its own shape
 * [N², K²]. With K = 20,000 each is 1.6 GB, which the runtime guard refuses before allocating.
 */
function runtimeOuter(op: 'Add' | 'Tile'): Uint8Array {
  const grown: Node[] =
    op === 'Add'
      ? [
          { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attributes: [{ name: 'perm', ints: [1, 0] }] },
          { name: 'Outer', op: 'Add', inputs: ['x', 'xt'], outputs: ['grown'] },
        ]
      : [
          { op: 'Shape', inputs: ['x'], outputs: ['times'] },
          { name: 'Outer', op: 'Tile', inputs: ['x', 'times'], outputs: ['grown'] },
        ];
  return onnxModel({
    inputs: [{ name: 'x', dims: ['N', 'K'] }],
    nodes: [...grown, { op: 'ReduceMean', inputs: ['grown'], outputs: ['mean'], attributes: [{ name: 'keepdims', i: 0 }] }],
    outputs: ['mean'],
  });
}

/**
 * PyTorch's export of F.pad: the pads vector is built from a ConstantOfShape of zeros, concatenated,
 * reshaped to pairs, reversed and flattened. `zeros` is the count the exporter writes as 4; a damaged
 * file (a flipped bit in that int64) asked for 2,097,156, making a pads vector of 2 M values out of
 * a 23 KB file.
 */
function padChain(zeros: number): Uint8Array {
  const chain: Node[] = [
    {
      op: 'ConstantOfShape',
      inputs: ['zeros'],
      outputs: ['filled'],
      attributes: [{ name: 'value', t: { name: 'v', dims: [1], dataType: INT64, int64s: [0] } }],
    },
    { op: 'Concat', inputs: ['given', 'filled'], outputs: ['all'], attributes: [{ name: 'axis', i: 0 }] },
    { op: 'Reshape', inputs: ['all', 'pairs'], outputs: ['paired'] },
    { op: 'Slice', inputs: ['paired', 'start', 'end', 'axis0', 'back'], outputs: ['reversed'] },
    { op: 'Transpose', inputs: ['reversed'], outputs: ['swapped'], attributes: [{ name: 'perm', ints: [1, 0] }] },
    { op: 'Reshape', inputs: ['swapped', 'flat1'], outputs: ['flattened'] },
    { op: 'Cast', inputs: ['flattened'], outputs: ['pads'], attributes: [{ name: 'to', i: INT64 }] },
    { name: 'Padding', op: 'Pad', inputs: ['x', 'pads'], outputs: ['padded'] },
  ];
  return onnxModel(
    classifier(chain, 'padded', [
      int64s('zeros', [zeros]),
      int64s('given', [1, 1, 1, 1]),
      int64s('pairs', [-1, 2]),
      int64s('start', [-1]),
      int64s('end', [-(2 ** 53)]),
      int64s('axis0', [0]),
      int64s('back', [-1]),
      int64s('flat1', [-1]),
    ]),
    11,
  );
}

function memorySource(fileName: string, bytes: Uint8Array, limits?: Partial<Limits>): ModelSource {
  return {
    fileName,
    limits,
    read: async () => bytes,
    readSibling: async (name) => {
      throw new Error(`no file ${name}`);
    },
  };
}

/** Both readers refuse the model, the same way. */
async function bothRefuse(fileName: string, bytes: Uint8Array, expected: RegExp): Promise<ModelReadError[]> {
  const errors = [await refusal(readOnnxSummary(memorySource(fileName, bytes))), await refusal(loadOnnx(memorySource(fileName, bytes)))];
  for (const error of errors) assert.match(error.message, expected);
  return errors;
}

// ---------------------------------------------------------------------------------------------

describe('hostile ONNX models are refused before they are run', () => {
  test('a chain of Tiles within the per-tensor cap: the first output over the model limit is named', async () => {
    const errors = await bothRefuse(
      'tiles.onnx',
      tileChain(),
      /^tiles\.onnx needs 1\.1 GB for the output of node "Tile_1" \(Tile\), more than the 1\.0 GB ConvLens allows one model/,
    );
    for (const error of errors) {
      assert.ok(error instanceof LimitExceededError);
      assert.equal(error.limit, 'modelBytes');
    }
  });

  test('outputs under the limit one by one but not together: the total is named', async () => {
    await bothRefuse(
      'tiles.onnx',
      tileTotal(),
      /^tiles\.onnx needs 1\.2 GB for its weights and the outputs of its first 3 nodes, more than the 1\.0 GB/,
    );
  });

  test('a model within a raised limit is not refused for its size', async () => {
    const summary = await readOnnxSummary(memorySource('tiles.onnx', tileTotal(), { modelBytes: 2e9 }));
    assert.deepEqual(summary.layers.find((layer) => layer.id === 'Tile_3')?.outputShapes, [[10000, 10000]]);
  });

  test('ConstantOfShape, Expand and Range to huge sizes', async () => {
    await bothRefuse('fill.onnx', constantOfShape(), /^fill\.onnx needs 40\.0 GB for the output of node "Fill" \(ConstantOfShape\)/);
    await bothRefuse('expand.onnx', expandHuge(), /^expand\.onnx needs 14\.4 GB for the output of node "Grow" \(Expand\)/);
    await bothRefuse('range.onnx', rangeHuge(), /^range\.onnx needs 4\.0 TB for the output of node "Count" \(Range\)/);
  });

  test('sizes that only running tells are checked before the operator allocates', async () => {
    for (const op of ['Add', 'Tile'] as const) {
      const model = await loadOnnx(memorySource('outer.onnx', runtimeOuter(op)));
      const x = tf.zeros([1, 20_000]);
      try {
        const error = await refusal(Promise.resolve().then(() => predict(model, singleInput(model, x))));
        assert.match(
          error.message,
          new RegExp(`^outer\\.onnx needs 1\\.6 GB for the output of node "Outer" \\(${op}\\), more than the 1\\.0 GB`),
        );
      } finally {
        x.dispose();
        model.dispose();
      }
    }
  });

  test('Resize with huge scales is refused by the model limit, from its inferred output size', async () => {
    await bothRefuse(
      'resize.onnx',
      resizeHuge(),
      /^resize\.onnx needs 7\.7 TB for the output of node "Up" \(Resize\), more than the 1\.0 GB ConvLens allows one model/,
    );
  });

  test('subgraphs nested deeper than the nesting limit', async () => {
    await bothRefuse(
      'nested.onnx',
      nestedSubgraphs(2000),
      /^nested\.onnx has subgraphs nested \d+ or more levels deep, more than the 200 levels of nesting ConvLens reads\.$/,
    );
    // A few levels, as real control flow has, are read (and an If on the input's values refused when loading).
    await readOnnxSummary(memorySource('shallow.onnx', nestedSubgraphs(3)));
  });

  test('subgraphs deeper than protobufjs decodes by default, within the nesting limit', async () => {
    // 40 levels are some 125 nested messages: over protobufjs's own recursion limit of 100, under ConvLens's 200.
    await readOnnxSummary(memorySource('deep.onnx', nestedSubgraphs(40)));
  });

  test('types nested deeper than the nesting limit', async () => {
    await bothRefuse(
      'types.onnx',
      nestedTypes(2000),
      /^types\.onnx has messages nested 201 or more levels deep, more than the 200 levels of nesting ConvLens reads\.$/,
    );
  });

  test('more numbers in repeated fields than the model limit holds', async () => {
    const bytes = onnxModel(
      classifier(
        [{ op: 'Identity', inputs: ['x'], outputs: ['y'], attributes: [{ name: 'many', ints: Array.from({ length: 500 }, (_, i) => i) }] }],
        'y',
      ),
    );
    const error = await refusal(readOnnxSummary(memorySource('ints.onnx', bytes, { modelBytes: 2000 })));
    assert.ok(error instanceof LimitExceededError);
    assert.match(
      error.message,
      /^ints\.onnx needs more than .+ for the numbers its fields list, more than the .+ ConvLens allows one model/,
    );
  });

  test('a field written with the wrong wire type', async () => {
    await bothRefuse(
      'wire.onnx',
      opTypeAsNumber(),
      /^wire\.onnx is not a readable ONNX model: the field NodeProto\.op_type has the wrong encoding\.$/,
    );
  });

  test('a graph of more nodes than the limit', async () => {
    await bothRefuse('many.onnx', manyNodes(), /^many\.onnx has 250,004 nodes, more than the 200,000 ConvLens reads in one model\.$/);
  });

  test('an initializer declaring far more values than its bytes hold', async () => {
    await bothRefuse(
      'weights.onnx',
      hugeInitializer(),
      /^weights\.onnx declares 4\.4 TB of weights and constants, more than the 1\.0 GB ConvLens allows one model/,
    );
    const small = onnxModel(
      classifier([{ name: 'Use', op: 'Mul', inputs: ['x', 'w'], outputs: ['used'] }], 'used', [
        { name: 'w', dims: [1000], dataType: FLOAT, raw: new Uint8Array(4) },
      ]),
    );
    const error = await refusal(loadOnnx(memorySource('short.onnx', small)));
    assert.match(error.message, /^short\.onnx cannot be loaded: the tensor "w" has 4 bytes of data where its shape \[1000\] needs 4000\.$/);
  });

  test('external data whose declared length or place disagrees with the shape or the limit', async () => {
    const external = (entries: Record<string, string>) =>
      onnxModel(
        classifier([{ name: 'Use', op: 'Mul', inputs: ['x', 'w'], outputs: ['used'] }], 'used', [
          { name: 'w', dims: [1000], dataType: FLOAT, external: { location: 'w.bin', ...entries } },
        ]),
      );
    // Refused before the file beside it is read (this source has none).
    let error = await refusal(loadOnnx(memorySource('external.onnx', external({ offset: '0', length: '8' }))));
    assert.match(
      error.message,
      /^external\.onnx cannot be loaded: the tensor "w" declares 8 bytes in "w\.bin" where its shape \[1000\] needs 4000\.$/,
    );
    error = await refusal(loadOnnx(memorySource('external.onnx', external({ offset: '5000000000' }))));
    assert.match(
      error.message,
      /^external\.onnx keeps the tensor "w" up to 5\.0 GB into "w\.bin", more than the 1\.0 GB ConvLens allows one model/,
    );
  });

  test('a shape-like chain computing a pads vector of millions of values (a damaged count)', async () => {
    // The undamaged pattern loads, and pads H and W by one on each side.
    const summary = await readOnnxSummary(memorySource('pad.onnx', padChain(4)));
    assert.deepEqual(summary.layers.find((layer) => layer.id === 'Padding')?.outputShapes, [[null, 10, 10, 3]]);
    const model = await loadOnnx(memorySource('pad.onnx', padChain(4)));
    model.dispose();
    const error = await refusal(loadOnnx(memorySource('pad.onnx', padChain(2_097_156))));
    assert.equal(error.message, 'pad.onnx has a Pad node "Padding" that has 2097160 pad amounts for a tensor of rank 4.');
    // The pads are refused from their count, before any is copied; the summary leaves the node's shape open.
    await readOnnxSummary(memorySource('pad.onnx', padChain(2_097_156)));
  });

  test('dimensions out of range', async () => {
    for (const [dims, shown] of [
      [[-3, 2], '-3'],
      [[2 ** 31, 0], '2147483648'],
    ] as const) {
      const bytes = onnxModel(
        classifier([{ name: 'Use', op: 'Mul', inputs: ['x', 'w'], outputs: ['used'] }], 'used', [
          { name: 'w', dims: [...dims], dataType: FLOAT, raw: new Uint8Array(0) },
        ]),
      );
      await bothRefuse('dims.onnx', bytes, new RegExp(`^dims\\.onnx cannot be (loaded|read): the tensor "w" has the dimension ${shown}`));
    }
  });
});

describe('hostile ONNX models on the command line', () => {
  const folder = temporaryFolder('convlens-hostile-onnx-');
  const image = path.join(repoRoot, 'sample', 'images', 'sneaker.png');
  const files = { tiles: path.join(folder, 'tiles.onnx'), many: path.join(folder, 'many.onnx') };
  before(() => {
    writeFileSync(files.tiles, tileChain());
    writeFileSync(files.many, manyNodes());
  });

  for (const [name, expected] of [
    ['tiles', /^convlens: tiles\.onnx needs 1\.1 GB for the output of node "Tile_1" \(Tile\)/],
    ['many', /^convlens: many\.onnx has 250,004 nodes, more than the 200,000 ConvLens reads in one model\./],
  ] as const) {
    for (const command of ['summary', 'predict'] as const) {
      test(`${command} ${name}.onnx: one sentence, exit 1, bounded memory`, async () => {
        const args = command === 'summary' ? ['summary', files[name]] : ['predict', files[name], image];
        const run = await runCliBounded(args);
        assert.equal(run.hung, false, `${command} ${name}.onnx did not end (${run.seconds.toFixed(1)} s)`);
        assert.equal(run.code, 1, run.output.slice(-2000));
        assert.match(run.output, expected);
        assert.equal(run.output.split('\n').filter((line) => line.startsWith('convlens:')).length, 1, run.output.slice(-2000));
        assert.ok(run.maxRssBytes! < HOSTILE_RSS_LIMIT, `peak RSS ${(run.maxRssBytes! / 1e6).toFixed(0)} MB`);
      });
    }
  }
});
