/**
 * Running a `RunnableModel`: any set of intermediate outputs in one pass, and the network cut in two at a
 * layer. Only the nodes needed for what is asked are run, and each intermediate tensor is freed as soon
 * as its last consumer has run, so memory stays near the largest pair of adjacent activations.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ModelReadError } from './errors';
import { descendantsOf, type GraphNode, nodeIndex, requiredNodes, type RunnableModel } from './graph';

export type Feeds = ReadonlyMap<string, tf.Tensor>;

/** Feeds for a model with one input (the usual image classifier). */
export function singleInput(model: RunnableModel, input: tf.Tensor): Feeds {
  if (model.inputs.length !== 1) {
    throw new Error(`the model takes ${model.inputs.length} inputs; give each one by name`);
  }
  return new Map([[model.inputs[0].id, input]]);
}

/**
 * Computes the outputs of the nodes in `wanted`, in that order, from `feeds` (graph inputs, or any
 * node's output given precomputed). The caller owns the returned tensors; the feeds are left alone.
 */
export interface RunOptions {
  /** Replaces a node's output before later nodes see it (guided backpropagation wraps ReLU outputs). */
  afterNode?: (node: GraphNode, output: tf.Tensor) => tf.Tensor;
}

export function runGraph(model: RunnableModel, feeds: Feeds, wanted: readonly string[], options: RunOptions = {}): tf.Tensor[] {
  const known = new Set(feeds.keys());
  const required = requiredNodes(model, wanted, known);
  const missing = [...new Set(wanted.concat(model.nodes.filter((n) => required.has(n.id)).flatMap((n) => n.inputs)))].filter(
    (id) => !known.has(id) && !nodeIndex(model).has(id),
  );
  if (missing.length) throw new Error(`no value given for the model input ${missing.map((m) => `"${m}"`).join(', ')}`);

  // How many pending consumers each computed tensor has; wanted tensors are never freed here.
  const consumers = new Map<string, number>();
  for (const node of model.nodes) {
    if (!required.has(node.id)) continue;
    for (const input of node.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  }
  const keep = new Set(wanted);
  const values = new Map<string, tf.Tensor>(feeds);
  const release = (id: string) => {
    const left = (consumers.get(id) ?? 0) - 1;
    consumers.set(id, left);
    if (left === 0 && !keep.has(id) && !feeds.has(id)) {
      values.get(id)?.dispose();
      values.delete(id);
    }
  };

  try {
    for (const node of model.nodes) {
      if (!required.has(node.id)) continue;
      let output = runNode(
        model,
        node,
        node.inputs.map((id) => values.get(id)!),
      );
      if (options.afterNode) {
        const replaced = options.afterNode(node, output);
        if (replaced !== output) output.dispose();
        output = replaced;
      }
      values.set(node.id, output);
      node.inputs.forEach(release);
    }
  } catch (error) {
    for (const [id, tensor] of values) if (!feeds.has(id)) tensor.dispose();
    throw error;
  }
  // A wanted id listed twice must not hand out one tensor twice (the caller would free it twice).
  const handedOut = new Set<string>();
  return wanted.map((id) => {
    const tensor = values.get(id)!;
    if (handedOut.has(id) || feeds.has(id)) return tensor.clone();
    handedOut.add(id);
    return tensor;
  });
}

/**
 * A node's computation, with a failure reported as what is wrong with the model: a damaged or hostile
 * file can declare weights whose shapes pass every check when read but do not fit the data at run time,
 * and TensorFlow.js's words for that ("Error in matMul: inner shapes…") name neither the file nor the node.
 */
function runNode(model: RunnableModel, node: GraphNode, inputs: tf.Tensor[]): tf.Tensor {
  try {
    return node.run(inputs);
  } catch (error) {
    if (error instanceof ModelReadError) throw error;
    const shapes = inputs.map((input) => (input.shape.length ? input.shape.join('×') : 'a scalar')).join(' and ');
    const failure = new ModelReadError(
      model.summary.fileName,
      `cannot be run: its node "${node.id}"${node.type ? ` (${node.type})` : ''} fails on input${inputs.length === 1 ? '' : 's'} of shape ${shapes}; the file is damaged or uses the operation in a way ConvLens does not support.`,
    );
    failure.cause = error;
    throw failure;
  }
}

/** Runs the model to its outputs. */
export function predict(model: RunnableModel, feeds: Feeds): tf.Tensor[] {
  return runGraph(model, feeds, model.outputs);
}

/** The network cut at a node: what it computes up to there, and the rest as a function of that. */
export interface SplitModel {
  readonly cut: string;
  /**
   * Runs up to the cut. `context` holds the other tensors the rest of the network needs (skip
   * connections that bypass the cut, the graph inputs); pass it back to `tail` and dispose it after.
   */
  head(feeds: Feeds): { activation: tf.Tensor; context: Map<string, tf.Tensor> };
  /** The `outputs` from the activation at the cut (differentiable with respect to it). */
  tail(activation: tf.Tensor, context: ReadonlyMap<string, tf.Tensor>): tf.Tensor[];
}

/** Cuts the model at node `cut`; the tail computes `outputs` (the model's outputs by default). */
export function splitModel(model: RunnableModel, cut: string, outputs: readonly string[] = model.outputs): SplitModel {
  if (!nodeIndex(model).has(cut)) throw new Error(`the model has no layer "${cut}"`);
  const downstream = descendantsOf(model, cut);
  const reachesOutput = outputs.some((id) => downstream.has(id) || id === cut);
  if (!reachesOutput) throw new Error(`the model's output does not depend on layer "${cut}"`);
  // Tensors from outside the downstream part that the downstream part reads, besides the cut.
  const contextIds = [...new Set(model.nodes.filter((n) => downstream.has(n.id)).flatMap((n) => n.inputs))].filter(
    (id) => id !== cut && !downstream.has(id),
  );
  const contextNodes = contextIds.filter((id) => nodeIndex(model).has(id));

  return {
    cut,
    head(feeds) {
      const [activation, ...rest] = runGraph(model, feeds, [cut, ...contextNodes]);
      const context = new Map(contextNodes.map((id, i) => [id, rest[i]]));
      for (const id of contextIds) {
        if (!context.has(id)) context.set(id, feeds.get(id)!.clone());
      }
      return { activation, context };
    },
    tail(activation, context) {
      const feeds = new Map(context);
      feeds.set(cut, activation);
      return runGraph(model, feeds, outputs);
    },
  };
}
