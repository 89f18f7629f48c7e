/**
 * A batch of image files to the model's pixels: each file decoded by the platform's decoder (the
 * browser's in a webview, Node's on the extension host), resized, and packed as one float32 RGB array
 * (`batchRgb`). A file that could not be read or decoded is black in its place, and named with the
 * reason. No tensors: both callers run it on a worker beside the thread that runs the model.
 */
import type { RgbaImage } from '../preprocess';
import { batchRgb } from '../resizePixels';

/** A folder image as the host read it: its bytes, or why it cannot be read. */
export interface ImageFileBytes {
  path: string;
  bytes?: ArrayBuffer;
  error?: string;
}

export interface BatchPixels {
  /** [files, height, width, 3]; an image that could not be read or decoded is black. */
  rgb: Float32Array;
  /** Path and reason of each file left out, in file order. */
  problems: [string, string][];
}

/** `decode` rejects with one sentence naming the file (its header checked against the pixel limit first). */
export async function batchPixels(
  files: readonly ImageFileBytes[],
  width: number,
  height: number,
  decode: (name: string, bytes: Uint8Array) => Promise<RgbaImage>,
): Promise<BatchPixels> {
  const decoded = await Promise.all(
    files.map(async (file): Promise<RgbaImage | string> => {
      if (!file.bytes) return file.error ?? `${file.path} cannot be read`;
      try {
        return await decode(file.path, new Uint8Array(file.bytes));
      } catch (error) {
        return (error as Error).message;
      }
    }),
  );
  const blank = { width, height, data: new Uint8Array(width * height * 4) };
  const images = decoded.map((image) => (typeof image === 'string' ? blank : image));
  const problems = decoded.flatMap((image, i): [string, string][] => (typeof image === 'string' ? [[files[i].path, image]] : []));
  return { rgb: batchRgb(images, width, height), problems };
}
