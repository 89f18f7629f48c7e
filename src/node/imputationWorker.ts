/**
 * The thread that makes ROAD's perturbed images for `imputationThread.ts`: one job at a time, each image
 * posted (its buffer transferred) as soon as it is made, then `done`.
 */
import { parentPort } from 'node:worker_threads';
import { type PerturbationJob, perturbedImages } from '../engine/metrics/perturbations';

export type WorkerReply = { job: number; image: Float32Array } | { job: number; done: true } | { job: number; error: string };

const port = parentPort!;
port.on('message', ({ job, data }: { job: number; data: PerturbationJob }) => {
  try {
    for (const image of perturbedImages(data)) port.postMessage({ job, image } satisfies WorkerReply, [image.buffer as ArrayBuffer]);
    port.postMessage({ job, done: true } satisfies WorkerReply);
  } catch (error) {
    port.postMessage({ job, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
  }
});
