/**
 * Normalisations. Batch normalisation in inference is a per-channel scale and shift, worked out once
 * from the four parameter tensors; on an NHWC tensor the channel is the last axis, on anything else
 * the parameters are shaped [C, 1, …] to broadcast over ONNX axis 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Layout } from '../layout';
import type { HostTensor } from '../tensors';
import { normalizeAxis } from './host';
import { sameAs } from './shapes';
import { OpError, type BuildContext, type NodeView, type OpSpec, type Run, type ValueDesc } from './types';

/** 4-D activations come out NHWC (convolution's neighbours); other ranks keep the ONNX order. */
function channelOpInfer(node: NodeView): ValueDesc[] {
  const x = node.inputs[0];
  const rank = x?.shape?.length;
  if (rank !== undefined && rank < 2) throw new OpError(`takes an input with a channel axis, not one of rank ${rank}`);
  return [{ ...sameAs(x, 'float32'), layout: rank === 4 ? 'nhwc' : 'onnx' }];
}

/** The input, and how to shape a per-channel [C] vector so that it broadcasts over the channel axis. */
function channelInput(ctx: BuildContext): {
  x: (inputs: Parameters<Run>[0]) => tf.Tensor;
  perChannel: (v: tf.Tensor, rank: number) => tf.Tensor;
} {
  const layout: Layout = ctx.outputs[0].layout;
  const x = layout === 'nhwc' ? ctx.nhwc(0) : ctx.onnx(0);
  const perChannel = (v: tf.Tensor, rank: number) =>
    layout === 'nhwc' ? tf.reshape(v, [-1]) : tf.reshape(v, [-1, ...new Array(Math.max(0, rank - 2)).fill(1)]);
  return { x, perChannel };
}

const batchNormalization: OpSpec = {
  infer: (node) => {
    // Training mode's extra outputs (running statistics) are not computed.
    return channelOpInfer(node);
  },
  build: (ctx) => {
    const epsilon = ctx.node.attributes.float('epsilon', 1e-5);
    const { x, perChannel } = channelInput(ctx);
    const parameters = [1, 2, 3, 4].map((i) => ctx.constant(i));
    if (parameters.every((p): p is HostTensor => p !== undefined)) {
      const [scale, bias, mean, variance] = parameters.map((p) => p.data);
      const channels = scale.length;
      if (parameters.some((p) => p.data.length !== channels)) throw new OpError('has scale, bias, mean and variance of different lengths');
      // y = (x − mean) / √(var + ε) · scale + bias  =  x · multiplier + offset
      const multiplier = new Float32Array(channels);
      const offset = new Float32Array(channels);
      for (let c = 0; c < channels; c++) {
        multiplier[c] = scale[c] / Math.sqrt(variance[c] + epsilon);
        offset[c] = bias[c] - mean[c] * multiplier[c];
      }
      parameters.forEach((p, i) => ctx.own(tf.tensor1d(p.data as Float32Array, 'float32'), i + 1));
      const multiplierTensor = ctx.own(tf.tensor1d(multiplier));
      const offsetTensor = ctx.own(tf.tensor1d(offset));
      return (inputs) => {
        const input = x(inputs);
        return tf.add(tf.mul(input, perChannel(multiplierTensor, input.rank)), perChannel(offsetTensor, input.rank));
      };
    }
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => ctx.stored(i));
    return (inputs) => {
      const input = x(inputs);
      const shape = (v: tf.Tensor) => perChannel(v, input.rank);
      const multiplier = tf.div(scale(inputs), tf.sqrt(tf.add(variance(inputs), epsilon)));
      return tf.add(tf.mul(tf.sub(input, shape(mean(inputs))), shape(multiplier)), shape(bias(inputs)));
    };
  },
};

const instanceNormalization: OpSpec = {
  infer: channelOpInfer,
  build: (ctx) => {
    const epsilon = ctx.node.attributes.float('epsilon', 1e-5);
    const { x, perChannel } = channelInput(ctx);
    const [scale, bias] = [1, 2].map((i) => ctx.stored(i));
    const nhwc = ctx.outputs[0].layout === 'nhwc';
    return (inputs) => {
      const input = x(inputs);
      const spatial = nhwc ? [1, 2] : input.shape.slice(2).map((_, i) => i + 2);
      const { mean, variance } = tf.moments(input, spatial, true);
      const normalized = tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, epsilon)));
      return tf.add(tf.mul(normalized, perChannel(scale(inputs), input.rank)), perChannel(bias(inputs), input.rank));
    };
  },
};

/**
 * Local response normalisation across channels: y = x / (bias + alpha/size · Σ x²)^beta, the sum over
 * channels c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉.
 */
const lrn: OpSpec = {
  infer: channelOpInfer,
  build: (ctx) => {
    const { attributes } = ctx.node;
    const size = attributes.int('size');
    if (size === undefined || !Number.isSafeInteger(size) || size < 1) throw new OpError('has no valid size');
    const alpha = attributes.float('alpha', 1e-4);
    const beta = attributes.float('beta', 0.75);
    const bias = attributes.float('bias', 1);
    const nhwc = ctx.outputs[0].layout === 'nhwc';
    const x = nhwc ? ctx.nhwc(0) : ctx.onnx(0);
    const before = Math.floor((size - 1) / 2);
    const after = size - 1 - before;
    return (inputs) => {
      const input = x(inputs);
      const axis = nhwc ? 3 : 1;
      const channels = input.shape[axis] ?? 0;
      const paddings = input.shape.map((): [number, number] => [0, 0]);
      paddings[axis] = [before, after];
      const squares = tf.pad(tf.square(input), paddings);
      let sum: tf.Tensor | undefined;
      for (let offset = 0; offset < size; offset++) {
        const begin = input.shape.map(() => 0);
        begin[axis] = offset;
        const extent = [...input.shape];
        extent[axis] = channels;
        const part = tf.slice(squares, begin, extent);
        sum = sum ? tf.add(sum, part) : part;
      }
      return tf.div(input, tf.pow(tf.add(tf.mul(sum!, alpha / size), bias), beta));
    };
  },
};

/** Normalisation over the trailing axes from `axis` (transformer blocks), in ONNX order. */
const layerNormalization: OpSpec = {
  infer: (node) => [{ ...sameAs(node.inputs[0], 'float32'), layout: 'onnx' }],
  build: (ctx) => {
    const epsilon = ctx.node.attributes.float('epsilon', 1e-5);
    const axisAttribute = ctx.node.attributes.int('axis', -1);
    const x = ctx.onnx(0);
    const scale = ctx.onnx(1);
    const bias = ctx.node.inputs[2] ? ctx.onnx(2) : undefined;
    return (inputs) => {
      const input = x(inputs);
      const axis = normalizeAxis(axisAttribute, input.rank);
      const axes = input.shape.slice(axis).map((_, i) => i + axis);
      const { mean, variance } = tf.moments(input, axes, true);
      const normalized = tf.mul(tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, epsilon))), scale(inputs));
      return bias ? tf.add(normalized, bias(inputs)) : normalized;
    };
  },
};

export const NORMALIZATION_OPS: Record<string, OpSpec> = {
  BatchNormalization: batchNormalization,
  InstanceNormalization: instanceNormalization,
  LRN: lrn,
  LayerNormalization: layerNormalization,
};
