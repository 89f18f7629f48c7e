/**
 * The ONNX file format: a protobuf `ModelProto`, decoded into plain objects.
 *
 * The decoding is protobufjs's static code, generated from the vendored onnx.proto (proto/, see
 * scripts/generate-onnx-proto.sh): static code, not a reflected schema, because reflection compiles
 * decoders with `new Function`, which a webview's content security policy forbids. Before it runs, the
 * file is walked without recursion (wireScan.ts) and refused if it is deeper, larger in nodes or in
 * decoded numbers than its limits allow. What follows turns the generated messages into the few plain
 * objects the reader uses: int64 values become numbers (beyond 2^53, never a real size, ±Infinity),
 * bytes stay views of the file's buffer, and fields ConvLens has no use for are left out.
 */
import { Reader } from 'protobufjs/minimal';
import { onnx } from './proto/onnx';
import { OnnxFormatError, OnnxLimitError, scanModel, type DecodeLimits } from './wireScan';

export { OnnxFormatError, OnnxLimitError, type DecodeLimits };

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImports: OperatorSetId[];
  graph: OnnxGraph;
  metadata: Map<string, string>;
}

export interface OperatorSetId {
  /** '' (or 'ai.onnx') for the standard operators. */
  domain: string;
  version: number;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  /** Tensor names; '' marks an optional input left out. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export const enum AttributeType {
  Undefined = 0,
  Float = 1,
  Int = 2,
  String = 3,
  Tensor = 4,
  Graph = 5,
  Floats = 6,
  Ints = 7,
  Strings = 8,
  Tensors = 9,
  Graphs = 10,
  SparseTensor = 11,
}

export interface OnnxAttribute {
  name: string;
  type: AttributeType;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  /** A subgraph (If's branches, Loop's and Scan's bodies). */
  g?: OnnxGraph;
  graphs: OnnxGraph[];
}

/** onnx.proto's TensorProto.DataType. */
export const enum DataType {
  Undefined = 0,
  Float = 1,
  Uint8 = 2,
  Int8 = 3,
  Uint16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  Uint32 = 12,
  Uint64 = 13,
  Complex64 = 14,
  Complex128 = 15,
  Bfloat16 = 16,
}

/** A typed data field of a TensorProto (float_data, int64_data…), its values as numbers. */
export interface TensorDataField {
  field: TensorField;
  values: number[];
}

export const enum TensorField {
  FloatData = 4,
  Int32Data = 5,
  StringData = 6,
  Int64Data = 7,
  RawData = 9,
  DoubleData = 10,
  Uint64Data = 11,
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: DataType;
  rawData?: Uint8Array;
  dataFields: TensorDataField[];
  /** Set when the values live in another file (`location`, `offset`, `length` entries). */
  externalData?: Map<string, string>;
}

export interface ValueInfo {
  name: string;
  /** Absent when the file gives no tensor type. */
  elemType?: DataType;
  /** Absent when the rank is unknown; a dimension is a number, a symbolic name, or null. */
  shape?: (number | string | null)[];
}

const NO_LIMITS: DecodeLimits = { graphNodes: Infinity, nestingDepth: Infinity };

/**
 * Decodes an ONNX model. Throws OnnxFormatError (or protobufjs's RangeError or Error) on damaged bytes
 * and OnnxLimitError on a model beyond `limits`, which is found before anything is decoded.
 */
export function decodeModel(bytes: Uint8Array, limits: DecodeLimits = NO_LIMITS): OnnxModel {
  const depth = scanModel(bytes, limits);
  // The generated decoder refuses messages deeper than protobufjs's recursion limit (100 by default); the
  // walk has measured this file's depth against the reader's own limit, which may be larger.
  const recursionLimit = Reader.recursionLimit;
  Reader.recursionLimit = recursionLimit + depth;
  let decoded: onnx.ModelProto;
  try {
    decoded = onnx.ModelProto.decode(numberReader(bytes));
  } finally {
    Reader.recursionLimit = recursionLimit;
  }
  const sawVersion = has(decoded, 'irVersion');
  if (!sawVersion || !decoded.graph) throw new OnnxFormatError(`it has no ${decoded.graph ? 'IR version' : 'graph'}`);
  return {
    irVersion: int64(decoded.irVersion),
    producerName: decoded.producerName,
    producerVersion: decoded.producerVersion,
    opsetImports: decoded.opsetImport.map((id) => ({ domain: id.domain ?? '', version: int64(id.version) })),
    graph: toGraph(decoded.graph),
    metadata: entries(decoded.metadataProps),
  };
}

type Message<T> = Omit<T, '$unknowns'>;

function toGraph(graph: Message<onnx.GraphProto.$Properties>): OnnxGraph {
  return {
    name: graph.name ?? '',
    nodes: (graph.node ?? []).map(toNode),
    initializers: (graph.initializer ?? []).map(toTensor),
    inputs: (graph.input ?? []).map(toValueInfo),
    outputs: (graph.output ?? []).map(toValueInfo),
    valueInfo: (graph.valueInfo ?? []).map(toValueInfo),
  };
}

function toNode(node: Message<onnx.NodeProto.$Properties>): OnnxNode {
  if (!node.opType) throw new OnnxFormatError('it has a node without an operator type');
  const attributes = new Map<string, OnnxAttribute>();
  for (const attribute of node.attribute ?? []) attributes.set(attribute.name ?? '', toAttribute(attribute));
  return {
    name: node.name ?? '',
    opType: node.opType,
    domain: node.domain ?? '',
    inputs: list(node.input),
    outputs: list(node.output),
    attributes,
  };
}

