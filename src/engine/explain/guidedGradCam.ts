/**
 * Guided Grad-CAM (Selvaraju et al., 2017): the Grad-CAM map, upsampled to the input, multiplied into
 * the guided-backprop gradient, as pytorch-grad-cam's example builds it (`cam_mask * gb`). The map is the
 * product's largest absolute value over the colour channels (docs/explanations.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Feeds } from '../execute';
import type { RunnableModel } from '../graph';
import { type CamOptions, rawCam } from './cam';
import { channelMaxOfAbs, guidedGradient, type RawMaps, type TargetGradient } from './inputGradients';
import { finishCam } from './postprocess';
import type { RequestedClasses } from './scores';

/** cam ⊙ guided gradient, [batch, H, W, C]: the signal whose colour picture pytorch-grad-cam shows. */
export async function guidedGradCamSignal(
  model: RunnableModel,
  feeds: Feeds,
  x: tf.Tensor4D,
  layer: string,
  requested: RequestedClasses,
  options: CamOptions,
): Promise<TargetGradient> {
  const [, height, width] = x.shape;
  const { raw, classIndex, score } = await rawCam(model, feeds, 'gradcam', layer, requested, options);
  const cam = finishCam(raw, height, width);
  raw.dispose();
  const guided = guidedGradient(model, feeds, x, classIndex);
  const gradient = tf.tidy(() => tf.mul(guided, tf.expandDims(cam, -1)));
  tf.dispose([cam, guided]);
  return { gradient, classIndex, score };
}

export async function guidedGradCam(
  model: RunnableModel,
  feeds: Feeds,
  x: tf.Tensor4D,
  layer: string,
  requested: RequestedClasses,
  options: CamOptions,
): Promise<RawMaps> {
  return channelMaxOfAbs(await guidedGradCamSignal(model, feeds, x, layer, requested, options));
}
