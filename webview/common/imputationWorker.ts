/** The Web Worker that makes ROAD's perturbed images for `imputationThread.ts` (dist/webview/imputationWorker.js). */
import { answerJob, type JobRequest, WORKER_READY } from '../../src/engine/metrics/perturbationThread';

// A dedicated worker's global scope; the pages' type library knows only windows.
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<JobRequest>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};
scope.onmessage = (event) => answerJob(event.data, (reply, transfer) => scope.postMessage(reply, transfer));
scope.postMessage(WORKER_READY, []);
