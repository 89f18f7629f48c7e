/**
 * ROAD's imputations on a worker thread in Node (the command line, the bench): the WebAssembly backend
 * runs the network on one thread, so on a machine with two cores the imputations of the next images
 * overlap the network's pass over the last ones. One worker serves one job at a time and is kept for
 * the next; a job abandoned midway (cancelled, failed) ends the worker, and the next job starts another.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type PerturbationJob, type PerturbationMaker, type PerturbedImages, setImputationThread } from '../engine/metrics/perturbations';
import type { WorkerReply } from './imputationWorker';

/** The bundled worker beside the command line (dist/), else the source through tsx (tests, bench). */
function startWorker(): Worker {
  const bundled = path.join(__dirname, 'imputationWorker.js');
  if (existsSync(bundled)) return new Worker(bundled);
  const source = path.join(__dirname, 'imputationWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

let worker: Worker | undefined;
let jobs = 0;

export const imputeOnThread: PerturbationMaker = (data: PerturbationJob): PerturbedImages => {
  const thread = (worker ??= startWorker());
  const job = ++jobs;
  const made: Float32Array[] = [];
  let finished = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const onMessage = (reply: WorkerReply) => {
    if (reply.job !== job) return;
    if ('image' in reply) made.push(reply.image);
    else if ('error' in reply) failure = new Error(reply.error);
    else finished = true;
    wake?.();
  };
  const onError = (error: Error) => {
    failure = error;
    wake?.();
  };
  thread.on('message', onMessage);
  thread.on('error', onError);
  // Kept alive while it works for someone; an idle worker does not keep the process running.
  thread.ref();
  thread.postMessage({ job, data });
  const release = () => {
    thread.off('message', onMessage);
    thread.off('error', onError);
    if (finished && !failure) {
      thread.unref();
    } else {
      void thread.terminate();
      if (worker === thread) worker = undefined;
    }
  };
  return {
    async take(most) {
      while (made.length === 0 && !finished && !failure) await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
      return made.splice(0, most);
    },
    close: release,
  };
};

/** Makes ROAD's imputations on a worker thread from now on in this process. */
export function useImputationThread(): void {
  setImputationThread(imputeOnThread);
}
