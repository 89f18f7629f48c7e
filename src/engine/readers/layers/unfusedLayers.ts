/**
 * Convolution and dense layers run with plain ops rather than tfjs-layers' own `apply`. In gradient
 * mode TensorFlow.js runs a linear-activation layer as a fused op whose gradient computes the weight
 * gradients too, eagerly — on the CPU backend, Conv2DBackpropFilter makes an input gradient through
 * a ResNet a hundred times slower than a forward pass. Plain ops compute only what is asked for.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.LayersModel['layers'][number];
type Run = (xs: tf.Tensor[]) => tf.Tensor;

interface ConvConfig {
  strides?: number | number[];
  padding?: 'same' | 'valid' | 'causal';
  dataFormat?: string;
  dilationRate?: number | number[];
  useBias?: boolean;
}

/** A plain-op run for the layer, or undefined where its own `apply` should be used. */
export function unfusedRun(layer: Layer): Run | undefined {
  const activation = (layer as unknown as { activation?: { apply(x: tf.Tensor): tf.Tensor } }).activation;
  if (!activation) return undefined;
  const className = layer.getClassName();
  const config = layer.getConfig() as ConvConfig;
  // tfjs-layers names data formats in camelCase; channels-first convolutions keep their own apply.
  if (className === 'Conv2D' && config.dataFormat !== 'channelsFirst' && (config.padding === 'same' || config.padding === 'valid')) {
    const strides = pair(config.strides ?? 1);
    const dilations = pair(config.dilationRate ?? 1);
    return ([x]) => {
      const [kernel, bias] = layer.getWeights();
      let y: tf.Tensor = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, strides, config.padding as 'same' | 'valid', 'NHWC', dilations);
      if (config.useBias !== false && bias) y = tf.add(y, bias);
      return activation.apply(y);
    };
  }
  if (className === 'Dense') {
    return ([x]) => {
      const [kernel, bias] = layer.getWeights();
      // Dense applies to the last axis whatever the rank.
      const flat = tf.reshape(x, [-1, x.shape.at(-1)!]);
      let y: tf.Tensor = tf.matMul(flat, kernel);
      if (config.useBias !== false && bias) y = tf.add(y, bias);
      return activation.apply(tf.reshape(y, [...x.shape.slice(0, -1), kernel.shape[1]!]));
    };
  }
  return undefined;
}

function pair(value: number | number[]): [number, number] {
  return Array.isArray(value) ? [value[0], value[1] ?? value[0]] : [value, value];
}
