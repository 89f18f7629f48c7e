/**
 * A batch of folder images from their files' bytes to pixels at the model's size: each decoded (its
 * header checked against the pixel limit first), resized, and packed as one float32 RGB array
 * (`batchRgb`). What is left for the page is the tensor. Runs on the decode worker (decodeWorker.ts)
 * while the page's thread runs the model, or on the page where the worker does not start.
 */
import type { RgbaImage } from '../../src/engine/preprocess';
import { batchRgb } from '../../src/engine/resizePixels';
import type { FolderImage } from '../../src/shared/analyzeProtocol';
import { decodeImage } from '../common/images';

export const DECODE_WORKER = 'convlens-decode';
export const DECODE_WORKER_READY = 'convlens-decode-worker-ready';

export interface BatchToDecode {
  id: number;
  files: FolderImage[];
  width: number;
  height: number;
  maxPixels: number;
}

export interface DecodedBatch {
  id: number;
  /** [files, height, width, 3]; an image that could not be read or decoded is black. */
  rgb: Float32Array;
  /** Path and reason of each file left out. */
  problems: [string, string][];
}

export async function decodeBatch({ id, files, width, height, maxPixels }: BatchToDecode): Promise<DecodedBatch> {
  const decoded = await Promise.all(
    files.map(async (file): Promise<RgbaImage | string> => {
      if (!file.bytes) return file.error ?? `${file.path} cannot be read`;
      try {
        return await decodeImage(file.path, new Uint8Array(file.bytes), maxPixels);
      } catch (error) {
        return (error as Error).message;
      }
    }),
  );
  const blank = { width, height, data: new Uint8Array(width * height * 4) };
  const images = decoded.map((image) => (typeof image === 'string' ? blank : image));
  const problems = decoded.flatMap((image, i): [string, string][] => (typeof image === 'string' ? [[files[i].path, image]] : []));
  return { id, rgb: batchRgb(images, width, height), problems };
}
