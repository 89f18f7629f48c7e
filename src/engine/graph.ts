/**
 * The one runnable model every reader produces: a list of computation steps in topological order,
 * each a pure function of the outputs of the steps before it, written on tfjs-core ops.
 *
 * Keeping the graph explicit (rather than an opaque `predict`) is what lets the engine return any set of
 * intermediate outputs in one pass, and cut the network at a layer: the explanation methods run the
 * network once up to the cut and differentiate only the rest.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelSummary, Shape } from './model';

export interface GraphNode {
  /** Unique in the graph; equals the `LayerInfo.id` of the layer it computes where there is one. */
  id: string;
  /** Ids of the graph inputs or nodes whose outputs feed this one, in the order `run` takes them. */
  inputs: string[];
  /** Computes the node's output. Must not dispose its inputs; may keep no tensor beyond the call. */
  run(inputs: tf.Tensor[]): tf.Tensor;
  /** The framework's layer class or op name (`Conv2D`, `Relu`, `GlobalAveragePooling2D`, ...). */
  type?: string;
  /** The output is a ReLU's (or ReLU6's): guided backpropagation changes how gradients pass it. */
  endsWithRelu?: boolean;
  /**
   * How the node maps positions of its (NHWC) input to positions of its output, for receptive
   * fields. Absent for pointwise nodes (activations, normalisation, add, concat on channels…).
   */
  geometry?: SpatialGeometry;
}

/** [rows, columns]. */
export type SpatialPair = [number, number];

/**
 * The spatial effect of a node along H and W.
 *  - `window`: each output position reads a (dilated) window of input positions, as convolutions
 *    and pooling do. `same` pads as TensorFlow (and ONNX SAME_UPPER) do, the odd pixel after;
 *    `same-lower` (ONNX SAME_LOWER) puts it before. `ceilMode` keeps a last, partial window.
 *  - `pad`: rows and columns added at each side; negative amounts crop.
 *  - `global`: every input position feeds every output (global pooling, flatten).
 *  - `untraceable`: moves positions in a way none of the above describes.
 */
export type SpatialGeometry =
  | {
      kind: 'window';
      kernel: SpatialPair;
      strides: SpatialPair;
      dilations: SpatialPair;
      padding: 'same' | 'same-lower' | 'valid' | { top: number; bottom: number; left: number; right: number };
      ceilMode?: boolean;
    }
  | { kind: 'pad'; top: number; bottom: number; left: number; right: number }
  | { kind: 'global' }
  | { kind: 'untraceable'; why: string };

export interface GraphInput {
  id: string;
  /** Shape with the batch dimension first (`null` where free). Images are NHWC. */
  shape: Shape;
}

export interface RunnableModel {
  summary: ModelSummary;
  inputs: GraphInput[];
  /** Ids of the nodes whose outputs are the model's outputs. */
  outputs: string[];
  /**
   * The node giving the first output's pre-activation scores (logits), when the model ends in a
   * softmax or sigmoid: explanations differentiate these, as the reference tools do.
   */
  logits?: string;
  /** In topological order: every node's inputs are graph inputs or earlier nodes. */
  nodes: GraphNode[];
  /** The weights of a layer, in the framework's layout (Keras: HWIO kernels); empty when it has none. */
  weights(layerId: string): tf.Tensor[];
  /** Frees the weights. */
  dispose(): void;
}

/** The node ids that must be computed to obtain `wanted`, when the tensors in `known` are given. */
export function requiredNodes(model: RunnableModel, wanted: readonly string[], known: ReadonlySet<string>): Set<string> {
  const byId = nodeIndex(model);
  const required = new Set<string>();
  const stack = [...wanted];
  while (stack.length) {
    const id = stack.pop()!;
    if (known.has(id) || required.has(id)) continue;
    const node = byId.get(id);
    if (!node) continue; // a graph input: must be in `known`, checked by the caller
    required.add(id);
    stack.push(...node.inputs);
  }
  return required;
}

const indexCache = new WeakMap<RunnableModel, Map<string, GraphNode>>();

export function nodeIndex(model: RunnableModel): Map<string, GraphNode> {
  let index = indexCache.get(model);
  if (!index) {
    index = new Map(model.nodes.map((node) => [node.id, node]));
    indexCache.set(model, index);
  }
  return index;
}

/** Ids of every node downstream of `id` (the node itself excluded). */
export function descendantsOf(model: RunnableModel, id: string): Set<string> {
  const downstream = new Set<string>([id]);
  for (const node of model.nodes) {
    if (node.inputs.some((input) => downstream.has(input))) downstream.add(node.id);
  }
  downstream.delete(id);
  return downstream;
}
