/**
 * Conv: 2-D convolutions on NHWC tensors. ONNX weights are OIHW; they are rearranged once, when the
 * model loads, into what tfjs takes: HWIO for ordinary convolutions, [h, w, channels, multiplier] for
 * depthwise ones (groups == input channels), and one HWIO kernel per group otherwise (the input is
 * split by channel, each part convolved, the results concatenated).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from '../tensors';
import { autoPadOf, resolvePads, windowAxes, windowGeometry, windowOutputShape, type AutoPad, type WindowAxis } from './shapes';
import { OpError, type BuildContext, type NodeView, type OpSpec, type Run, type ValueDesc } from './types';

type Kind = 'plain' | 'depthwise' | 'grouped';

interface ConvGeometry {
  axes: WindowAxis[];
  autoPad: AutoPad;
  group: number;
  /** [out channels, in channels per group, kernel h, kernel w] */
  weightShape: (number | null)[];
}

export function geometry(node: NodeView): ConvGeometry {
  const weight = node.inputs[1];
  const kernelShape = node.attributes.ints('kernel_shape');
  const weightShape = weight?.shape ?? (kernelShape ? [null, null, ...kernelShape] : undefined);
  if (!weightShape) throw new OpError('has weights of unknown shape');
  if (weightShape.length !== 4) {
    throw new OpError(`has ${weightShape.length - 2}-D kernels; ConvLens runs 2-D convolutions`);
  }
  const kernel = kernelShape ?? weightShape.slice(2);
  if (kernel.length !== 2 || kernel.some((k) => typeof k !== 'number')) throw new OpError('has a kernel of unknown size');
  if (weightShape[2] !== null && (weightShape[2] !== kernel[0] || weightShape[3] !== kernel[1])) {
    throw new OpError(`has kernel_shape [${kernel.join(', ')}] but weights of shape [${weightShape.join(', ')}]`);
  }
  const group = node.attributes.int('group', 1);
  if (!Number.isSafeInteger(group) || group < 1) throw new OpError(`has the group count ${group}`);
  return {
    axes: windowAxes(node.attributes, kernel as number[]),
    autoPad: autoPadOf(node.attributes.string('auto_pad', 'NOTSET')),
    group,
    weightShape,
  };
}

function inferConv(node: NodeView): ValueDesc[] {
  const { axes, autoPad, group, weightShape } = geometry(node);
  const x = node.inputs[0]?.shape;
  if (x && x.length !== 4) throw new OpError(`takes a 4-D input, not one of rank ${x.length}`);
  const [outChannels, groupChannels] = weightShape;
  const inChannels = x?.[1] ?? null;
  if (inChannels !== null && groupChannels !== null && inChannels !== groupChannels * group) {
    throw new OpError(`has ${inChannels} input channels where its weights expect ${groupChannels} × ${group} groups`);
  }
  if (outChannels !== null && outChannels % group !== 0)
    throw new OpError(`has ${outChannels} output channels, not divisible into ${group} groups`);
  const spatial = windowOutputShape([x?.[2] ?? null, x?.[3] ?? null], axes, autoPad, false);
  return [{ shape: [x?.[0] ?? null, outChannels, ...spatial], dtype: 'float32', layout: 'nhwc' }];
}

function kindOf(group: number, groupChannels: number): Kind {
  if (group === 1) return 'plain';
  return groupChannels === 1 ? 'depthwise' : 'grouped';
}

/** OIHW weights in the form the kind of convolution takes. */
function arrangeWeights(weight: tf.Tensor, kind: Kind, group: number): tf.Tensor4D[] {
  const [outChannels, , height, width] = weight.shape;
  if (kind === 'depthwise') {
    const multiplier = outChannels / group;
    // Output channel c·multiplier + m reads input channel c, as tfjs's depthwise convolution computes.
    return [tf.transpose(tf.reshape(weight, [group, multiplier, height, width]), [2, 3, 0, 1]) as tf.Tensor4D];
  }
  const hwio = tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D;
  if (kind === 'plain') return [hwio];
  return tf.split(hwio, group, 3) as tf.Tensor4D[];
}

