/**
 * The native folder pass's image decoding, on a worker thread of its own: ONNX Runtime runs a batch on
 * the pass worker's thread and blocks it meanwhile, so the next batch is decoded here at the same time.
 */
import { parentPort } from 'node:worker_threads';
import { batchPixels } from '../engine/dataset/batchPixels';
import { decodeImageBytes } from './imageFile';
import type { DecodeReply, DecodeRequest } from './folderPassMessages';
import type { WorkerReply } from './workerClient';

const port = parentPort!;
port.on('message', ({ id, files, width, height, maxPixels }: DecodeRequest) => {
  batchPixels(files, width, height, (name, bytes) => decodeImageBytes(name, bytes, maxPixels)).then(
    (pixels) => port.postMessage({ type: 'decoded', id, pixels } satisfies DecodeReply, [pixels.rgb.buffer as ArrayBuffer]),
    (error: Error) => port.postMessage({ type: 'failed', id, message: error.message } satisfies WorkerReply),
  );
});
port.postMessage({ type: 'ready' } satisfies WorkerReply);
