/**
 * The Analyze pass's batches decoded on a Web Worker: the model runs on the page's thread, so a batch
 * decoded there waited for the model and the model for it (a fifth to a third of the pass on a folder of
 * small PNGs); on the worker the next batch is decoded while the model runs this one. Where the worker
 * does not start (a policy without `worker-src blob:`), or once it fails, batches are decoded on the page.
 */
import { startPageWorker } from '../common/pageWorker';
import { type BatchToDecode, decodeBatch, type DecodedBatch, DECODE_WORKER } from './batchDecoding';

const WORKER_START_MS = 10_000;

type Reply = DecodedBatch | { id: number; error: string };

let worker: Promise<Worker | undefined> | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve(batch: DecodedBatch): void; reject(error: Error): void }>();

/** Starts the worker now (while the model loads) rather than with the first batch. */
export function startDecoding(): void {
  worker ??= startDecodeWorker();
}

/** Decodes `files` to pixels at width × height; the files' bytes are handed over (not usable after). */
export async function decodeOffPage(request: Omit<BatchToDecode, 'id'>): Promise<DecodedBatch> {
  const id = nextId++;
  startDecoding();
  const thread = await worker;
  if (!thread) return decodeBatch({ ...request, id });
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    const bytes = request.files.flatMap((file) => (file.bytes ? [file.bytes] : []));
    thread.postMessage({ ...request, id }, bytes);
  });
}

async function startDecodeWorker(): Promise<Worker | undefined> {
  let thread: Worker;
  try {
    thread = await startPageWorker('decodeWorker.js', DECODE_WORKER, WORKER_START_MS);
  } catch (error) {
    console.warn(`ConvLens decodes the folder's images on the page: ${(error as Error).message}`);
    return undefined;
  }
  thread.addEventListener('message', ({ data }: MessageEvent<Reply>) => {
    const asked = waiting.get(data.id);
    waiting.delete(data.id);
    if ('error' in data) asked?.reject(new Error(data.error));
    else asked?.resolve(data);
  });
  thread.addEventListener('error', (event) => {
    // The batches asked of it fail; the next ones are decoded on the page.
    worker = Promise.resolve(undefined);
    thread.terminate();
    for (const asked of waiting.values()) asked.reject(new Error(event.message || 'the decode worker failed'));
    waiting.clear();
  });
  return thread;
}
