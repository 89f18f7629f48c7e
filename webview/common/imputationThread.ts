/**
 * ROAD's imputations on a Web Worker in the pages (the Faithfulness tab, Check this explanation): the
 * network runs on the page's thread, and on a machine with two cores the imputations of the next images
 * overlap its pass over the last ones (`perturbationThread.ts`). A webview cannot start a worker from its
 * resource URL (another origin), so the page reads dist/webview/imputationWorker.js and starts it from a
 * blob: the policy allows workers from blobs (`worker-src blob:`) and nothing else.
 */
import {
  type JobReply,
  threadMaker,
  type ThreadConnection,
  WORKER_NAME,
  WORKER_START_MS,
} from '../../src/engine/metrics/perturbationThread';
import { setImputationThread } from '../../src/engine/metrics/perturbations';

async function connect(): Promise<ThreadConnection> {
  const page = document.querySelector<HTMLScriptElement>('script[nonce][src]');
  if (!page) throw new Error("the page's script is not found");
  const response = await fetch(new URL('imputationWorker.js', page.src));
  if (!response.ok) throw new Error(`imputationWorker.js: ${response.status}`);
  const url = URL.createObjectURL(new Blob([await response.text()], { type: 'text/javascript' }));
  // Named for the developer tools (and the end-to-end test that looks for it).
  const worker = new Worker(url, { name: WORKER_NAME });
  // A worker the policy refuses never runs (and may not say so): it must say it runs within a while.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the imputation worker did not start')), WORKER_START_MS);
    worker.addEventListener('message', () => (clearTimeout(timer), resolve()), { once: true });
    worker.addEventListener('error', (event) => (clearTimeout(timer), reject(new Error(event.message))), { once: true });
  })
    .catch((error: unknown) => {
      worker.terminate();
      throw error;
    })
    .finally(() => URL.revokeObjectURL(url));
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
