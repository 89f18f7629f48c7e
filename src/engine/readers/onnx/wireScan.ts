/**
 * A walk over an ONNX file's protobuf encoding before the generated decoder (proto/onnx.js) reads it.
 *
 * The generated decoder recurses once per nested message and holds everything it reads, so a file could
 * use it against the reader: subgraphs (If, Loop, Scan) or types nested thousands of levels deep, a graph
 * of millions of nodes, or millions of one-byte numbers each decoded into an object. This walk follows
 * every message field the schema has (proto/onnxWire.ts, generated from the same onnx.proto) with a stack
 * of its own, and refuses such a file before anything is decoded. It also checks what the generated code
 * would skip or merge silently: wire types, and lengths that run past the message holding them.
 */
import { Reader } from 'protobufjs/minimal';
import { byteSize } from '../../confinedPath';
import { OnnxMessage, WIRE_MESSAGES } from './proto/onnxWire';

/** Thrown for bytes that do not follow the protobuf encoding of an ONNX model. */
export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
}

/** How much structure a decoder reads: a file may declare more nodes or deeper subgraphs than memory or the stack hold. */
export interface DecodeLimits {
  /** Nodes in the main graph; also nodes in all subgraphs and functions together. */
  graphNodes: number;
  /** Depth of nested messages, the ModelProto being level 1. */
  nestingDepth: number;
  /** Bytes the numbers of repeated fields (tensor data, attribute lists, dimensions) may take once decoded. */
  modelBytes?: number;
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

const LENGTH_DELIMITED = 2;
// Read once: under a CommonJS transform each use of an import is a property read through a getter.
const MESSAGES = WIRE_MESSAGES;
const MODEL_PROTO: number = OnnxMessage.ModelProto;
const GRAPH_PROTO: number = OnnxMessage.GraphProto;
const NODE_PROTO: number = OnnxMessage.NodeProto;
/** Bytes a decoded number takes in a JavaScript array. */
const NUMBER_BYTES = 8;

interface OpenMessage {
  end: number;
  message: number;
  /** The model's own graph (ModelProto.graph), whose nodes are counted on their own. */
  main: boolean;
}

/**
 * Walks a whole ModelProto without recursion and returns the depth of its deepest message (the
 * ModelProto being 1). Throws OnnxFormatError for a broken encoding, OnnxLimitError beyond `limits`,
 * or protobufjs's RangeError or Error for bytes that end early or hold a broken varint.
 */
export function scanModel(bytes: Uint8Array, limits: DecodeLimits): number {
  const reader = Reader.create(bytes);
  const open: OpenMessage[] = [{ end: bytes.length, message: MODEL_PROTO, main: false }];
  let deepest = 1;
  let mainNodes = 0;
  let otherNodes = 0;
  let decodedBytes = 0;
  const maxBytes = limits.modelBytes ?? Infinity;
  while (open.length) {
    const top = open[open.length - 1];
    if (reader.pos >= top.end) {
      if (reader.pos !== top.end) throw new OnnxFormatError('a field runs past the end of the message holding it');
      open.pop();
      if (top.main && mainNodes > limits.graphNodes)
        throw new OnnxLimitError('graphNodes', `has ${mainNodes.toLocaleString('en-US')} nodes`);
      continue;
    }
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new OnnxFormatError('it holds a field numbered 0');
    const known = MESSAGES[top.message].fields[field];
    if (!known) {
      reader.skipType(wireType);
      continue;
    }
    if (known.message !== undefined) {
      if (wireType !== LENGTH_DELIMITED) throw wireTypeError(known.name);
      const end = reader.uint32() + reader.pos;
      if (end > top.end) throw pastEnd(known.name, end, reader.len);
      if (top.message === GRAPH_PROTO && known.message === NODE_PROTO) {
        if (top.main) {
          // Nodes past the limit are counted, not walked, so that the message can say how many there are.
          if (++mainNodes > limits.graphNodes) {
            reader.pos = end;
            continue;
          }
        } else if (++otherNodes > limits.graphNodes) {
          throw new OnnxLimitError(
            'graphNodes',
            `has more than ${limits.graphNodes.toLocaleString('en-US')} nodes in its subgraphs and functions`,
          );
        }
      }
      const main = top.message === MODEL_PROTO && known.message === GRAPH_PROTO;
      open.push({ end, message: known.message, main });
      if (open.length > deepest) {
        deepest = open.length;
        if (deepest > limits.nestingDepth) throw nestingError(open, limits.nestingDepth);
      }
      continue;
    }
    if (wireType === known.wireType) {
      if (known.packed) decodedBytes += NUMBER_BYTES;
      reader.skipType(wireType);
    } else if (known.packed && wireType === LENGTH_DELIMITED) {
      const end = reader.uint32() + reader.pos;
      decodedBytes += packedCount(reader, end, top.end, known.name, known.valueBytes ?? 0) * NUMBER_BYTES;
    } else {
      throw wireTypeError(known.name);
    }
    if (decodedBytes > maxBytes)
      throw new OnnxLimitError('modelBytes', `needs more than ${byteSize(maxBytes)} for the numbers its fields list`);
  }
  return deepest;
}

/**
 * Counts the values of a packed field whose bytes end at `end` and moves the reader past them. Varints
 * are counted by their last bytes; the field must end with a whole value.
 */
function packedCount(reader: Reader, end: number, parentEnd: number, name: string, valueBytes: number): number {
  const start = reader.pos;
  if (end > parentEnd) throw pastEnd(name, end, reader.len);
  reader.pos = end;
  const length = end - start;
  if (valueBytes) {
    if (length % valueBytes !== 0) throw new OnnxFormatError(`the field ${name} runs past its end`);
    return length / valueBytes;
  }
  if (length && reader.buf[end - 1] >= 0x80) throw new OnnxFormatError(`the field ${name} runs past its end`);
  let count = 0;
  for (let i = start; i < end; i++) if (reader.buf[i] < 0x80) count++;
  return count;
}

function pastEnd(name: string, end: number, fileLength: number): OnnxFormatError {
  return new OnnxFormatError(
    end > fileLength
      ? `the field ${name} runs past the end of the file (it may be truncated)`
      : 'a field runs past the end of the message holding it',
  );
}

function wireTypeError(name: string): OnnxFormatError {
  return new OnnxFormatError(`the field ${name} has the wrong encoding`);
}

function nestingError(open: readonly OpenMessage[], limit: number): OnnxLimitError {
  const inSubgraph = open.some((entry) => entry.message === GRAPH_PROTO && !entry.main);
  const what = inSubgraph ? 'subgraphs' : 'messages';
  return new OnnxLimitError('nestingDepth', `has ${what} nested ${(limit + 1).toLocaleString('en-US')} or more levels deep`);
}
