/**
 * An image's size as its header declares it, read before any decoder runs: a 1 MB file can declare
 * 30,000 × 30,000 pixels, and decoders allocate what the header says (3.6 GB of RGBA for that one).
 * Shared by the command line and the webviews, so both refuse the same files with the same sentence.
 */
import { imageSize } from 'image-size';
import { DEFAULT_LIMITS, LimitExceededError } from './limits';

export interface ImageHeader {
  width: number;
  height: number;
  /** The format image-size recognised: "png", "jpg", "webp", "gif", "bmp", "tiff"… */
  type: string;
}

/** The declared size, or undefined when the bytes hold no header image-size can read. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  try {
    const { width, height, type } = imageSize(bytes);
    return Number.isFinite(width) && Number.isFinite(height) && type ? { width, height, type } : undefined;
  } catch {
    return undefined; // image-size throws on unknown formats and on headers cut short
  }
}

/**
 * The declared size, checked against `maxPixels`: a LimitExceededError naming the file when it asks for
 * more. Undefined when no header can be read; the caller refuses those, since what cannot be measured
 * cannot be bounded.
 */
export function checkImageHeader(
  fileName: string,
  bytes: Uint8Array,
  maxPixels: number = DEFAULT_LIMITS.imagePixels,
): ImageHeader | undefined {
  const header = readImageHeader(bytes);
  if (header) checkPixels(fileName, header.width, header.height, maxPixels);
  return header;
}

/** Refuses a width × height over `maxPixels` with the one sentence every image reader gives. */
export function checkPixels(fileName: string, width: number, height: number, maxPixels: number = DEFAULT_LIMITS.imagePixels): void {
  if (width * height > maxPixels) {
    const count = (n: number) => n.toLocaleString('en-US');
    throw new LimitExceededError(fileName, `is ${count(width)} × ${count(height)} pixels`, 'imagePixels', maxPixels);
  }
}
