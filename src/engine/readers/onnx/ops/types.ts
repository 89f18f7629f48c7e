/**
 * What an operator implementation provides, and what it is given.
 *
 * An operator is described three ways, each used where it is cheapest:
 *  - `infer` works out its outputs' shapes, types and storage layouts from its inputs' (no values),
 *    which is all the model summary needs;
 *  - `fold` (for shape arithmetic) computes its outputs on plain arrays when every input is known,
 *    so Shape → Gather → Concat → Reshape chains disappear when the model is loaded;
 *  - `build` prepares the tensor computation once (weights converted to the stored layout) and
 *    returns the function that runs it.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { SpatialGeometry } from '../../../graph';
import type { Shape } from '../../../model';
import type { Attributes } from '../attributes';
import type { Layout } from '../layout';
import type { DType, HostData, HostTensor } from '../tensors';

export interface ValueDesc {
  /** In ONNX axis order; undefined when not even the rank is known. */
  shape?: Shape;
  dtype: DType;
  layout: Layout;
  /** Set for values fixed when the model is loaded; `data` when the values are at hand. */
  constant?: { data?: HostData };
  /**
   * What is known of a small integer vector computed while running (a shape with a free batch
   * dimension, say): its values, null where only running tells.
   */
  partial?: (number | null)[];
}

export interface NodeView {
  id: string;
  opType: string;
  /** The version of the standard operator set the model imports. */
  opset: number;
  attributes: Attributes;
  /** One per ONNX input; undefined for an optional input left out. */
  inputs: (ValueDesc | undefined)[];
  outputCount: number;
}

/** A node's inputs while running, by ONNX input index (constants are not passed: ops keep their own). */
export type Inputs = readonly (tf.Tensor | undefined)[];

/** A tensor from the node's inputs: a runtime input converted as asked, or a prepared constant. */
export type Operand = (inputs: Inputs) => tf.Tensor;

export type Run = (inputs: Inputs) => tf.Tensor | tf.Tensor[];

export interface BuildContext {
  node: NodeView;
  outputs: ValueDesc[];
  /** Input `index` as stored (constants in ONNX order). */
  stored(index: number): Operand;
  /** Input `index` in ONNX axis order. */
  onnx(index: number): Operand;
  /** Input `index` (a 4-D image tensor) in NHWC. */
  nhwc(index: number): Operand;
  /**
   * Input `index` arranged to broadcast elementwise against a value of `rank` dimensions stored in
   * `layout` (ONNX broadcasting aligns trailing axes; an NHWC partner needs them moved the same way).
   */
  broadcastable(index: number, layout: Layout, rank: number): Operand;
  /**
   * The values of input `index`, known now (a constant) or read back when running (a small tensor);
   * more than `maxValues` (by default 2^16) are refused, a runtime tensor before it is read back.
   */
  host(index: number, maxValues?: number): (inputs: Inputs) => HostTensor;
  /** The values of input `index` when they are constant, else undefined. */
  constant(index: number): HostTensor | undefined;
  /**
   * Checks, before an output whose size only running tells is allocated (a Tile's repeats read from a
   * tensor, say), that its shape is a valid one within the model limit; returns the dims.
   */
  checkOutput(dims: readonly number[], dtype: DType): number[];
  /**
   * Takes a tensor made at load time into the model's keeping (freed by `dispose`). With `weightOf`,
   * it is also what `weights()` returns for that input of the node.
   */
  own<T extends tf.Tensor>(tensor: T, weightOf?: number): T;
}

export interface OpSpec {
  infer(node: NodeView): ValueDesc[];
  fold?(node: NodeView, inputs: HostTensor[]): HostTensor[];
  build(ctx: BuildContext): Run;
  /**
   * How the op moves positions along H and W of its stored (NHWC) input, for receptive fields, given its
   * inferred outputs; absent or undefined for pointwise ops. May throw an OpError for a window it cannot read.
   */
  geometry?(node: NodeView, outputs: readonly ValueDesc[]): SpatialGeometry | undefined;
  /** Its output is a ReLU's (guided backpropagation changes how gradients pass it). */
  endsWithRelu?(node: NodeView): boolean;
  /** It turns scores into probabilities (Softmax, Sigmoid): the node feeding the model's output through it gives the logits. */
  normalizesScores?: true;
}

/** Something wrong with one node; the reader names the node and the file around the message (a clause). */
export class OpError extends Error {
  override name = 'OpError';
}

/** Thrown by `fold` or `infer` when the operator cannot work something out from what is known. */
export class NotFoldable extends Error {
  override name = 'NotFoldable';
}
