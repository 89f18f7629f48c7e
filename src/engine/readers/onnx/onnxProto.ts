/**
 * The ONNX file format: a protobuf `ModelProto`, decoded into plain objects.
 *
 * The decoders are written out per message on protobufjs's wire `Reader`, the way protobufjs's own
 * static code generator writes them, rather than built from a reflected schema: reflection compiles
 * decoders with `new Function`, which a webview's content security policy forbids. Writing them out
 * also lets tensor data stay undecoded: a tensor keeps views of its data fields, and only what is used
 * is converted (see tensors.ts), so reading a model's structure costs little whatever its size.
 *
 * Field numbers are those of onnx.proto (ONNX 1.x, IR versions 3–10). Fields ConvLens has no use for
 * (documentation strings, training info, functions, sparse tensors) are skipped.
 */
import { Reader } from 'protobufjs/minimal';

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
  /** Subgraphs (If, Loop, Scan) are not decoded: ConvLens runs no control flow. */
  hasGraph: boolean;
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

/** A typed data field of a TensorProto as it lies in the file: decoded only when the values are needed. */
export interface TensorDataField {
  field: TensorField;
  /** The field's bytes: packed values, or one unpacked value. */
  bytes: Uint8Array;
  /** Wire type 2 (packed) or the scalar wire type of a single unpacked value. */
  wireType: number;
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

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Thrown for bytes that do not follow the protobuf encoding of an ONNX model. */
export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
}

/** How much structure a decoder reads: a file may declare more nodes or deeper subgraphs than memory or the stack hold. */
export interface DecodeLimits {
  /** Nodes in the main graph. */
  graphNodes: number;
  /** Depth of nested messages, the ModelProto being level 1. */
  nestingDepth: number;
}

/** Thrown for a file with more structure than `DecodeLimits` allow; `asks` says what it has (a predicate). */
export class OnnxLimitError extends Error {
  override name = 'OnnxLimitError';
  constructor(
    readonly limit: keyof DecodeLimits,
    readonly asks: string,
  ) {
    super(asks);
  }
}

const NO_LIMITS: DecodeLimits = { graphNodes: Infinity, nestingDepth: Infinity };

/** Levels of messages above a node's attribute: ModelProto, GraphProto, NodeProto. */
const ATTRIBUTE_DEPTH = 4;

/**
 * Decodes an ONNX model. Throws OnnxFormatError (or a RangeError from the reader) on damaged bytes and
 * OnnxLimitError on a graph beyond `limits`, which is found before its nodes are held in memory.
 */
export function decodeModel(bytes: Uint8Array, limits: DecodeLimits = NO_LIMITS): OnnxModel {
  const reader = Reader.create(bytes);
  const model: OnnxModel = {
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    opsetImports: [],
    graph: emptyGraph(),
    metadata: new Map(),
  };
  let sawGraph = false;
  let sawVersion = false;
  readFields(reader, reader.len, (field, wireType) => {
    switch (field) {
      case 1:
        expectWire(wireType, VARINT, 'ModelProto.ir_version');
        model.irVersion = int64(reader);
        sawVersion = true;
        return true;
      case 2:
        model.producerName = stringField(reader, wireType, 'ModelProto.producer_name');
        return true;
      case 3:
        model.producerVersion = stringField(reader, wireType, 'ModelProto.producer_version');
        return true;
      case 7:
        model.graph = message(reader, wireType, 'ModelProto.graph', (inner, end) => decodeGraph(inner, end, limits));
        sawGraph = true;
        return true;
      case 8:
        model.opsetImports.push(message(reader, wireType, 'ModelProto.opset_import', decodeOperatorSetId));
        return true;
      case 14: {
        const [key, value] = message(reader, wireType, 'ModelProto.metadata_props', decodeStringEntry);
        model.metadata.set(key, value);
        return true;
      }
      default:
        return false;
    }
  });
  if (!sawVersion || !sawGraph) throw new OnnxFormatError(`it has no ${sawGraph ? 'IR version' : 'graph'}`);
  return model;
}

