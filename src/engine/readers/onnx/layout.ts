/**
 * How an ONNX value is stored while the model runs. ONNX image tensors are NCHW; tfjs convolutions
 * and the explanation methods work in NHWC. So every 4-D activation that comes out of a convolution,
 * a pooling or a normalisation (and everything elementwise after it) is kept NHWC, and an operator
 * that depends on the axis order (Flatten, Reshape, Gemm…) sees it transposed back to NCHW first.
 * Everything else keeps the ONNX axis order.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../../model';

/** `onnx`: stored in the ONNX axis order. `nhwc`: a 4-D NCHW value stored as NHWC. */
export type Layout = 'onnx' | 'nhwc';

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];

/** The stored axis that holds ONNX axis `axis` (already normalised to be non-negative). */
export function storedAxis(axis: number, layout: Layout): number {
  return layout === 'nhwc' ? NHWC_TO_NCHW[axis] : axis;
}

/** A shape in ONNX order as it is stored. */
export function storedShape(shape: Shape, layout: Layout): Shape;
export function storedShape(shape: Shape | undefined, layout: Layout): Shape | undefined;
export function storedShape(shape: Shape | undefined, layout: Layout): Shape | undefined {
  if (!shape || layout === 'onnx') return shape;
  return NCHW_TO_NHWC.map((axis) => shape[axis]);
}

/** A stored shape in ONNX order. */
export function onnxShape(stored: readonly number[], layout: Layout): number[] {
  return layout === 'nhwc' ? NHWC_TO_NCHW.map((axis) => stored[axis]) : [...stored];
}

export function toNhwc(x: tf.Tensor): tf.Tensor {
  return tf.transpose(x, NCHW_TO_NHWC);
}

export function toNchw(x: tf.Tensor): tf.Tensor {
  return tf.transpose(x, NHWC_TO_NCHW);
}

/** A stored tensor in the ONNX axis order. */
export function inOnnxOrder(x: tf.Tensor, layout: Layout): tf.Tensor {
  return layout === 'nhwc' ? toNchw(x) : x;
}

/**
 * The transposition taking a value stored in `from` to the storage of `transpose(value, perm)` in
 * `to`; undefined when the stored tensor already is the result (an NHWC input transposed to NCHW).
 */
export function storedTranspose(perm: readonly number[], from: Layout, to: Layout): number[] | undefined {
  const rank = perm.length;
  const identity = Array.from({ length: rank }, (_, i) => i);
  const fromOrder = from === 'nhwc' ? NCHW_TO_NHWC : identity; // stored axis i holds ONNX axis fromOrder[i]
  const toOrder = to === 'nhwc' ? NCHW_TO_NHWC : identity;
  // Stored output axis i holds output axis toOrder[i], which is input axis perm[toOrder[i]].
  const result = toOrder.map((axis) => fromOrder.indexOf(perm[axis]));
  return result.every((axis, i) => axis === i) ? undefined : result;
}
