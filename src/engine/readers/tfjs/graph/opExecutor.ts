/**
 * Runs single TensorFlow ops the way TensorFlow.js's own graph executor does: its op mapper turns each
 * node's attributes into op parameters, and its per-op executor calls the matching tfjs-core ops. Using
 * those, rather than a second implementation of each op, keeps every op TensorFlow.js supports working
 * here, with the same numbers; running them one node at a time is what lets the engine look inside.
 * These are the converter's internal modules, not its public API: package.json pins it to one version.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensorsMap } from '@tensorflow/tfjs-converter/dist/data/types';
import { ExecutionContext } from '@tensorflow/tfjs-converter/dist/executor/execution_context';
import { executeOp } from '@tensorflow/tfjs-converter/dist/operations/operation_executor';
import { OperationMapper } from '@tensorflow/tfjs-converter/dist/operations/operation_mapper';
import type { Node as OpNode } from '@tensorflow/tfjs-converter/dist/operations/types';
import type { NodeDefJson } from './graphJson';
import { dataInputNames, type TensorRef } from './opGraph';

export type { OpNode };

/** Each node with its attributes mapped to op parameters, by node name. */
export function mapOpNodes(nodes: NodeDefJson[]): Record<string, OpNode> {
  // The executor finds an op's last arguments (ConcatV2's axis, a fused op's extra tensors) by position
  // from the end of its inputs, so the control inputs that would follow them are left out.
  const dataOnly = nodes.map((node) => ({ ...node, input: dataInputNames(node) }));
  // The JSON form is the protobuf's, with type enums spelled as their names, which the mapper expects.
  const graphDef = { node: dataOnly } as unknown as Parameters<OperationMapper['transformGraph']>[0];
  return OperationMapper.Instance.transformGraph(graphDef).nodes;
}

/** Why the node cannot be run one op at a time (a predicate for a `ModelReadError`), if it cannot. */
export function unrunnableReason(node: OpNode): string | undefined {
  switch (node.category) {
    case undefined:
      return `has the node "${node.name}" with the op "${node.op}", which ConvLens cannot run.`;
    case 'control':
      return `has the node "${node.name}" with the control-flow op "${node.op}" (a loop or a condition), which ConvLens cannot run.`;
    // These execute asynchronously (their output size depends on the values, or they keep state).
    case 'dynamic':
    case 'hash_table':
      return `has the node "${node.name}" with the op "${node.op}", which ConvLens cannot run step by step.`;
    default:
      return undefined;
  }
}

/**
 * A pure function computing output `outputIndex` of `node` from the tensors of `inputRefs` (given in that
 * order) and the node's constant inputs, which stay owned by the caller.
 */
export function opRunner(
  node: OpNode,
  outputIndex: number,
  inputRefs: readonly TensorRef[],
  constants: Readonly<Record<string, tf.Tensor>>,
): (inputs: tf.Tensor[]) => tf.Tensor {
  // Root-frame state only: the ops run here keep nothing in it between calls.
  const context = new ExecutionContext({}, {}, {}, {}, new Map());
  const constantMap: NamedTensorsMap = Object.fromEntries(Object.entries(constants).map(([name, t]) => [name, [t]]));
  const owned = new Set<tf.Tensor>(Object.values(constants));

  return (inputs) =>
    tf.tidy(() => {
      const tensorMap: NamedTensorsMap = { ...constantMap };
      inputRefs.forEach((ref, i) => {
        tensorMap[ref.node] ??= [];
        tensorMap[ref.node][ref.index] = inputs[i];
      });
      const outputs = executeOp(node, tensorMap, context);
      if (tf.util.isPromise(outputs)) throw new Error(`the op ${node.op} of node "${node.name}" runs asynchronously`);
      const output = outputs[outputIndex];
      if (!output) throw new Error(`the op ${node.op} of node "${node.name}" gives no output ${outputIndex}`);
      // The caller owns the result, so it must never be one of the tensors it passed in.
      return inputs.includes(output) || owned.has(output) ? output.clone() : output;
    });
}
