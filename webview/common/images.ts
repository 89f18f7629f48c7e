/**
 * Image bytes to pixels and pixels to PNG, with the browser's own codecs (png, jpeg, bmp, webp, gif);
 * plain opaque PNGs, the common case in folders of small images, are decoded in JavaScript instead.
 * Every image's size is read from its header first: one over the pixel limit, or one whose size cannot
 * be read, is refused before a decoder allocates what it declares.
 */
import { checkImageHeader, checkPixels } from '../../src/engine/imageHeader';
import { DEFAULT_LIMITS } from '../../src/engine/limits';
import { decodePlainPng } from '../../src/engine/png';
import type { RgbaImage } from '../../src/engine/preprocess';
import { WEBVIEW_IMAGE_FORMATS } from '../../src/shared/imageFormats';

/** The pixels of an image file's bytes; `maxPixels` is the limit its header's size must keep to. */
export async function decodeImage(name: string, bytes: Uint8Array, maxPixels: number = DEFAULT_LIMITS.imagePixels): Promise<RgbaImage> {
  const unreadable = () => new Error(`${name} is not an image ConvLens can decode (${WEBVIEW_IMAGE_FORMATS.names}).`);
  if (!checkImageHeader(name, bytes, maxPixels)) throw unreadable();
  // The same pixels as the browser's in a tenth of its time (see png.ts).
  const plain = decodePlainPng(bytes, name, maxPixels);
  if (plain) return plain;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  } catch {
    throw unreadable();
  }
  try {
    // What the browser decoded, not only what the header said (a GIF's frames, a JPEG's further frames).
    checkPixels(name, bitmap.width, bitmap.height, maxPixels);
  } catch (error) {
    bitmap.close();
    throw error;
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  // A canvas in memory, not on the GPU: its pixels are read back at once (twice as fast in Chromium).
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
  return { width, height, data: new Uint8Array(data.buffer) };
}

/** Draws pixels onto a canvas, which takes the image's size. */
export function paint(canvas: HTMLCanvasElement, image: RgbaImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
}

export async function canvasPng(canvas: HTMLCanvasElement): Promise<Uint8Array> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the picture could not be encoded as PNG');
  return new Uint8Array(await blob.arrayBuffer());
}
