/**
 * Image files (NODE_IMAGE_FORMATS: png, jpeg, bmp, tiff, webp) decoded to RGBA pixels, for the command line and tests.
 * Every file's size is read from its header and checked against the pixel limit before a decoder
 * allocates anything (imageHeader.ts); PNGs are checked further (png.ts), and JPEGs go to jpeg-js with
 * its own limits, since a JPEG may declare further frames past the one the header check reads.
 */
import path from 'node:path';
import { decode } from 'image-js';
import { decode as decodeJpeg } from 'jpeg-js';
import { checkImageHeader } from '../engine/imageHeader';
import { DEFAULT_LIMITS } from '../engine/limits';
import { checkPng } from '../engine/png';
import type { RgbaImage } from '../engine/preprocess';
import { IMAGE_FILE_LIMIT, IMAGE_FILE_MAX_BYTES } from '../engine/confinedPath';
import { readRegularFile } from './regularFile';
import { NODE_IMAGE_FORMATS } from '../shared/imageFormats';

/** jpeg-js's bookkeeping per pixel, at most: 4 bytes of coefficients and 1 of samples per component (4 for CMYK), and the RGBA. */
const JPEG_BYTES_PER_PIXEL = 24;

/**
 * The pixels of the image file at `filePath`, which must be a regular file of at most 256 MiB with at
 * most `maxPixels` pixels. Errors are one sentence naming the file by its base name.
 */
export async function readImageFile(filePath: string, maxPixels: number = DEFAULT_LIMITS.imagePixels): Promise<RgbaImage> {
  const name = path.basename(filePath);
  const refuse = (reason: string) => new Error(`${name} ${reason}`);
  const bytes = await readRegularFile(filePath, IMAGE_FILE_MAX_BYTES, refuse, IMAGE_FILE_LIMIT).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT' ? new Error(`${name}: no such file`) : error;
  });
  return decodeImageBytes(name, bytes, maxPixels);
}

/** An image file's bytes as RGBA pixels, refused (one sentence naming `name`) when over `maxPixels` or not an image. */
export async function decodeImageBytes(
  name: string,
  bytes: Uint8Array,
  maxPixels: number = DEFAULT_LIMITS.imagePixels,
): Promise<RgbaImage> {
  const unreadable = () => new Error(`${name} is not an image ConvLens can decode (${NODE_IMAGE_FORMATS.names})`);
  const header = checkImageHeader(name, bytes, maxPixels);
  if (!header) throw unreadable();
  if (header.type === 'png') checkPng(name, bytes, maxPixels);
  try {
    if (header.type === 'webp') return await decodeWebp(bytes);
    if (header.type === 'jpg') return jpegPixels(bytes, maxPixels, header.width * header.height);
    if (header.type === 'png' || header.type === 'bmp' || header.type === 'tiff') return imageJsPixels(bytes);
  } catch {
    // The decoders' own messages name no file and are no sentence for a user.
  }
  throw unreadable();
}

async function decodeWebp(bytes: Uint8Array): Promise<RgbaImage> {
  // Loaded on first use: it compiles its WebAssembly when imported.
  const { decode: decodeWebp } = await import('@cwasm/webp');
  const image = decodeWebp(bytes);
  return {
    width: image.width,
    height: image.height,
    data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
  };
}

/**
 * image-js decodes JPEGs with jpeg-js's limits off; here they hold: every frame's pixels, and memory by
 * the header's size (its own copy of the file included), which also bounds a frame of many components.
 */
function jpegPixels(bytes: Uint8Array, maxPixels: number, pixels: number): RgbaImage {
  const { width, height, data } = decodeJpeg(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: maxPixels / 1e6,
    maxMemoryUsageInMB: Math.ceil((pixels * JPEG_BYTES_PER_PIXEL + 2 * bytes.length) / 2 ** 20) + 64,
  });
  return { width, height, data };
}

function imageJsPixels(bytes: Uint8Array): RgbaImage {
  let image = decode(bytes);
  if (image.bitDepth !== 8) image = image.convertBitDepth(8);
  if (image.colorModel !== 'RGBA') image = image.convertColor('RGBA');
  const { width, height, data } = image.getRawImage();
  // After the conversions the pixels are 8-bit: kept as they are, not copied (a copy of a 100-megapixel image is 400 MB).
  return { width, height, data: data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>) };
}
