/** Image files (png, jpeg, bmp, tiff) decoded to RGBA pixels, for the command line and tests. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decode } from 'image-js';
import type { RgbaImage } from '../engine/preprocess';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff'];

export async function readImageFile(filePath: string): Promise<RgbaImage> {
  const bytes = await readFile(filePath);
  let image;
  try {
    image = decode(bytes);
  } catch {
    throw new Error(`${path.basename(filePath)} is not an image ConvLens can decode (png, jpeg, bmp or tiff)`);
  }
  if (image.bitDepth !== 8) image = image.convertBitDepth(8);
  if (image.colorModel !== 'RGBA') image = image.convertColor('RGBA');
  const raw = image.getRawImage();
  return { width: raw.width, height: raw.height, data: Uint8Array.from(raw.data as ArrayLike<number>) };
}
