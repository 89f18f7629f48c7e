/**
 * Reductions and Softmax. Their axes are ONNX axes, mapped onto the stored order, so that an NHWC
 * tensor is reduced without being transposed back. Softmax before opset 13 normalises over all axes
 * from `axis` on (the input seen as a matrix), from opset 13 over `axis` alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../../../model';
import { storedAxis, type Layout } from '../layout';
import type { HostTensor } from '../tensors';
import { allocate, elements, normalizeAxis, strides } from './host';
import { foldParam, runtimeParam, staticParam, type ParamSource } from './params';
import { normalizeAxes, sameAs } from './shapes';
import type { NodeView, OpSpec, ValueDesc } from './types';

interface Reduction {
  tensor: (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor;
  host?: { initial: number; step: (total: number, value: number) => number; finish?: (total: number, count: number) => number };
  /** The opset from which the axes are an input rather than an attribute. */
  axesInputFrom: number;
}

const REDUCTIONS: Record<string, Reduction> = {
  ReduceMean: { tensor: tf.mean, host: { initial: 0, step: (t, v) => t + v, finish: (t, n) => t / n }, axesInputFrom: 18 },
  ReduceSum: { tensor: tf.sum, host: { initial: 0, step: (t, v) => t + v }, axesInputFrom: 13 },
  ReduceMax: { tensor: tf.max, host: { initial: -Infinity, step: Math.max }, axesInputFrom: 18 },
  ReduceMin: { tensor: tf.min, host: { initial: Infinity, step: Math.min }, axesInputFrom: 18 },
  ReduceProd: { tensor: tf.prod, host: { initial: 1, step: (t, v) => t * v }, axesInputFrom: 18 },
  ReduceSumSquare: { tensor: (x, axes, keep) => tf.sum(tf.square(x), axes, keep), axesInputFrom: 18 },
  ReduceL1: { tensor: (x, axes, keep) => tf.sum(tf.abs(x), axes, keep), axesInputFrom: 18 },
  ReduceL2: { tensor: (x, axes, keep) => tf.sqrt(tf.sum(tf.square(x), axes, keep)), axesInputFrom: 18 },
  ReduceLogSumExp: { tensor: (x, axes, keep) => tf.logSumExp(x, axes, keep), axesInputFrom: 18 },
};

function axesSource(reduction: Reduction): ParamSource {
  return { attribute: 'axes', inputIndex: 1, inputFromOpset: reduction.axesInputFrom };
}

/** The ONNX axes reduced, for a tensor of `rank`; an empty list means all of them (or none, if asked). */
function reducedAxes(node: NodeView, given: number[] | undefined, rank: number): number[] {
  if (given && given.length) return normalizeAxes(given, rank);
  if (node.attributes.int('noop_with_empty_axes', 0) === 1) return [];
  return Array.from({ length: rank }, (_, i) => i);
}

