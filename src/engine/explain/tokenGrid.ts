/**
 * Vision transformers' tokens seen as an image: a token tensor [batch, prefix + h·w, channels] (a class
 * token first, and DeiT's distillation token) becomes [batch, h, w, channels] without the prefix, as
 * pytorch-grad-cam's reshape transforms (utils/reshape_transforms.py) do, so the CAM family applies.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface TokenGrid {
  /** Tokens before the patches: 1 (class token), 2 (class and distillation tokens) or 0 (Swin-like). */
  prefix: number;
  height: number;
  width: number;
}

/**
 * The patch grid of a token tensor's shape: a square grid after one leading token, else after two, else
 * with none; undefined for other shapes.
 */
export function tokenGridOf(shape: readonly (number | null)[]): TokenGrid | undefined {
  if (shape.length !== 3 || typeof shape[1] !== 'number') return undefined;
  for (const prefix of [1, 2, 0]) {
    const side = Math.round(Math.sqrt(shape[1] - prefix));
    if (side >= 2 && side * side === shape[1] - prefix) return { prefix, height: side, width: side };
  }
  return undefined;
}

/** [batch, h, w, channels]: the patch tokens in row-major order (as the patch embedding flattens them). */
export function tokensToGrid(tokens: tf.Tensor, grid: TokenGrid): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, count, channels] = tokens.shape as [number, number, number];
    const patches = tf.slice(tokens, [0, grid.prefix, 0], [batch, count - grid.prefix, channels]);
    return tf.reshape(patches, [batch, grid.height, grid.width, channels]) as tf.Tensor4D;
  });
}

/** The tokens again, the prefix tokens ([batch, prefix, channels]) put back in front of the grid's. */
export function gridToTokens(grid: tf.Tensor4D, prefix: tf.Tensor | undefined): tf.Tensor3D {
  return tf.tidy(() => {
    const [batch, height, width, channels] = grid.shape;
    const patches = tf.reshape(grid, [batch, height * width, channels]);
    return (prefix ? tf.concat([prefix, patches], 1) : patches) as tf.Tensor3D;
  });
}
