/**
 * A layer's activations for one image as a grid of channels, each normalised on its own and coloured,
 * computed with tfjs ops so that in the webview the whole picture is made on the GPU and read back once.
 *
 * Normalisations, as users know them from tutorials:
 * - `minmax`: each channel stretched from its minimum to its maximum;
 * - `standardize`: (x − mean) / std · 64 + 128, clipped to 0…255 — the Keras "visualizing what convnets
 *   learn" recipe, which keeps a channel's contrast comparable to its neighbours'.
 * A vector (a dense layer's output, or 1×1 maps) is normalised over all its units instead: one value per
 * channel has no range of its own.
 */
import * as tf from '@tensorflow/tfjs-core';

export type ChannelNormalization = 'minmax' | 'standardize';

export interface FeatureMapLayout {
  channels: number;
  /** Size of one channel's tile, without the one-pixel gap that follows it. */
  tileHeight: number;
  tileWidth: number;
  columns: number;
  rows: number;
  width: number;
  height: number;
}

export interface FeatureMapGrid {
  layout: FeatureMapLayout;
  /** [height, width, 4] int32 RGBA; gaps are transparent. The caller disposes it. */
  pixels: tf.Tensor3D;
}

/**
 * `activation`: one image's output of a layer, [1, H, W, C], [1, L, C] or [1, C].
 * `colors`: 256 × RGB bytes, entry i the colour of normalised value i / 255.
 */
export function featureMapGrid(activation: tf.Tensor, normalization: ChannelNormalization, colors: Uint8Array): FeatureMapGrid {
  const layout = featureMapLayout(activation.shape);
  const { channels, tileHeight: h, tileWidth: w, columns, rows } = layout;
  const pixels = tf.tidy(() => {
    const maps = tf.reshape(activation, [h, w, channels]) as tf.Tensor3D;
    const unit = normalize(maps, normalization, h * w === 1);
    // [C, H, W], padded with −1 (a gap) to whole rows and by one pixel right and below each tile.
    let tiles = tf.transpose(unit, [2, 0, 1]);
    tiles = tf.pad(
      tiles,
      [
        [0, rows * columns - channels],
        [0, 1],
        [0, 1],
      ],
      -1,
    );
    const grid = tf.reshape(tf.transpose(tf.reshape(tiles, [rows, columns, h + 1, w + 1]), [0, 2, 1, 3]), [
      rows * (h + 1),
      columns * (w + 1),
    ]);
    const trimmed = tf.slice(grid, [0, 0], [layout.height, layout.width]);
    const index = tf.cast(tf.round(tf.mul(tf.clipByValue(trimmed, 0, 1), 255)), 'int32');
    const rgba = tf.gather(lookupTable(colors), index);
    const alpha = tf.cast(tf.greaterEqual(trimmed, 0), 'int32');
    return tf.mul(rgba, tf.expandDims(alpha, -1)) as tf.Tensor3D;
  });
  return { layout, pixels };
}

export function featureMapLayout(shape: readonly number[]): FeatureMapLayout {
  if (shape[0] !== 1 || shape.length < 2 || shape.length > 4) {
    throw new Error(`feature maps are drawn for one image's [1, H, W, C] output, not for shape [${shape.join(', ')}]`);
  }
  const channels = shape[shape.length - 1];
  const tileHeight = shape.length === 4 ? shape[1] : 1;
  const tileWidth = shape.length >= 3 ? shape[shape.length - 2] : 1;
  // Vectors read best as a wide band; maps as a near-square grid.
  const columns = tileHeight * tileWidth === 1 ? Math.min(channels, 64) : Math.ceil(Math.sqrt(channels));
  const rows = Math.ceil(channels / columns);
  return { channels, tileHeight, tileWidth, columns, rows, width: columns * (tileWidth + 1) - 1, height: rows * (tileHeight + 1) - 1 };
}

/** Which channel and position a grid pixel shows, or undefined over a gap. */
export function featureMapAt(layout: FeatureMapLayout, x: number, y: number): { channel: number; y: number; x: number } | undefined {
  const column = Math.floor(x / (layout.tileWidth + 1));
  const row = Math.floor(y / (layout.tileHeight + 1));
  const inX = x - column * (layout.tileWidth + 1);
  const inY = y - row * (layout.tileHeight + 1);
  const channel = row * layout.columns + column;
  if (x < 0 || y < 0 || column >= layout.columns || inX >= layout.tileWidth || inY >= layout.tileHeight || channel >= layout.channels)
    return undefined;
  return { channel, y: inY, x: inX };
}

/** Top-left pixel of a channel's tile. */
export function tileOrigin(layout: FeatureMapLayout, channel: number): { x: number; y: number } {
  return { x: (channel % layout.columns) * (layout.tileWidth + 1), y: Math.floor(channel / layout.columns) * (layout.tileHeight + 1) };
}

/** [H, W, C] to [0, 1] per channel (or over everything, for a vector). */
function normalize(maps: tf.Tensor3D, normalization: ChannelNormalization, vector: boolean): tf.Tensor3D {
  const axes = vector ? [0, 1, 2] : [0, 1];
  if (normalization === 'minmax') {
    const min = tf.min(maps, axes, true);
    const range = tf.sub(tf.max(maps, axes, true), min);
    // A constant channel has no contrast: it shows as the colormap's low end.
    return tf.divNoNan(tf.sub(maps, min), range);
  }
  const { mean, variance } = tf.moments(maps, axes, true);
  const z = tf.div(tf.sub(maps, mean), tf.add(tf.sqrt(variance), 1e-5));
  return tf.clipByValue(tf.div(tf.add(tf.mul(z, 64), 128), 255), 0, 1) as tf.Tensor3D;
}

function lookupTable(colors: Uint8Array): tf.Tensor2D {
  const rgba = new Int32Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    rgba.set(colors.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return tf.tensor2d(rgba, [256, 4], 'int32');
}
