/**
 * A worker thread of ours, spoken to by requests that each get one reply: the bundled script beside
 * the extension or command line (dist/), else its source through tsx (tests, bench). The worker says
 * `{ type: 'ready' }` once loaded; a reply `{ type: 'failed', message }` rejects its request, and a worker
 * that fails or exits rejects everything asked of it since.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface WorkerRequest {
  id: number;
}

/** What every worker of ours may say besides its own replies. */
export type WorkerReply = { type: 'ready' } | { type: 'failed'; id: number; message: string };

/** A request without the id the client gives it (for each member of a union). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The worker `script` (its name in dist/ and src/node/, without extension) on a thread called `name`. */
export function startWorker(script: string, name: string): Worker {
  const bundled = path.join(__dirname, `${script}.js`);
  if (existsSync(bundled)) return new Worker(bundled, { name });
  const source = path.join(__dirname, `${script}.ts`);
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, name });
}

export class WorkerClient<Request extends WorkerRequest, Reply extends { id: number }> {
  private readonly pending = new Map<number, { resolve(reply: Reply): void; reject(error: Error): void }>();
  private nextId = 0;
  private failure: Error | undefined;
  private readonly worker: Worker;
  private readonly started: Promise<void>;

  /** `script`: the worker's name in dist/ and src/node/, without extension; `name`: its thread's name. */
  constructor(script: string, name: string, startMs: number) {
    this.worker = startWorker(script, name);
    this.started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${name} worker did not start`)), startMs);
      this.worker.once('message', () => (clearTimeout(timer), resolve()));
      this.worker.once('error', (error) => (clearTimeout(timer), reject(error)));
    });
    this.started.catch(() => undefined); // the first request reports it
    this.worker.on('message', (reply: WorkerReply | Reply) => {
      if (!('id' in reply)) return; // ready
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('message' in reply && (reply as WorkerReply).type === 'failed') waiting?.reject(new Error(reply.message));
      else waiting?.resolve(reply as Reply);
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error(`the ${name} worker stopped`)));
  }

  /** Sends the request (its `transfer` buffers moved, not copied) once the worker is loaded; its reply. */
  async ask(request: WithoutId<Request>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    await this.started;
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  dispose(): void {
    void this.worker.terminate();
  }
}
