/** The Web Worker that decodes the Analyze pass's batches for `batchDecoder.ts` (dist/webview/decodeWorker.js). */
import { type BatchToDecode, decodeBatch, DECODE_WORKER_READY } from './batchDecoding';

// A dedicated worker's global scope; the pages' type library knows only windows.
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<BatchToDecode>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};
scope.onmessage = async ({ data }) => {
  try {
    const decoded = await decodeBatch(data);
    scope.postMessage(decoded, [decoded.rgb.buffer]);
  } catch (error) {
    scope.postMessage({ id: data.id, error: (error as Error).message }, []);
  }
};
scope.postMessage(DECODE_WORKER_READY, []);
