/**
 * The `model.json` of a TensorFlow.js graph model: a TensorFlow GraphDef in its JSON form (one entry per
 * op node, attributes as protobuf `AttrValue`s) with a weights manifest holding the values of its
 * `Const` nodes. This module parses and checks the file and reads node attributes; nothing here runs.
 */
import { parseTfjsModelJson } from '../modelJson';
import type { io } from '@tensorflow/tfjs-core';
import { ModelReadError } from '../../../errors';
import { LimitExceededError, type Limits } from '../../../limits';
import type { Shape } from '../../../model';

/** A protobuf `TensorShapeProto` in JSON: sizes are strings, -1 for a dimension known only at run time. */
export interface TensorShapeJson {
  dim?: { size?: string | number }[];
  unknownRank?: boolean;
}

export interface AttrValueJson {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: TensorShapeJson;
  tensor?: { dtype?: string; tensorShape?: TensorShapeJson };
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[]; shape?: TensorShapeJson[] };
  func?: { name?: string };
}

export interface NodeDefJson {
  name: string;
  op: string;
  input?: string[];
  device?: string;
  attr?: Record<string, AttrValueJson>;
}

export interface TensorInfoJson {
  name?: string;
  dtype?: string;
  tensorShape?: TensorShapeJson;
}

export interface GraphModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: { node: NodeDefJson[]; library?: unknown; versions?: unknown };
  weightsManifest?: io.WeightsManifestConfig;
  signature?: { inputs?: Record<string, TensorInfoJson>; outputs?: Record<string, TensorInfoJson> };
}

export function parseGraphModelJson(fileName: string, bytes: Uint8Array, limits: Limits): GraphModelJson {
  const model = parseTfjsModelJson(fileName, bytes, limits) as Partial<GraphModelJson>;
  const topology = model.modelTopology as { node?: unknown };
  if (!Array.isArray(topology.node)) {
    throw new ModelReadError(fileName, 'is not a TensorFlow.js graph model: its "modelTopology" has no "node" list.');
  }
  if (topology.node.length > limits.graphNodes) {
    throw new LimitExceededError(fileName, `has ${topology.node.length.toLocaleString('en-US')} nodes`, 'graphNodes', limits.graphNodes);
  }
  for (const node of topology.node as Partial<NodeDefJson>[]) {
    if (typeof node?.name !== 'string' || typeof node.op !== 'string') {
      throw new ModelReadError(fileName, 'has a graph node without a "name" and an "op".');
    }
    if (node.input !== undefined && !(Array.isArray(node.input) && node.input.every((i) => typeof i === 'string'))) {
      throw new ModelReadError(fileName, `has the node "${node.name}" with an "input" that is not a list of names.`);
    }
    const badAttribute = malformedAttribute(node.attr);
    if (badAttribute !== undefined) {
      throw new ModelReadError(
        fileName,
        `has the node "${node.name}" with an attribute "${badAttribute}" that is not a TensorFlow attribute value.`,
      );
    }
  }
  return model as GraphModelJson;
}

/** The members of a protobuf `AttrValue` (one is set), and those of them that are messages. */
const ATTR_VALUE_KINDS = new Set(['s', 'i', 'f', 'b', 'type', 'shape', 'tensor', 'list', 'func', 'placeholder']);
const ATTR_VALUE_MESSAGES = ['shape', 'tensor', 'list', 'func'] as const;

/**
 * The name of an attribute that is not an `AttrValue` in its JSON form, if any: tfjs-converter reads
 * the member it expects without checking, and a damaged one would fail inside it.
 */
function malformedAttribute(attr: unknown): string | undefined {
  if (attr === undefined) return undefined;
  if (typeof attr !== 'object' || attr === null || Array.isArray(attr)) return '(attr)';
  for (const [name, value] of Object.entries(attr)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return name;
    const kinds = Object.keys(value);
    if (kinds.length > 0 && !kinds.some((kind) => ATTR_VALUE_KINDS.has(kind))) return name;
    const record = value as Record<string, unknown>;
    if (ATTR_VALUE_MESSAGES.some((kind) => kind in record && (typeof record[kind] !== 'object' || record[kind] === null))) return name;
  }
  return undefined;
}

/** A `TensorShapeProto` as a shape; `undefined` where even the rank is unknown. */
export function shapeFromJson(shape: TensorShapeJson | undefined): Shape | undefined {
  if (!shape || shape.unknownRank) return undefined;
  return (shape.dim ?? []).map((d) => {
    const size = Number(d.size ?? -1);
    return Number.isInteger(size) && size >= 0 ? size : null;
  });
}

/** Typed readers for a node's attributes; each gives `undefined` where the attribute is absent. */
export function attrString(node: NodeDefJson, name: string): string | undefined {
  const s = node.attr?.[name]?.s;
  return s === undefined ? undefined : decodeBase64(s);
}

export function attrStrings(node: NodeDefJson, name: string): (string | undefined)[] | undefined {
  return node.attr?.[name]?.list?.s?.map(decodeBase64);
}

export function attrInt(node: NodeDefJson, name: string): number | undefined {
  const i = node.attr?.[name]?.i;
  return i === undefined ? undefined : Number(i);
}

export function attrInts(node: NodeDefJson, name: string): number[] | undefined {
  const list = node.attr?.[name]?.list;
  if (!list) return undefined;
  return (list.i ?? []).map(Number);
}

export function attrBool(node: NodeDefJson, name: string): boolean | undefined {
  return node.attr?.[name]?.b;
}

export function attrShapes(node: NodeDefJson, name: string): (Shape | undefined)[] | undefined {
  return node.attr?.[name]?.list?.shape?.map(shapeFromJson);
}

export function attrShape(node: NodeDefJson, name: string): Shape | undefined {
  return shapeFromJson(node.attr?.[name]?.shape);
}

/** String attributes are bytes, which the JSON form holds in base64; a malformed one reads as absent. */
function decodeBase64(text: string): string | undefined {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}
