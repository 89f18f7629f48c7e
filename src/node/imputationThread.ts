/**
 * ROAD's imputations on a worker thread in Node (the command line, the bench): the WebAssembly backend
 * runs the network on one thread, so on a machine with two cores the imputations of the next images
 * overlap the network's pass over the last ones (`perturbationThread.ts`).
 */
import { type JobReply, threadMaker, type ThreadConnection, WORKER_NAME, WORKER_START_MS } from '../engine/metrics/perturbationThread';
import { setImputationThread } from '../engine/metrics/perturbations';
import { startWorker } from './workerClient';

async function connect(): Promise<ThreadConnection> {
  const worker = startWorker('imputationWorker', WORKER_NAME);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the imputation worker did not start')), WORKER_START_MS);
    worker.once('message', () => (clearTimeout(timer), resolve()));
    worker.once('error', (error) => (clearTimeout(timer), reject(error)));
  }).catch((error: unknown) => {
    void worker.terminate();
    throw error;
  });
  return {
    post: (request) => worker.postMessage(request),
    listen(onReply, onError) {
      const reply = (message: JobReply) => onReply(message);
      worker.on('message', reply);
      worker.on('error', onError);
      return () => {
        worker.off('message', reply);
        worker.off('error', onError);
      };
    },
    // An idle worker does not keep the process running.
    busy: (working) => (working ? worker.ref() : worker.unref()),
    end: () => void worker.terminate(),
  };
}

export const imputeOnThread = threadMaker(connect);

/** Makes ROAD's imputations on a worker thread from now on in this process. */
export function useImputationThread(): void {
  setImputationThread(imputeOnThread);
}
