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

/**
 * Pixels already at the model's size (`batchRgb`'s) as the model's input: channels and scale applied.
 * In plain loops rather than tensor ops: on WebAssembly the ops took 6 ms a 224×224 image (each op a
 * pass over the batch, the per-channel ones broadcast), the loops 1.5. Every step is rounded to float32
 * as the op would round it, so the numbers are the ops' to the bit.
 */
export function rgbToInput(rgb: Float32Array, count: number, p: Preprocessing): tf.Tensor4D {
  if (p.channels === 'gray') return tf.tensor4d(scaleGray(rgb, p.scale), [count, p.height, p.width, 1]);
  // BGR for the models that want it, and always for Caffe's scale, whose means are BGR's.
  const bgr = p.channels === 'bgr' || p.scale === 'caffe';
  return tf.tensor4d(scaleColour(rgb, p.scale, bgr), [count, p.height, p.width, 3]);
}

const f = Math.fround;

/** ITU-R 601 luma (the weights image libraries use for grayscale conversion), then the scale. */
function scaleGray(rgb: Float32Array, scale: PixelScale): Float32Array {
  const [red, green, blue] = [f(0.299), f(0.587), f(0.114)];
  const gray = new Float32Array(rgb.length / 3);
  for (let i = 0, j = 0; i < gray.length; i++, j += 3) gray[i] = f(f(f(rgb[j] * red) + f(rgb[j + 1] * green)) + f(rgb[j + 2] * blue));
  switch (scale) {
    case '0-1':
      for (let i = 0; i < gray.length; i++) gray[i] = f(gray[i] / 255);
      break;
    case '-1-1':
      for (let i = 0; i < gray.length; i++) gray[i] = f(f(gray[i] / 127.5) - 1);
      break;
    case '0-255':
      break;
    case 'torch':
      for (let i = 0; i < gray.length; i++) gray[i] = f(f(f(gray[i] / 255) - 0.5) / 0.5);
      break;
    case 'caffe':
      for (let i = 0; i < gray.length; i++) gray[i] = f(gray[i] - 127.5);
      break;
  }
  return gray;
}

/** The three channels, reversed to BGR where `bgr`, scaled. */
function scaleColour(rgb: Float32Array, scale: PixelScale, bgr: boolean): Float32Array {
  const out = new Float32Array(rgb.length);
  const [first, last] = bgr ? [2, 0] : [0, 2];
  for (let j = 0; j < rgb.length; j += 3) {
    out[j] = rgb[j + first];
    out[j + 1] = rgb[j + 1];
    out[j + 2] = rgb[j + last];
  }
  switch (scale) {
    case '0-1':
      for (let j = 0; j < out.length; j++) out[j] = f(out[j] / 255);
      break;
    case '-1-1':
      for (let j = 0; j < out.length; j++) out[j] = f(f(out[j] / 127.5) - 1);
      break;
    case '0-255':
      break;
    case 'torch': {
      const [m0, m1, m2] = IMAGENET_MEAN.map(f);
      const [s0, s1, s2] = IMAGENET_STD.map(f);
      for (let j = 0; j < out.length; j += 3) {
        out[j] = f(f(f(out[j] / 255) - m0) / s0);
        out[j + 1] = f(f(f(out[j + 1] / 255) - m1) / s1);
        out[j + 2] = f(f(f(out[j + 2] / 255) - m2) / s2);
      }
      break;
    }
    case 'caffe': {
      const [m0, m1, m2] = CAFFE_MEAN_BGR.map(f);
      for (let j = 0; j < out.length; j += 3) {
        out[j] = f(out[j] - m0);
        out[j + 1] = f(out[j + 1] - m1);
        out[j + 2] = f(out[j + 2] - m2);
      }
      break;
    }
  }
  return out;
}
