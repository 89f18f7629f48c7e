/**
 * A batch of folder images from their files' bytes to pixels at the model's size with the browser's
 * decoders (engine/dataset/batchPixels.ts). What is left for the page is the tensor. Runs on the decode
 * worker (decodeWorker.ts) while the page's thread runs the model, or on the page where the worker does
 * not start.
 */
import { batchPixels, type BatchPixels } from '../../src/engine/dataset/batchPixels';
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

export interface DecodedBatch extends BatchPixels {
  id: number;
}

export async function decodeBatch({ id, files, width, height, maxPixels }: BatchToDecode): Promise<DecodedBatch> {
  return { id, ...(await batchPixels(files, width, height, (name, bytes) => decodeImage(name, bytes, maxPixels))) };
}