function emptyGraph(): OnnxGraph {
  return { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
}

function decodeGraph(reader: Reader, end: number, limits: DecodeLimits): OnnxGraph {
  const graph = emptyGraph();
  // Nodes past the limit are counted, not decoded, so that the message can say how many there are.
  let skippedNodes = 0;
  readFields(reader, end, (field, wireType) => {
    switch (field) {
      case 1:
        if (graph.nodes.length >= limits.graphNodes) {
          expectWire(wireType, LENGTH_DELIMITED, 'GraphProto.node');
          skippedNodes++;
          return false;
        }
        graph.nodes.push(message(reader, wireType, 'GraphProto.node', (inner, nodeEnd) => decodeNode(inner, nodeEnd, limits)));
        return true;
      case 2:
        graph.name = stringField(reader, wireType, 'GraphProto.name');
        return true;
      case 5:
        graph.initializers.push(message(reader, wireType, 'GraphProto.initializer', decodeTensor));
        return true;
      case 11:
        graph.inputs.push(message(reader, wireType, 'GraphProto.input', decodeValueInfo));
        return true;
      case 12:
        graph.outputs.push(message(reader, wireType, 'GraphProto.output', decodeValueInfo));
        return true;
      case 13:
        graph.valueInfo.push(message(reader, wireType, 'GraphProto.value_info', decodeValueInfo));
        return true;
      default:
        return false;
    }
  });
  if (skippedNodes) throw new OnnxLimitError('graphNodes', `has ${(graph.nodes.length + skippedNodes).toLocaleString('en-US')} nodes`);
  return graph;
}

function decodeNode(reader: Reader, end: number, limits: DecodeLimits): OnnxNode {
  const node: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  readFields(reader, end, (field, wireType) => {
    switch (field) {
      case 1:
        node.inputs.push(stringField(reader, wireType, 'NodeProto.input'));
        return true;
      case 2:
        node.outputs.push(stringField(reader, wireType, 'NodeProto.output'));
        return true;
      case 3:
        node.name = stringField(reader, wireType, 'NodeProto.name');
        return true;
      case 4:
        node.opType = stringField(reader, wireType, 'NodeProto.op_type');
        return true;
      case 5: {
        const attribute = message(reader, wireType, 'NodeProto.attribute', (inner, attributeEnd) => decodeAttribute(inner, attributeEnd, limits));
        node.attributes.set(attribute.name, attribute);
        return true;
      }
      case 7:
        node.domain = stringField(reader, wireType, 'NodeProto.domain');
        return true;
      default:
        return false;
    }
  });
  if (!node.opType) throw new OnnxFormatError('it has a node without an operator type');
  return node;
}

function decodeAttribute(reader: Reader, end: number, limits: DecodeLimits): OnnxAttribute {
  const attribute: OnnxAttribute = { name: '', type: AttributeType.Undefined, floats: [], ints: [], strings: [], hasGraph: false };
  readFields(reader, end, (field, wireType) => {
    switch (field) {
      case 1:
        attribute.name = stringField(reader, wireType, 'AttributeProto.name');
        return true;
      case 20:
        expectWire(wireType, VARINT, 'AttributeProto.type');
        attribute.type = reader.int32();
        return true;
      case 2:
        expectWire(wireType, FIXED32, 'AttributeProto.f');
        attribute.f = reader.float();
        return true;
      case 3:
        expectWire(wireType, VARINT, 'AttributeProto.i');
        attribute.i = int64(reader);
        return true;
      case 4:
        expectWire(wireType, LENGTH_DELIMITED, 'AttributeProto.s');
        attribute.s = reader.bytes();
        return true;
      case 5:
        attribute.t = message(reader, wireType, 'AttributeProto.t', decodeTensor);
        return true;
      case 6:
      case 11:
        // Not decoded, but measured: their depth is what a file could use against a reader that recursed.
        expectWire(wireType, LENGTH_DELIMITED, field === 6 ? 'AttributeProto.g' : 'AttributeProto.graphs');
        checkSubgraphDepth(reader.bytes(), limits.nestingDepth);
        attribute.hasGraph = true;
        return true;
      case 7:
        repeatedScalars(reader, wireType, FIXED32, 'AttributeProto.floats', () => attribute.floats.push(reader.float()));
        return true;
      case 8:
        repeatedScalars(reader, wireType, VARINT, 'AttributeProto.ints', () => attribute.ints.push(int64(reader)));
        return true;
      case 9:
        expectWire(wireType, LENGTH_DELIMITED, 'AttributeProto.strings');
        attribute.strings.push(reader.bytes());
        return true;
      default:
        return false;
    }
  });
  // Files written before IR version 2 leave the type out: infer it from the field that is set.
  if (attribute.type === AttributeType.Undefined) attribute.type = impliedAttributeType(attribute);
  return attribute;
}

function impliedAttributeType(attribute: OnnxAttribute): AttributeType {
  if (attribute.f !== undefined) return AttributeType.Float;
  if (attribute.i !== undefined) return AttributeType.Int;
  if (attribute.s !== undefined) return AttributeType.String;
  if (attribute.t !== undefined) return AttributeType.Tensor;
  if (attribute.floats.length) return AttributeType.Floats;
  if (attribute.ints.length) return AttributeType.Ints;
  if (attribute.strings.length) return AttributeType.Strings;
  return AttributeType.Undefined;
}

/** Scalar wire type of each typed data field, for values written unpacked. */
const TENSOR_FIELD_WIRE: Partial<Record<number, number>> = {
  [TensorField.FloatData]: FIXED32,
  [TensorField.Int32Data]: VARINT,
  [TensorField.Int64Data]: VARINT,
  [TensorField.DoubleData]: FIXED64,
  [TensorField.Uint64Data]: VARINT,
};

function decodeTensor(reader: Reader, end: number): OnnxTensor {
  const tensor: OnnxTensor = { name: '', dims: [], dataType: DataType.Undefined, dataFields: [] };
  readFields(reader, end, (field, wireType) => {
    switch (field) {
      case 1:
        repeatedScalars(reader, wireType, VARINT, 'TensorProto.dims', () => tensor.dims.push(int64(reader)));
        return true;
      case 2:
        expectWire(wireType, VARINT, 'TensorProto.data_type');
        tensor.dataType = reader.int32();
        return true;
      case 8:
        tensor.name = stringField(reader, wireType, 'TensorProto.name');
        return true;
      case 9:
        expectWire(wireType, LENGTH_DELIMITED, 'TensorProto.raw_data');
        tensor.rawData = reader.bytes();
        return true;
      case 6:
        expectWire(wireType, LENGTH_DELIMITED, 'TensorProto.string_data');
        reader.skipType(wireType);
        tensor.dataFields.push({ field: TensorField.StringData, bytes: new Uint8Array(0), wireType });
        return true;
      case 13: {
        const [key, value] = message(reader, wireType, 'TensorProto.external_data', decodeStringEntry);
        (tensor.externalData ??= new Map()).set(key, value);
        return true;
      }
      case 14:
        expectWire(wireType, VARINT, 'TensorProto.data_location');
        // 1 is EXTERNAL; the entries say where. A file with entries but DEFAULT is read from the entries too.
        if (reader.int32() === 1) tensor.externalData ??= new Map();
        return true;
      default: {
        const scalarWire = TENSOR_FIELD_WIRE[field];
        if (scalarWire === undefined) return false;
        if (wireType !== LENGTH_DELIMITED && wireType !== scalarWire) throw wireTypeError(`TensorProto field ${field}`);
        const start = reader.pos;
        if (wireType === LENGTH_DELIMITED) {
          const bytes = reader.bytes();
          tensor.dataFields.push({ field, bytes, wireType });
        } else {
          reader.skipType(wireType);
          tensor.dataFields.push({ field, bytes: reader.buf.subarray(start, reader.pos), wireType });
        }
        return true;
      }
    }
  });
  return tensor;
}

/** Which message a field holds on the path that nests subgraphs: GraphProto.node, NodeProto.attribute, AttributeProto.g and .graphs. */
const enum Nested {
  Graph,
  Node,
  Attribute,
}

function nestedChild(parent: Nested, field: number): Nested | undefined {
  if (parent === Nested.Graph) return field === 1 ? Nested.Node : undefined;
  if (parent === Nested.Node) return field === 5 ? Nested.Attribute : undefined;
  return field === 6 || field === 11 ? Nested.Graph : undefined;
}

/**
 * Walks a subgraph (an attribute's GraphProto) down every path that can hold further subgraphs, with
 * a stack of its own rather than recursion, and refuses it as soon as it nests deeper than `limit`.
 */
function checkSubgraphDepth(bytes: Uint8Array, limit: number): void {
  const reader = Reader.create(bytes);
  const open: { end: number; kind: Nested }[] = [{ end: bytes.length, kind: Nested.Graph }];
  const depth = () => ATTRIBUTE_DEPTH + open.length;
  if (depth() > limit) throw nestingError(limit);
  while (open.length) {
    const top = open[open.length - 1];
    if (reader.pos >= top.end) {
      if (reader.pos !== top.end) throw new OnnxFormatError('a field runs past the end of the subgraph holding it');
      open.pop();
      continue;
    }
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new OnnxFormatError('it holds a field numbered 0');
    const child = wireType === LENGTH_DELIMITED ? nestedChild(top.kind, field) : undefined;
    if (child === undefined) {
      reader.skipType(wireType);
      continue;
    }
    const end = reader.uint32() + reader.pos;
    if (end > top.end) throw new OnnxFormatError('a subgraph runs past the end of the message holding it');
    open.push({ end, kind: child });
    if (depth() > limit) throw nestingError(limit);
  }
}

function nestingError(limit: number): OnnxLimitError {
  return new OnnxLimitError('nestingDepth', `has subgraphs nested ${(limit + 1).toLocaleString('en-US')} or more levels deep`);
}

function decodeValueInfo(reader: Reader, end: number): ValueInfo {
  const info: ValueInfo = { name: '' };
  readFields(reader, end, (field, wireType) => {
    if (field === 1) {
      info.name = stringField(reader, wireType, 'ValueInfoProto.name');
      return true;
    }
    if (field === 2) {
      Object.assign(info, message(reader, wireType, 'ValueInfoProto.type', decodeType));
      return true;
    }
    return false;
  });
  return info;
}

/** TypeProto: only tensor types are of interest (sequences and maps are left out). */
function decodeType(reader: Reader, end: number): Pick<ValueInfo, 'elemType' | 'shape'> {
  let result: Pick<ValueInfo, 'elemType' | 'shape'> = {};
  readFields(reader, end, (field, wireType) => {
    if (field !== 1) return false;
    result = message(reader, wireType, 'TypeProto.tensor_type', (inner, innerEnd) => {
      const tensorType: Pick<ValueInfo, 'elemType' | 'shape'> = {};
      readFields(inner, innerEnd, (tensorField, tensorWire) => {
        if (tensorField === 1) {
          expectWire(tensorWire, VARINT, 'TypeProto.Tensor.elem_type');
          tensorType.elemType = inner.int32();
          return true;
        }
        if (tensorField === 2) {
          tensorType.shape = message(inner, tensorWire, 'TypeProto.Tensor.shape', decodeShape);
          return true;
        }
        return false;
      });
      return tensorType;
    });
    return true;
  });
  return result;
}

function decodeShape(reader: Reader, end: number): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  readFields(reader, end, (field, wireType) => {
    if (field !== 1) return false;
    dims.push(
      message(reader, wireType, 'TensorShapeProto.dim', (inner, innerEnd) => {
        let dim: number | string | null = null;
        readFields(inner, innerEnd, (dimField, dimWire) => {
          if (dimField === 1) {
            expectWire(dimWire, VARINT, 'Dimension.dim_value');
            dim = int64(inner);
            return true;
          }
          if (dimField === 2) {
            dim = stringField(inner, dimWire, 'Dimension.dim_param');
            return true;
          }
          return false;
        });
        return dim;
      }),
    );
    return true;
  });
  return dims;
}

