/** The worker thread that makes ROAD's perturbed images for `imputationThread.ts`. */
import { parentPort } from 'node:worker_threads';
import { answerJob, type JobRequest, WORKER_READY } from '../engine/metrics/perturbationThread';

const port = parentPort!;
port.on('message', (request: JobRequest) => answerJob(request, (reply, transfer) => port.postMessage(reply, transfer)));
port.postMessage(WORKER_READY);
