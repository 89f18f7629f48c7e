/**
 * ROAD's imputations on a Web Worker in the pages (the Faithfulness tab, Check this explanation): the
 * network runs on the page's thread, and on a machine with two cores the imputations of the next images
 * overlap its pass over the last ones (`perturbationThread.ts`). Started as every page worker is
 * (`pageWorker.ts`), from dist/webview/imputationWorker.js.
 */
import {
  type JobReply,
  threadMaker,
  type ThreadConnection,
  WORKER_NAME,
  WORKER_START_MS,
} from '../../src/engine/metrics/perturbationThread';
import { setImputationThread } from '../../src/engine/metrics/perturbations';
import { startPageWorker } from './pageWorker';

async function connect(): Promise<ThreadConnection> {
  const worker = await startPageWorker('imputationWorker.js', WORKER_NAME, WORKER_START_MS);
  return {
    post: (request) => worker.postMessage(request),
    listen(onReply, onError) {
      const reply = (event: MessageEvent<JobReply>) => onReply(event.data);
      const failed = (event: ErrorEvent) => onError(new Error(event.message || 'the imputation worker failed'));
      worker.addEventListener('message', reply);
      worker.addEventListener('error', failed);
      return () => {
        worker.removeEventListener('message', reply);
        worker.removeEventListener('error', failed);
      };
    },
    busy: () => undefined,
    end: () => worker.terminate(),
  };
}

/** Makes ROAD's imputations on a Web Worker from now on in this page. */
export function useImputationThread(): void {
  setImputationThread(threadMaker(connect));
}
