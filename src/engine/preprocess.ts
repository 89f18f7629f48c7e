/**
 * How an image becomes a model's input: size, channel order and pixel scaling. The same settings are
 * used by the webview and the command line; they come from the `<model>.convlens.json` sidecar, from
 * options, or are detected from the model (a Rescaling layer means raw 0-255 pixels, and so on).
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchRgb } from './resizePixels';
import { walkLayers, type ModelSummary } from './model';

export const PIXEL_SCALES = ['0-1', '-1-1', '0-255', 'torch', 'caffe'] as const;
export const CHANNEL_ORDERS = ['rgb', 'bgr', 'gray'] as const;
export type PixelScale = (typeof PIXEL_SCALES)[number];
export type ChannelOrder = (typeof CHANNEL_ORDERS)[number];

export interface Preprocessing {
  width: number;
  height: number;
  scale: PixelScale;
  channels: ChannelOrder;
}

/** Settings as written by a user (sidecar file or command-line options); each may be absent. */
export interface PreprocessingSettings {
  size?: string;
  scale?: string;
  channels?: string;
}

/** Decoded pixels, 4 bytes (RGBA) per pixel, row by row. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];

/** What the model most likely expects, from its input shape, format and first layers. */
export function detectPreprocessing(summary: ModelSummary): Preprocessing {
  const [, height, width, channelCount] = summary.inputShapes[0] ?? [];
  const firstLayers = [...walkLayers(summary.layers)].slice(0, 4).map((layer) => layer.type);
  let scale: PixelScale = '0-1';
  if (firstLayers.some((type) => type === 'Rescaling' || type === 'Normalization')) scale = '0-255';
  else if (summary.format === 'onnx' && channelCount === 3) scale = 'torch';
  return {
    width: typeof width === 'number' ? width : 224,
    height: typeof height === 'number' ? height : 224,
    scale,
    channels: channelCount === 1 ? 'gray' : 'rgb',
  };
}

/** Applies settings over a base, rejecting values that are not understood (with the reason). */
export function applySettings(base: Preprocessing, settings: PreprocessingSettings, where: string): Preprocessing {
  const result = { ...base };
  if (settings.size !== undefined) {
    const match = /^(\d+)x(\d+)$/i.exec(String(settings.size).trim());
    if (!match || Number(match[1]) < 1 || Number(match[2]) < 1 || Number(match[1]) > 8192 || Number(match[2]) > 8192) {
      throw new Error(`${where}: size must be WIDTHxHEIGHT, such as 224x224 (got "${settings.size}")`);
    }
    result.width = Number(match[1]);
    result.height = Number(match[2]);
  }
  if (settings.scale !== undefined) {
    if (!PIXEL_SCALES.includes(settings.scale as PixelScale)) {
      throw new Error(`${where}: scale must be one of ${PIXEL_SCALES.join(', ')} (got "${settings.scale}")`);
    }
    result.scale = settings.scale as PixelScale;
  }
  if (settings.channels !== undefined) {
    if (!CHANNEL_ORDERS.includes(settings.channels as ChannelOrder)) {
      throw new Error(`${where}: channels must be one of ${CHANNEL_ORDERS.join(', ')} (got "${settings.channels}")`);
    }
    result.channels = settings.channels as ChannelOrder;
  }
  return result;
}

/** The sidecar's settings, from its JSON text. */
export function parseSidecar(text: string, fileName: string): PreprocessingSettings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${fileName} is not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${fileName} must hold a JSON object`);
  const { size, scale, channels } = json as Record<string, unknown>;
  const settings: PreprocessingSettings = {};
  if (size !== undefined) settings.size = String(size);
  if (scale !== undefined) settings.scale = String(scale);
  if (channels !== undefined) settings.channels = String(channels);
  return settings;
}

export function describePreprocessing(p: Preprocessing): string {
  return `${p.width}x${p.height}, ${p.channels}, scale ${p.scale}`;
}

/** One image as a [1, height, width, channels] float32 tensor, ready for the model. */
export function imageToInput(image: RgbaImage, p: Preprocessing): tf.Tensor4D {
  return imagesToInput([image], p);
}

/**
 * Images as one [n, height, width, channels] float32 batch, the same numbers as `imageToInput` of each.
 * The batch is one tensor made at once: a folder pass then costs a few ops per batch rather than a few
 * per image, which on WebAssembly was a quarter of the model's time.
 */
export function imagesToInput(images: readonly RgbaImage[], p: Preprocessing): tf.Tensor4D {
  return rgbToInput(batchRgb(images, p.width, p.height), images.length, p);
}

/** Pixels already at the model's size (`batchRgb`'s) as the model's input: channels and scale applied. */
export function rgbToInput(rgb: Float32Array, count: number, p: Preprocessing): tf.Tensor4D {
  return tf.tidy(() => {
    let pixels: tf.Tensor = tf.tensor4d(rgb, [count, p.height, p.width, 3]);
    if (p.channels === 'gray') {
      // ITU-R 601 luma, the weights image libraries use for grayscale conversion.
      pixels = tf.sum(tf.mul(pixels, tf.tensor1d([0.299, 0.587, 0.114])), -1, true);
    } else if (p.channels === 'bgr' || p.scale === 'caffe') {
      pixels = tf.reverse(pixels, -1);
    }
    return scalePixels(pixels, p) as tf.Tensor4D;
  });
}

function scalePixels(pixels: tf.Tensor, p: Preprocessing): tf.Tensor {
  const channels = pixels.shape[pixels.shape.length - 1];
  switch (p.scale) {
    case '0-1':
      return tf.div(pixels, 255);
    case '-1-1':
      return tf.sub(tf.div(pixels, 127.5), 1);
    case '0-255':
      return pixels;
    case 'torch':
      return channels === 3
        ? tf.div(tf.sub(tf.div(pixels, 255), tf.tensor1d(IMAGENET_MEAN)), tf.tensor1d(IMAGENET_STD))
        : tf.div(tf.sub(tf.div(pixels, 255), 0.5), 0.5);
    case 'caffe':
      return channels === 3 ? tf.sub(pixels, tf.tensor1d(CAFFE_MEAN_BGR)) : tf.sub(pixels, 127.5);
  }
}
