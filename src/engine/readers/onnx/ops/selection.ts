/**
 * Operators that pick elements by value or by index, as detection heads and their postprocessing do:
 * TopK (the k largest or smallest along an axis, with their indices), NonZero (the indices of the
 * non-zero elements, a shape only the values tell) and GatherND (slices at index tuples).
 * They work in ONNX axis order; indices are int32, as every integer the engine computes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../../../model';
import { normalizeAxis } from './host';
import { staticParam, runtimeParam, type ParamSource } from './params';
import { OpError, type NodeView, type OpSpec, type ValueDesc } from './types';

/** TopK's k: an attribute before opset 10, a one-element input from it. */
const TOPK_K: ParamSource = { attribute: 'k', inputIndex: 1, inputFromOpset: 10, maxLength: 1 };

function topkK(node: NodeView): number | null {
  if (node.opset < 10) {
    const k = node.attributes.int('k');
    if (k === undefined) throw new OpError('has no k');
    return k;
  }
  const values = staticParam(node, TOPK_K);
  return values?.length ? values[0] : null;
}

function checkK(k: number, size: number): void {
  if (!(Number.isSafeInteger(k) && k >= 0 && k <= size)) throw new OpError(`takes the top ${k} of an axis of size ${size}`);
}

const topK: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    const k = topkK(node);
    let shape: Shape | undefined;
    if (x?.shape) {
      const axis = normalizeAxis(node.attributes.int('axis', -1), x.shape.length);
      if (k !== null && x.shape[axis] !== null) checkK(k, x.shape[axis]!);
      shape = x.shape.map((d, i) => (i === axis ? k : d));
    }
    return [
      { shape, dtype: x?.dtype ?? 'float32', layout: 'onnx' },
      { shape: shape && [...shape], dtype: 'int32', layout: 'onnx' },
    ];
  },
  build: (ctx) => {
    const x = ctx.onnx(0);
    const largest = ctx.node.attributes.int('largest', 1) === 1;
    const kOf = ctx.node.opset < 10 ? () => [topkK(ctx.node)!] : runtimeParam(ctx, TOPK_K);
    return (inputs) => {
      const input = x(inputs);
      const axis = normalizeAxis(ctx.node.attributes.int('axis', -1), input.rank);
      const k = kOf(inputs)?.[0];
      if (k === undefined) throw new OpError('has no k');
      checkK(k, input.shape[axis]);
      // tfjs takes the largest along the last axis: move the axis there, negate for the smallest.
      const last = input.rank - 1;
      const order = input.shape.map((_, i) => (i === axis ? last : i === last ? axis : i));
      const moved = axis === last ? input : tf.transpose(input, order);
      // Ties go to the lower index in tfjs as in ONNX; `sorted` = 0 allows any order, so sorted is fine.
      const { values, indices } = tf.topk(largest ? moved : tf.neg(moved), k, true);
      const kept = largest ? values : tf.neg(values);
      return axis === last ? [kept, indices] : [tf.transpose(kept, order), tf.transpose(indices, order)];
    };
  },
};

const nonZero: OpSpec = {
  infer: (node) => {
    const rank = node.inputs[0]?.shape?.length;
    return [{ shape: rank === undefined ? undefined : [rank, null], dtype: 'int32', layout: 'onnx' }];
  },
  build: (ctx) => {
    const x = ctx.onnx(0);
    return (inputs) => {
      const input = x(inputs);
      const values = input.dataSync();
      const positions: number[] = [];
      for (let i = 0; i < values.length; i++) if (values[i] !== 0) positions.push(i);
      // The count is known only now: the output is checked before it is allocated.
      const rank = input.rank;
      const [, count] = ctx.checkOutput([rank, positions.length], 'int32');
      const out = new Int32Array(rank * count);
      const strides = input.strides;
      positions.forEach((position, n) => {
        let rest = position;
        for (let axis = 0; axis < rank; axis++) {
          const stride = axis < rank - 1 ? strides[axis] : 1;
          out[axis * count + n] = Math.floor(rest / stride);
          rest %= stride;
        }
      });
      return tf.tensor2d(out, [rank, count], 'int32');
    };
  },
};

function inferGatherNd(node: NodeView): ValueDesc[] {
  const data = node.inputs[0];
  const indices = node.inputs[1]?.shape;
  const batchDims = node.attributes.int('batch_dims', 0);
  if (!data?.shape || !indices) return [{ dtype: data?.dtype ?? 'float32', layout: 'onnx' }];
  const depth = indices[indices.length - 1];
  if (depth === null) return [{ shape: undefined, dtype: data.dtype, layout: 'onnx' }];
  if (batchDims + depth > data.shape.length)
    throw new OpError(`indexes ${depth} axes after ${batchDims} batch axes of a tensor of rank ${data.shape.length}`);
  const shape = [...indices.slice(0, -1), ...data.shape.slice(batchDims + depth)];
  return [{ shape, dtype: data.dtype, layout: 'onnx' }];
}

const gatherNd: OpSpec = {
  infer: inferGatherNd,
  build: (ctx) => {
    const data = ctx.onnx(0);
    const indicesOf = ctx.onnx(1);
    const batchDims = ctx.node.attributes.int('batch_dims', 0);
    return (inputs) => {
      const x = data(inputs);
      const given = indicesOf(inputs);
      const depth = given.shape[given.rank - 1];
      if (batchDims + depth > x.rank || batchDims >= given.rank)
        throw new OpError(`indexes ${depth} axes after ${batchDims} batch axes of a tensor of rank ${x.rank}`);
      // Negative indices count from the end of their axis.
      const sizes = tf.tensor1d(x.shape.slice(batchDims, batchDims + depth), 'int32');
      const wrapped = tf.where(tf.less(given, 0), tf.add(given, sizes), tf.cast(given, 'int32'));
      if (batchDims === 0) return tf.gatherND(x, wrapped);
      // Batch axes: flatten them into one, and prefix every index tuple with its batch position.
      const batchShape = x.shape.slice(0, batchDims);
      const batch = batchShape.reduce((n, d) => n * d, 1);
      const flatData = tf.reshape(x, [batch, ...x.shape.slice(batchDims)]);
      const perBatch = given.shape.slice(batchDims, -1);
      const tuples = perBatch.reduce((n, d) => n * d, 1);
      const flatIndices = tf.reshape(wrapped, [batch, tuples, depth]);
      const batchIndex = tf.broadcastTo(tf.reshape(tf.range(0, batch, 1, 'int32'), [batch, 1, 1]), [batch, tuples, 1]);
      const picked = tf.gatherND(flatData, tf.concat([batchIndex, flatIndices], 2));
      return tf.reshape(picked, [...batchShape, ...perBatch, ...x.shape.slice(batchDims + depth)]);
    };
  },
};

export const SELECTION_OPS: Record<string, OpSpec> = {
  TopK: topK,
  NonZero: nonZero,
  GatherND: gatherNd,
};
