/**
 * Writes ONNX nodes, constants and graph inputs/outputs as protobuf bytes to append to a model file:
 * protobuf merges a message written twice, so `model bytes + graph { node … }` is the model with those
 * nodes added (repeated fields are appended). The native runtime is given models extended this way
 * (nativeSession.ts, gradientGraph.ts); the engine's own decoder never sees them.
 */
import { Writer } from 'protobufjs/minimal';

/** An attribute value: a float, an int, a list of ints, or a list of floats (`{ floats }`). */
export type AttributeValue = number | { int: number } | readonly number[] | { floats: readonly number[] };

export interface AppendedNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface AppendedConstant {
  name: string;
  dims: readonly number[];
  /** float32 or int64 values. */
  values: Float32Array | BigInt64Array;
}

export interface GraphAppendix {
  nodes: readonly AppendedNode[];
  constants: readonly AppendedConstant[];
  /** New graph inputs, float32 of any shape. */
  inputs: readonly string[];
  outputs: readonly string[];
}

// onnx.proto's field numbers.
const MODEL_GRAPH = 7;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, opType: 4, attribute: 5 } as const;
const ATTRIBUTE = { name: 1, f: 2, i: 3, floats: 7, ints: 8, type: 20 } as const;
const ATTRIBUTE_TYPE = { float: 1, int: 2, floats: 6, ints: 7 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 } as const;
const DATA_TYPE = { float: 1, int64: 7 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE_TENSOR = 1;
const TENSOR_ELEM_TYPE = 1;

const LENGTH_DELIMITED = 2;
const VARINT = 0;
const FIXED32 = 5;
const tag = (field: number, wireType: number) => (field << 3) | wireType;

/** The bytes that, appended to a model file, add `appendix` to its main graph. */
export function graphAppendixBytes(appendix: GraphAppendix): Uint8Array {
  const graph = Writer.create();
  for (const node of appendix.nodes) message(graph, GRAPH.node, (w) => writeNode(w, node));
  for (const constant of appendix.constants) message(graph, GRAPH.initializer, (w) => writeConstant(w, constant));
  for (const name of appendix.inputs) message(graph, GRAPH.input, (w) => writeFloatValueInfo(w, name));
  for (const name of appendix.outputs) message(graph, GRAPH.output, (w) => w.uint32(tag(VALUE_INFO.name, LENGTH_DELIMITED)).string(name));
  const model = Writer.create();
  model.uint32(tag(MODEL_GRAPH, LENGTH_DELIMITED)).bytes(graph.finish());
  return model.finish();
}

function message(writer: Writer, field: number, write: (w: Writer) => void): void {
  writer.uint32(tag(field, LENGTH_DELIMITED)).fork();
  write(writer);
  writer.ldelim();
}

function writeNode(w: Writer, node: AppendedNode): void {
  for (const input of node.inputs) w.uint32(tag(NODE.input, LENGTH_DELIMITED)).string(input);
  for (const output of node.outputs) w.uint32(tag(NODE.output, LENGTH_DELIMITED)).string(output);
  w.uint32(tag(NODE.opType, LENGTH_DELIMITED)).string(node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) message(w, NODE.attribute, (a) => writeAttribute(a, name, value));
}

function writeAttribute(w: Writer, name: string, value: AttributeValue): void {
  w.uint32(tag(ATTRIBUTE.name, LENGTH_DELIMITED)).string(name);
  if (typeof value === 'number') {
    w.uint32(tag(ATTRIBUTE.f, FIXED32)).float(value);
    w.uint32(tag(ATTRIBUTE.type, VARINT)).int32(ATTRIBUTE_TYPE.float);
  } else if ('int' in value) {
    w.uint32(tag(ATTRIBUTE.i, VARINT)).int64(value.int);
    w.uint32(tag(ATTRIBUTE.type, VARINT)).int32(ATTRIBUTE_TYPE.int);
  } else if ('floats' in value) {
    for (const f of value.floats) w.uint32(tag(ATTRIBUTE.floats, FIXED32)).float(f);
    w.uint32(tag(ATTRIBUTE.type, VARINT)).int32(ATTRIBUTE_TYPE.floats);
  } else {
    for (const i of value) w.uint32(tag(ATTRIBUTE.ints, VARINT)).int64(i);
    w.uint32(tag(ATTRIBUTE.type, VARINT)).int32(ATTRIBUTE_TYPE.ints);
  }
}

function writeConstant(w: Writer, constant: AppendedConstant): void {
  for (const dim of constant.dims) w.uint32(tag(TENSOR.dims, VARINT)).int64(dim);
  const dataType = constant.values instanceof Float32Array ? DATA_TYPE.float : DATA_TYPE.int64;
  w.uint32(tag(TENSOR.dataType, VARINT)).int32(dataType);
  w.uint32(tag(TENSOR.name, LENGTH_DELIMITED)).string(constant.name);
  // raw_data is little-endian, as typed arrays are on every platform Node and browsers run on.
  const { buffer, byteOffset, byteLength } = constant.values;
  w.uint32(tag(TENSOR.rawData, LENGTH_DELIMITED)).bytes(new Uint8Array(buffer, byteOffset, byteLength));
}

/** A graph input: a float32 tensor of a shape the runtime takes from what it is given. */
function writeFloatValueInfo(w: Writer, name: string): void {
  w.uint32(tag(VALUE_INFO.name, LENGTH_DELIMITED)).string(name);
  message(w, VALUE_INFO.type, (type) =>
    message(type, TYPE_TENSOR, (tensor) => tensor.uint32(tag(TENSOR_ELEM_TYPE, VARINT)).int32(DATA_TYPE.float)),
  );
}