function build(ctx: BuildContext): Run {
  const { axes, autoPad, group } = geometry(ctx.node);
  const x = ctx.nhwc(0);
  const constantWeight = ctx.constant(1);
  const weightShape = constantWeight?.dims ?? ctx.node.inputs[1]?.shape;
  const groupChannels = weightShape?.[1];
  if (typeof groupChannels !== 'number') throw new OpError('has weights of unknown shape');
  const kind = kindOf(group, groupChannels);

  const filters = constantWeight ? prepareFilters(ctx, constantWeight, kind, group) : undefined;
  const runtimeWeight = filters ? undefined : ctx.stored(1);
  const bias = ctx.node.inputs[2] ? ctx.stored(2) : undefined;

  return (inputs) => {
    const input = x(inputs);
    const kernels = filters ?? arrangeWeights(runtimeWeight!(inputs), kind, group);
    const [padTop, padBottom, padLeft, padRight, strides, dilations] = spatialParams(axes, autoPad, input.shape);
    const pad: Padding =
      padTop + padBottom + padLeft + padRight === 0
        ? 'valid'
        : [
            [0, 0],
            [padTop, padBottom],
            [padLeft, padRight],
            [0, 0],
          ];
    let y = convolve(input as tf.Tensor4D, kernels, kind, strides, dilations, pad);
    if (bias) y = tf.add(y, tf.reshape(bias(inputs), [-1]));
    return y;
  };
}

function prepareFilters(ctx: BuildContext, weight: HostTensor, kind: Kind, group: number): tf.Tensor4D[] {
  const full = tf.tidy(() => {
    const oihw = tf.tensor4d(weight.data as Float32Array, weight.dims as [number, number, number, number], 'float32');
    return kind === 'depthwise' ? arrangeWeights(oihw, kind, group)[0] : (tf.transpose(oihw, [2, 3, 1, 0]) as tf.Tensor4D);
  });
  ctx.own(full, 1);
  if (kind !== 'grouped') return [full];
  return (tf.split(full, group, 3) as tf.Tensor4D[]).map((part) => ctx.own(part));
}

type Pair = [number, number];
/** tfjs's explicit padding: [before, after] for each NHWC axis. */
type Padding = 'valid' | [Pair, Pair, Pair, Pair];

function spatialParams(axes: WindowAxis[], autoPad: AutoPad, shape: number[]): [number, number, number, number, Pair, Pair] {
  const [height, width] = [resolvePads(axes[0], autoPad, shape[1]), resolvePads(axes[1], autoPad, shape[2])];
  return [height.padBegin, height.padEnd, width.padBegin, width.padEnd, [height.stride, width.stride], [height.dilation, width.dilation]];
}

function convolve(x: tf.Tensor4D, kernels: tf.Tensor4D[], kind: Kind, strides: Pair, dilations: Pair, pad: Padding): tf.Tensor4D {
  // tfjs takes strides > 1 or dilations > 1, not both: convolve densely, then keep every stride-th output.
  const both = (strides[0] > 1 || strides[1] > 1) && (dilations[0] > 1 || dilations[1] > 1);
  const step: Pair = both ? [1, 1] : strides;
  const one = (input: tf.Tensor4D, kernel: tf.Tensor4D) =>
    kind === 'depthwise'
      ? tf.depthwiseConv2d(input, kernel, step, pad, 'NHWC', dilations)
      : tf.conv2d(input, kernel, step, pad, 'NHWC', dilations);
  let y: tf.Tensor4D;
  if (kind === 'grouped') {
    const parts = tf.split(x, kernels.length, 3) as tf.Tensor4D[];
    y = tf.concat(
      parts.map((part, i) => one(part, kernels[i])),
      3,
    );
  } else {
    y = one(x, kernels[0]);
  }
  if (!both) return y;
  const [batch, height, width, channels] = y.shape;
  return tf.stridedSlice(y, [0, 0, 0, 0], [batch, height, width, channels], [1, strides[0], strides[1], 1]) as tf.Tensor4D;
}

export const CONV_OPS: Record<string, OpSpec> = {
  Conv: {
    infer: inferConv,
    build,
    geometry: (node) => {
      const { axes, autoPad } = geometry(node);
      return windowGeometry(axes, autoPad, false);
    },
  },
};