function toAttribute(decoded: Message<onnx.AttributeProto.$Properties>): OnnxAttribute {
  const attribute: OnnxAttribute = {
    name: decoded.name ?? '',
    type: (decoded.type ?? 0) as number as AttributeType,
    floats: list(decoded.floats),
    ints: numbers(decoded.ints),
    strings: list(decoded.strings),
    // Subgraphs recurse no deeper than the walk has allowed (wireScan.ts bounds the nesting).
    graphs: list(decoded.graphs).map(toGraph),
  };
  if (decoded.g) attribute.g = toGraph(decoded.g);
  if (has(decoded, 'f')) attribute.f = decoded.f!;
  if (has(decoded, 'i')) attribute.i = int64(decoded.i!);
  if (has(decoded, 's')) attribute.s = decoded.s!;
  if (decoded.t) attribute.t = toTensor(decoded.t);
  // Files written before IR version 2 leave the type out: infer it from the field that is set.
  if (attribute.type === AttributeType.Undefined) attribute.type = impliedAttributeType(attribute);
  return attribute;
}

function impliedAttributeType(attribute: OnnxAttribute): AttributeType {
  if (attribute.f !== undefined) return AttributeType.Float;
  if (attribute.i !== undefined) return AttributeType.Int;
  if (attribute.s !== undefined) return AttributeType.String;
  if (attribute.t !== undefined) return AttributeType.Tensor;
  if (attribute.g !== undefined) return AttributeType.Graph;
  if (attribute.floats.length) return AttributeType.Floats;
  if (attribute.ints.length) return AttributeType.Ints;
  if (attribute.strings.length) return AttributeType.Strings;
  if (attribute.graphs.length) return AttributeType.Graphs;
  return AttributeType.Undefined;
}

function toTensor(decoded: Message<onnx.TensorProto.$Properties>): OnnxTensor {
  const tensor: OnnxTensor = {
    name: decoded.name ?? '',
    dims: numbers(decoded.dims),
    dataType: (decoded.dataType ?? 0) as DataType,
    dataFields: [],
  };
  if (has(decoded, 'rawData')) tensor.rawData = decoded.rawData!;
  const field = (field: TensorField, values: number[] | null | undefined) => {
    if (values?.length) tensor.dataFields.push({ field, values });
  };
  field(TensorField.FloatData, decoded.floatData);
  field(TensorField.Int32Data, decoded.int32Data);
  field(TensorField.Int64Data, numbers(decoded.int64Data));
  field(TensorField.DoubleData, decoded.doubleData);
  field(TensorField.Uint64Data, numbers(decoded.uint64Data));
  if (decoded.externalData?.length) tensor.externalData = entries(decoded.externalData);
  // EXTERNAL: the entries say where. A file with entries but DEFAULT is read from the entries too.
  if (decoded.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) tensor.externalData ??= new Map();
  return tensor;
}

function toValueInfo(decoded: Message<onnx.ValueInfoProto.$Properties>): ValueInfo {
  const info: ValueInfo = { name: decoded.name ?? '' };
  // Only tensor types are of interest (sequences and maps are left out).
  const tensorType = decoded.type?.tensorType;
  if (!tensorType) return info;
  if (has(tensorType, 'elemType')) info.elemType = tensorType.elemType!;
  if (tensorType.shape) {
    info.shape = (tensorType.shape.dim ?? []).map((dim) => {
      if (has(dim, 'dimValue')) return int64(dim.dimValue!);
      if (has(dim, 'dimParam')) return dim.dimParam!;
      return null;
    });
  }
  return info;
}

function entries(list: readonly Message<onnx.StringStringEntryProto.$Properties>[] | null | undefined): Map<string, string> {
  return new Map((list ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
}

/** Whether a field was in the file: the generated messages keep defaults on their prototypes. */
function has(message: object, field: string): boolean {
  return Object.hasOwn(message, field);
}

/** A repeated field of its own (an absent one is the prototype's shared, frozen empty array). */
function list<T>(values: T[] | null | undefined): T[] {
  return values && !Object.isFrozen(values) ? values : [];
}

/** A repeated 64-bit field, which `numberReader` has read as numbers already. */
function numbers(values: readonly unknown[] | null | undefined): number[] {
  return list(values as number[] | null | undefined);
}

/**
 * A reader that gives 64-bit integers as numbers rather than as Long objects: a file holds millions of
 * them (dimensions, attribute lists, int64 tensor data), and Longs held until the end of decoding would
 * take six times the memory and most of the time collecting it.
 */
function numberReader(bytes: Uint8Array): Reader {
  const reader = Reader.create(bytes);
  const readInt64 = reader.int64 as unknown as () => Int64;
  const readUint64 = reader.uint64 as unknown as () => Int64;
  const numbers = reader as unknown as { int64(): number; uint64(): number };
  numbers.int64 = () => int64(readInt64.call(reader));
  numbers.uint64 = () => uint64(readUint64.call(reader));
  return reader;
}

type Int64 = number | { toNumber(): number } | null | undefined;

/** An int64 as a JavaScript number; values beyond 2^53 (never a real size) become ±Infinity. */
function int64(value: Int64): number {
  const number = typeof value === 'number' ? value : (value?.toNumber() ?? 0);
  return Number.isSafeInteger(number) ? number : number < 0 ? -Infinity : Infinity;
}

/** A uint64 as the nearest JavaScript number. */
function uint64(value: Int64): number {
  return typeof value === 'number' ? value : (value?.toNumber() ?? 0);
}
