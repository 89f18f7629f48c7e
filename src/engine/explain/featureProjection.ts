/**
 * Feature projection (Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", 2014):
 * one channel of a chosen layer projected back to pixel space by the deconvnet, showing what in this
 * image excites it. The projected unit is the channel's whole activation (its sum over positions) or,
 * as Zeiler and Fergus did, its strongest position alone (docs/explanations.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../execute';
import { withDeconvnetRelus } from '../gradients';
import { nodeIndex, type RunnableModel } from '../graph';
import { normaliseByMax } from './postprocess';

/** `sum`: the channel's activation summed over positions; `max`: its value at its strongest position. */
export type ProjectedUnit = 'sum' | 'max';

export interface FeatureProjection {
  /** [batch, H, W] in [0, 1]: the largest |signal| over the colour channels, divided by its maximum. */
  maps: tf.Tensor3D;
  /** [batch, H, W, C]: the deconvnet signal itself (for a colour picture). */
  signal: tf.Tensor4D;
  /** Per image, the [row, column] of the projected position in the layer's output (unit `max` only). */
  positions?: [number, number][];
}

/** Projects channel `channel` of `layer` back to the input; the caller disposes `maps` and `signal`. */
export async function projectFeature(
  model: RunnableModel,
  input: tf.Tensor4D,
  layer: string,
  channel: number,
  options: { unit?: ProjectedUnit } = {},
): Promise<FeatureProjection> {
  if (!nodeIndex(model).has(layer)) throw new Error(`the model has no layer "${layer}"`);
  const feeds = singleInput(model, input);
  const [activation] = runGraph(model, feeds, [layer]);
  let selection: tf.Tensor;
  try {
    selection = unitSelection(activation, layer, channel, options.unit ?? 'sum');
  } finally {
    activation.dispose();
  }
  const [inputId] = [...feeds.keys()];
  try {
    const positions = options.unit === 'max' ? await positionsOf(selection) : undefined;
    const signal = withDeconvnetRelus(() =>
      tf.grad((x: tf.Tensor) => {
        const [a] = runGraph(model, new Map([[inputId, x]]), [layer]);
        return tf.sum(tf.mul(a, selection));
      })(input),
    ) as tf.Tensor4D;
    const maps = tf.tidy(() => normaliseByMax(tf.max(tf.abs(signal), -1) as tf.Tensor3D));
    return { maps, signal, ...(positions ? { positions } : {}) };
  } finally {
    selection.dispose();
  }
}

/**
 * A [batch, h, w, channels] weight that picks the projected unit out of the layer's activation: 1 on the
 * channel (at its strongest position, per image, for `max`; ties: the first in row-major order), 0 elsewhere.
 */
function unitSelection(activation: tf.Tensor, layer: string, channel: number, unit: ProjectedUnit): tf.Tensor {
  if (activation.rank !== 4) {
    throw new Error(
      `layer "${layer}" has output shape (${activation.shape.join(', ')}); a feature projection needs a layer with height, width and channels`,
    );
  }
  const [batch, height, width, channels] = activation.shape as number[];
  if (!Number.isInteger(channel) || channel < 0 || channel >= channels) {
    throw new Error(`channel ${channel} does not exist: layer "${layer}" has channels 0 to ${channels - 1}`);
  }
  return tf.tidy(() => {
    const onChannel = tf.reshape(tf.oneHot(channel, channels), [1, 1, 1, channels]);
    if (unit === 'sum') return tf.tile(onChannel, [batch, height, width, 1]);
    const values = tf.reshape(tf.slice(activation, [0, 0, 0, channel], [-1, -1, -1, 1]), [batch, height * width]);
    const strongest = tf.reshape(tf.oneHot(tf.argMax(values, 1), height * width), [batch, height, width, 1]);
    return tf.mul(strongest, onChannel);
  });
}

/** The [row, column] where each image's selection is 1. */
async function positionsOf(selection: tf.Tensor): Promise<[number, number][]> {
  const [batch, height, width] = selection.shape as number[];
  const flat = tf.tidy(() => tf.argMax(tf.reshape(tf.sum(selection, -1), [batch, height * width]), 1));
  const indices = Array.from(await flat.data());
  flat.dispose();
  return indices.map((index) => [Math.floor(index / width), index % width]);
}