function reducedShape(shape: Shape, axes: number[], keepDims: boolean): Shape {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reductionOp(reduction: Reduction): OpSpec {
  const source = axesSource(reduction);
  return {
    infer: (node) => {
      const x = node.inputs[0];
      const keepDims = node.attributes.int('keepdims', 1) === 1;
      const given = staticParam(node, source);
      if (!x?.shape || given === null) return [{ dtype: x?.dtype ?? 'float32', layout: 'onnx' }];
      const axes = reducedAxes(node, given, x.shape.length);
      const layout: Layout = x.layout === 'nhwc' && keepDims ? 'nhwc' : 'onnx';
      return [{ shape: reducedShape(x.shape, axes, keepDims), dtype: x.dtype, layout }];
    },
    fold: reduction.host
      ? (node, inputs) => [
          reduceHost(
            inputs[0],
            reducedAxes(node, foldParam(node, inputs, source), inputs[0].dims.length),
            node.attributes.int('keepdims', 1) === 1,
            reduction.host!,
          ),
        ]
      : undefined,
    build: (ctx) => {
      const x = ctx.stored(0);
      const layout = ctx.node.inputs[0]?.layout ?? 'onnx';
      const keepDims = ctx.node.attributes.int('keepdims', 1) === 1;
      const given = runtimeParam(ctx, source);
      return (inputs) => {
        const input = x(inputs);
        const axes = reducedAxes(ctx.node, given(inputs), input.rank);
        if (!axes.length) return input;
        const reduced = reduction.tensor(
          input,
          axes.map((axis) => storedAxis(axis, layout)),
          keepDims,
        );
        if (layout !== 'nhwc' || keepDims) return reduced;
        // The axes left are in stored order (N, H, W, C minus the reduced ones); put them in ONNX order.
        const left = [0, 2, 3, 1].filter((axis) => !axes.includes(axis));
        const order = [...left].sort((a, b) => a - b).map((axis) => left.indexOf(axis));
        return order.every((axis, i) => axis === i) ? reduced : tf.transpose(reduced, order);
      };
    },
  };
}

function reduceHost(x: HostTensor, axes: number[], keepDims: boolean, rule: NonNullable<Reduction['host']>): HostTensor {
  const keptDims = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = strides(keptDims);
  const inStrides = strides(x.dims);
  const count = elements(keptDims);
  const totals = new Array<number>(count).fill(rule.initial);
  for (let index = 0; index < x.data.length; index++) {
    let rest = index;
    let target = 0;
    for (let axis = 0; axis < x.dims.length; axis++) {
      const coordinate = Math.floor(rest / inStrides[axis]);
      rest -= coordinate * inStrides[axis];
      if (!axes.includes(axis)) target += coordinate * outStrides[axis];
    }
    totals[target] = rule.step(totals[target], x.data[index]);
  }
  const reducedCount = x.data.length / Math.max(count, 1);
  const data = allocate(x.dtype, count);
  totals.forEach((total, i) => (data[i] = rule.finish ? rule.finish(total, reducedCount) : total));
  return { dims: keepDims ? keptDims : x.dims.filter((_, i) => !axes.includes(i)), dtype: x.dtype, data };
}

/** The ONNX axes a Softmax-family node normalises over, for a tensor of `rank`. */
function softmaxAxes(node: NodeView, rank: number): number[] {
  if (node.opset < 13) {
    const axis = normalizeAxis(node.attributes.int('axis', 1), rank);
    return Array.from({ length: rank - axis }, (_, i) => axis + i);
  }
  return [normalizeAxis(node.attributes.int('axis', -1), rank)];
}

function softmaxOp(log: boolean): OpSpec {
  return {
    infer: (node) => [sameAs(node.inputs[0], 'float32')],
    build: (ctx) => {
      const x = ctx.stored(0);
      const layout = ctx.node.inputs[0]?.layout ?? 'onnx';
      return (inputs) => {
        const input = x(inputs);
        const axes = softmaxAxes(ctx.node, input.rank).map((axis) => storedAxis(axis, layout));
        if (axes.length === 1 && axes[0] === input.rank - 1) return log ? tf.logSoftmax(input) : tf.softmax(input);
        const shifted = tf.sub(input, tf.max(input, axes, true));
        const exps = tf.exp(shifted);
        const sums = tf.sum(exps, axes, true);
        return log ? tf.sub(shifted, tf.log(sums)) : tf.div(exps, sums);
      };
    },
  };
}

function argOp(which: 'max' | 'min'): OpSpec {
  const axisOf = (node: NodeView, rank: number) => normalizeAxis(node.attributes.int('axis', 0), rank);
  return {
    infer: (node) => {
      const x = node.inputs[0]?.shape;
      if (!x) return [{ dtype: 'int32', layout: 'onnx' }];
      const axis = axisOf(node, x.length);
      return [
        { shape: reducedShape(x, [axis], node.attributes.int('keepdims', 1) === 1), dtype: 'int32', layout: 'onnx' } satisfies ValueDesc,
      ];
    },
    build: (ctx) => {
      const x = ctx.onnx(0);
      const keepDims = ctx.node.attributes.int('keepdims', 1) === 1;
      const last = ctx.node.attributes.int('select_last_index', 0) === 1;
      return (inputs) => {
        const input = x(inputs);
        const axis = axisOf(ctx.node, input.rank);
        // The last of equal extremes: search the reversed axis and count back.
        const searched = last ? tf.reverse(input, axis) : input;
        let index = which === 'max' ? tf.argMax(searched, axis) : tf.argMin(searched, axis);
        if (last) index = tf.sub(tf.scalar(input.shape[axis] - 1, 'int32'), index);
        return keepDims ? tf.expandDims(index, axis) : index;
      };
    },
  };
}

export const REDUCE_OPS: Record<string, OpSpec> = {
  ...Object.fromEntries(Object.entries(REDUCTIONS).map(([name, reduction]) => [name, reductionOp(reduction)])),
  Softmax: { ...softmaxOp(false), normalizesScores: true },
  LogSoftmax: { ...softmaxOp(true), normalizesScores: true },
  ArgMax: argOp('max'),
  ArgMin: argOp('min'),
};
