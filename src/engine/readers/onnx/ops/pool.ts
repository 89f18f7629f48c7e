/**
 * Pooling on NHWC tensors. ONNX pads can be asymmetric and ceil_mode may add a last, partial window;
 * tfjs pools take neither, so the input is padded explicitly (with the lowest float for max pooling)
 * and the pool run unpadded. Average pooling divides by the number of values each window covers,
 * counting explicit padding only when count_include_pad says so, and never the ceil_mode overhang.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SpatialGeometry } from '../../../graph';
import {
  autoPadOf,
  resolvePads,
  windowAxes,
  windowGeometry,
  windowOutputShape,
  windowOutputSize,
  type AutoPad,
  type WindowAxis,
} from './shapes';
import { OpError, type BuildContext, type NodeView, type OpSpec, type Run, type ValueDesc } from './types';

const LOWEST_FLOAT = -3.4028234663852886e38;

interface PoolGeometry {
  axes: WindowAxis[];
  autoPad: AutoPad;
  ceilMode: boolean;
}

export function geometry(node: NodeView): PoolGeometry {
  const kernel = node.attributes.ints('kernel_shape');
  if (!kernel) throw new OpError('has no kernel_shape');
  if (kernel.length !== 2) throw new OpError(`pools over ${kernel.length} axes; ConvLens runs 2-D pooling`);
  return {
    axes: windowAxes(node.attributes, kernel),
    autoPad: autoPadOf(node.attributes.string('auto_pad', 'NOTSET')),
    ceilMode: node.attributes.int('ceil_mode', 0) === 1,
  };
}

function inferPool(node: NodeView): ValueDesc[] {
  const { axes, autoPad, ceilMode } = geometry(node);
  const x = node.inputs[0]?.shape;
  if (x && x.length !== 4) throw new OpError(`takes a 4-D input, not one of rank ${x.length}`);
  const spatial = windowOutputShape([x?.[2] ?? null, x?.[3] ?? null], axes, autoPad, ceilMode);
  // MaxPool's optional second output (argmax indices) is not computed.
  return [{ shape: [x?.[0] ?? null, x?.[1] ?? null, ...spatial], dtype: 'float32', layout: 'nhwc' }];
}

type Pair = [number, number];

/** The padding each side needs, the ceil_mode overhang included, for an input of `size`. */
function padding(axis: WindowAxis, autoPad: AutoPad, ceilMode: boolean, size: number): { begin: number; end: number; overhang: number } {
  const resolved = resolvePads(axis, autoPad, size);
  const output = windowOutputSize(size, resolved, ceilMode);
  const needed = (output - 1) * resolved.stride + (resolved.kernel - 1) * resolved.dilation + 1;
  const overhang = Math.max(0, needed - (size + resolved.padBegin + resolved.padEnd));
  return { begin: resolved.padBegin, end: resolved.padEnd, overhang };
}

/** Pools an already padded input, with any stride and dilation. */
function poolValid(x: tf.Tensor4D, type: 'max' | 'avg', kernel: Pair, strides: Pair, dilations: Pair): tf.Tensor4D {
  const dilated = dilations[0] > 1 || dilations[1] > 1;
  if (!dilated) return type === 'max' ? tf.maxPool(x, kernel, strides, 'valid') : tf.avgPool(x, kernel, strides, 'valid');
  // tfjs takes dilations only with unit strides: pool densely, then keep every stride-th output.
  const dense = tf.pool(x, kernel, type, 'valid', dilations, 1) as tf.Tensor4D;
  const [batch, height, width, channels] = dense.shape;
  return tf.stridedSlice(dense, [0, 0, 0, 0], [batch, height, width, channels], [1, strides[0], strides[1], 1]) as tf.Tensor4D;
}

function buildPool(type: 'max' | 'avg'): (ctx: BuildContext) => Run {
  return (ctx) => {
    const { axes, autoPad, ceilMode } = geometry(ctx.node);
    const includePad = ctx.node.attributes.int('count_include_pad', 0) === 1;
    const x = ctx.nhwc(0);
    const kernel: Pair = [axes[0].kernel, axes[1].kernel];
    const strides: Pair = [axes[0].stride, axes[1].stride];
    const dilations: Pair = [axes[0].dilation, axes[1].dilation];
    return (inputs) => {
      const input = x(inputs) as tf.Tensor4D;
      const [, height, width] = input.shape;
      const rows = padding(axes[0], autoPad, ceilMode, height);
      const columns = padding(axes[1], autoPad, ceilMode, width);
      const pads: [Pair, Pair, Pair, Pair] = [
        [0, 0],
        [rows.begin, rows.end + rows.overhang],
        [columns.begin, columns.end + columns.overhang],
        [0, 0],
      ];
      if (pads.every(([before, after]) => before === 0 && after === 0)) return poolValid(input, type, kernel, strides, dilations);
      if (type === 'max') return poolValid(tf.pad(input, pads, LOWEST_FLOAT), 'max', kernel, strides, dilations);

      // Average: the sum over each window divided by how many of its values count.
      const sums = poolValid(tf.pad(input, pads), 'avg', kernel, strides, dilations);
      let counted: tf.Tensor4D = tf.ones([1, height, width, 1]);
      if (includePad)
        counted = tf.pad(
          counted,
          [
            [0, 0],
            [rows.begin, rows.end],
            [columns.begin, columns.end],
            [0, 0],
          ],
          1,
        );
      const rest: [Pair, Pair, Pair, Pair] = includePad
        ? [
            [0, 0],
            [0, rows.overhang],
            [0, columns.overhang],
            [0, 0],
          ]
        : pads;
      counted = tf.pad(counted, rest);
      return tf.div(sums, poolValid(counted, 'avg', kernel, strides, dilations));
    };
  };
}

function globalPool(reduce: (x: tf.Tensor, axes: number[]) => tf.Tensor): OpSpec {
  return {
    infer: (node) => {
      const x = node.inputs[0]?.shape;
      if (!x) return [{ dtype: 'float32', layout: 'nhwc' }];
      if (x.length < 3) throw new OpError(`takes an input with spatial axes, not one of rank ${x.length}`);
      return [{ shape: [x[0], x[1], ...x.slice(2).map(() => 1)], dtype: 'float32', layout: x.length === 4 ? 'nhwc' : 'onnx' }];
    },
    build: (ctx) => {
      if (ctx.outputs[0].layout === 'nhwc') {
        const x = ctx.nhwc(0);
        return (inputs) => reduce(x(inputs), [1, 2]);
      }
      const x = ctx.onnx(0);
      return (inputs) => {
        const input = x(inputs);
        return reduce(
          input,
          input.shape.slice(2).map((_, i) => i + 2),
        );
      };
    },
  };
}

function poolGeometry(node: NodeView): SpatialGeometry {
  const { axes, autoPad, ceilMode } = geometry(node);
  return windowGeometry(axes, autoPad, ceilMode);
}

export const POOL_OPS: Record<string, OpSpec> = {
  MaxPool: { infer: inferPool, build: buildPool('max'), geometry: poolGeometry },
  AveragePool: { infer: inferPool, build: buildPool('avg'), geometry: poolGeometry },
  GlobalAveragePool: { ...globalPool((x, axes) => tf.mean(x, axes, true)), geometry: () => ({ kind: 'global' }) },
  GlobalMaxPool: { ...globalPool((x, axes) => tf.max(x, axes, true)), geometry: () => ({ kind: 'global' }) },
};
