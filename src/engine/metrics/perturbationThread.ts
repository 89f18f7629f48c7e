/**
 * ROAD's imputations on a second thread, whatever the platform calls a thread (Node's worker_threads, a
 * page's Web Worker): the worker's side answers each job by posting its images one by one as they are
 * made (`answerJob`), the caller's side turns those messages into `PerturbedImages` (`threadMaker`). One
 * worker serves one job at a time and is kept for the next; a job abandoned midway (cancelled, failed)
 * ends the worker, and the next job starts another. A worker that does not start (says `WORKER_READY`
 * within `WORKER_START_MS`) leaves the imputations on the caller's thread.
 */
import { imputeHere, type PerturbationJob, type PerturbationMaker, type PerturbedImages, perturbedImages } from './perturbations';

export interface JobRequest {
  job: number;
  data: PerturbationJob;
}

export type JobReply = { job: number; image: Float32Array } | { job: number; done: true } | { job: number; error: string };

/** What a worker posts once it runs, before any job: a worker that never says it (a policy, a broken file) is not used. */
export const WORKER_READY = 'convlens-imputation-worker-ready';

/** The workers' name (shown by developer tools). */
export const WORKER_NAME = 'convlens-imputation';

/** How long a worker may take to say it runs. */
export const WORKER_START_MS = 10_000;

/** The worker's side: makes the job's images, posting each (its buffer transferred), then `done`. */
export function answerJob({ job, data }: JobRequest, post: (reply: JobReply, transfer: ArrayBuffer[]) => void): void {
  try {
    for (const image of perturbedImages(data)) post({ job, image }, [image.buffer as ArrayBuffer]);
    post({ job, done: true }, []);
  } catch (error) {
    post({ job, error: error instanceof Error ? error.message : String(error) }, []);
  }
}

/** The caller's side of one worker. */
export interface ThreadConnection {
  post(request: JobRequest): void;
  /** Listens to replies and failures until the returned function is called. */
  listen(onReply: (reply: JobReply) => void, onError: (error: Error) => void): () => void;
  /** Whether the worker works for someone now (Node keeps the process alive only then). */
  busy(working: boolean): void;
  end(): void;
}

/** A `PerturbationMaker` that sends each job to a worker from `connect`. */
export function threadMaker(connect: () => Promise<ThreadConnection>): PerturbationMaker {
  let worker: Promise<ThreadConnection | undefined> | undefined;
  let jobs = 0;
  // A platform whose worker does not start (a policy, a missing file) imputes on the caller's thread.
  const started = () => (worker ??= connect().catch(() => undefined));

  return (data) => {
    const job = ++jobs;
    const thread = started();
    const made: Float32Array[] = [];
    let state: 'working' | 'finished' | 'closed' = 'working';
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    let stopListening: (() => void) | undefined;
    let here: PerturbedImages | undefined;
    let posted = false;
    const opened = thread.then((connection) => {
      if (state === 'closed') return;
      if (!connection) {
        here = imputeHere(data);
        return;
      }
      stopListening = connection.listen(
        (reply) => {
          if (reply.job !== job) return;
          if ('image' in reply) made.push(reply.image);
          else if ('error' in reply) failure = new Error(reply.error);
          else state = 'finished';
          wake?.();
        },
        (error) => {
          failure = error;
          wake?.();
        },
      );
      connection.busy(true);
      connection.post({ job, data });
      posted = true;
    });
    return {
      async take(most) {
        await opened;
        if (here) return here.take(most);
        while (made.length === 0 && state === 'working' && !failure) await new Promise<void>((resolve) => (wake = resolve));
        if (failure) throw failure;
        return made.splice(0, most);
      },
      close() {
        const abandoned = posted && !(state === 'finished' && !failure);
        state = 'closed';
        here?.close();
        // The next job must not reach a worker that is being ended.
        if (abandoned && worker === thread) worker = undefined;
        void thread.then((connection) => {
          if (!connection || !posted) return;
          stopListening?.();
          if (abandoned) connection.end();
          else connection.busy(false);
        });
      },
    };
  };
}
