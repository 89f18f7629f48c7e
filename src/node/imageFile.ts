/** Image files (png, jpeg, bmp, tiff, webp) decoded to RGBA pixels, for the command line and tests. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decode } from 'image-js';
import type { RgbaImage } from '../engine/preprocess';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp'];

export async function readImageFile(filePath: string): Promise<RgbaImage> {
  const bytes = await readFile(filePath);
  const unreadable = () => new Error(`${path.basename(filePath)} is not an image ConvLens can decode (png, jpeg, bmp, tiff or webp)`);
  if (isWebp(bytes)) {
    try {
      // Loaded on first use: it compiles its WebAssembly when imported.
      const { decode: decodeWebp } = await import('@cwasm/webp');
      const image = decodeWebp(bytes);
      return { width: image.width, height: image.height, data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength) };
    } catch {
      throw unreadable();
    }
  }
  let image;
  try {
    image = decode(bytes);
  } catch {
    throw unreadable();
  }
  if (image.bitDepth !== 8) image = image.convertBitDepth(8);
  if (image.colorModel !== 'RGBA') image = image.convertColor('RGBA');
  const raw = image.getRawImage();
  return { width: raw.width, height: raw.height, data: Uint8Array.from(raw.data as ArrayLike<number>) };
}

/** A RIFF container holding WebP: "RIFF", a size, then "WEBP". */
function isWebp(bytes: Uint8Array): boolean {
  const text = (start: number) => String.fromCharCode(...bytes.subarray(start, start + 4));
  return bytes.length >= 12 && text(0) === 'RIFF' && text(8) === 'WEBP';
}