function decodeOperatorSetId(reader: Reader, end: number): OperatorSetId {
  const id: OperatorSetId = { domain: '', version: 0 };
  readFields(reader, end, (field, wireType) => {
    if (field === 1) {
      id.domain = stringField(reader, wireType, 'OperatorSetIdProto.domain');
      return true;
    }
    if (field === 2) {
      expectWire(wireType, VARINT, 'OperatorSetIdProto.version');
      id.version = int64(reader);
      return true;
    }
    return false;
  });
  return id;
}

function decodeStringEntry(reader: Reader, end: number): [string, string] {
  let key = '';
  let value = '';
  readFields(reader, end, (field, wireType) => {
    if (field === 1) key = stringField(reader, wireType, 'StringStringEntryProto.key');
    else if (field === 2) value = stringField(reader, wireType, 'StringStringEntryProto.value');
    else return false;
    return true;
  });
  return [key, value];
}

// ---------------------------------------------------------------------------------------------
// Wire-level helpers

/**
 * Reads the fields of one message up to `end`, handing each to `onField`; fields it does not take
 * (returns false) are skipped. Every step advances the reader, so damaged input ends, never loops.
 */
function readFields(reader: Reader, end: number, onField: (field: number, wireType: number) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new OnnxFormatError('it holds a field numbered 0');
    if (!onField(field, wireType)) reader.skipType(wireType);
  }
  if (reader.pos !== end) throw new OnnxFormatError('a field runs past the end of the message holding it');
}

