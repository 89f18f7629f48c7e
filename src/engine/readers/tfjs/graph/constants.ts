/**
 * What is known of a graph model's `Const` nodes before any weight is decoded: shape and type, from the
 * weights manifest (which holds their values) or else from the node's own `value` attribute.
 *
 * Floating-point constants are the model's weights and count as parameters; integer constants are the
 * arguments of shape ops (a Reshape's target shape, a Mean's axes) and do not.
 */
import type { io } from '@tensorflow/tfjs-core';
import type { Shape } from '../../../model';
import { shapeFromJson, type GraphModelJson } from './graphJson';
import { isConstant, type OpGraph } from './opGraph';

export interface ConstantInfo {
  shape: Shape | undefined;
  /** The tfjs dtype (`float32`, `int32`, …). */
  dtype: string | undefined;
  /** Whether the weights manifest holds its values (a graph model keeps them nowhere else). */
  inManifest: boolean;
}

const FLOAT_TYPES = new Set(['float32', 'float16']);

/** TensorFlow's enum names for the types a converted model uses. */
const TF_TYPES: Record<string, string> = {
  DT_FLOAT: 'float32',
  DT_HALF: 'float16',
  DT_INT32: 'int32',
  DT_INT64: 'int32',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
  DT_UINT8: 'uint8',
};

export function manifestEntries(json: GraphModelJson): Map<string, io.WeightsManifestEntry> {
  const entries = new Map<string, io.WeightsManifestEntry>();
  for (const group of Array.isArray(json.weightsManifest) ? json.weightsManifest : []) {
    for (const entry of Array.isArray(group?.weights) ? group.weights : []) entries.set(entry.name, entry);
  }
  return entries;
}

export function describeConstants(json: GraphModelJson, graph: OpGraph): Map<string, ConstantInfo> {
  const entries = manifestEntries(json);
  const constants = new Map<string, ConstantInfo>();
  for (const node of graph.order) {
    if (!isConstant(node)) continue;
    const entry = entries.get(node.name);
    const attrs = node.attr ?? {};
    constants.set(node.name, {
      shape: entry ? [...entry.shape] : shapeFromJson(attrs.value?.tensor?.tensorShape),
      dtype: entry?.dtype ?? TF_TYPES[attrs.dtype?.type ?? attrs.value?.tensor?.dtype ?? ''],
      inManifest: entry !== undefined,
    });
  }
  return constants;
}

export function isWeight(constant: ConstantInfo | undefined): boolean {
  return constant !== undefined && FLOAT_TYPES.has(constant.dtype ?? '');
}

export function elementCount(shape: Shape | undefined): number {
  return shape ? shape.reduce<number>((n, d) => n * (d ?? 0), 1) : 0;
}