function message<T>(reader: Reader, wireType: number, what: string, decode: (reader: Reader, end: number) => T): T {
  expectWire(wireType, LENGTH_DELIMITED, what);
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.len) throw new OnnxFormatError(`the field ${what} runs past the end of the file (it may be truncated)`);
  return decode(reader, end);
}

function repeatedScalars(reader: Reader, wireType: number, scalarWire: number, what: string, readOne: () => void): void {
  if (wireType === LENGTH_DELIMITED) {
    const end = reader.uint32() + reader.pos;
    if (end > reader.len) throw new OnnxFormatError(`the field ${what} runs past the end of the file (it may be truncated)`);
    while (reader.pos < end) readOne();
    if (reader.pos !== end) throw new OnnxFormatError(`the field ${what} runs past its end`);
  } else {
    expectWire(wireType, scalarWire, what);
    readOne();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function stringField(reader: Reader, wireType: number, what: string): string {
  expectWire(wireType, LENGTH_DELIMITED, what);
  return utf8.decode(reader.bytes());
}

function expectWire(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw wireTypeError(what);
}

function wireTypeError(what: string): OnnxFormatError {
  return new OnnxFormatError(`the field ${what} has the wrong encoding`);
}

/** An int64 as a JavaScript number; values beyond 2^53 (never a real size) become Infinity. */
function int64(reader: Reader): number {
  const value = reader.int64() as unknown as number | { toNumber(): number; high: number };
  if (typeof value === 'number') return value;
  const number = value.toNumber();
  return Number.isSafeInteger(number) ? number : number < 0 ? -Infinity : Infinity;
}

/** Decodes the values of an int64-typed data field (packed varints or one value). */
export function readVarints(field: TensorDataField, signed: boolean, into: number[]): void {
  const reader = Reader.create(field.bytes);
  while (reader.pos < reader.len) {
    if (signed) into.push(int64(reader));
    else {
      const value = reader.uint64() as unknown as number | { toNumber(unsigned?: boolean): number };
      into.push(typeof value === 'number' ? value : value.toNumber());
    }
  }
}

/** Decodes the values of an int32-typed data field. */
export function readInt32s(field: TensorDataField, into: number[]): void {
  const reader = Reader.create(field.bytes);
  while (reader.pos < reader.len) into.push(reader.int32());
}
