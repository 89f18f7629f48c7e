/**
 * Starts the folder-pass worker (folderPassWorker.ts) and speaks to it: one per Analyze panel, its
 * model opened once, batches summarised in the order asked. A worker that fails or exits rejects what
 * was asked of it; the panel then runs the pass in its webview.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Limits } from '../engine/limits';
import {
  FOLDER_PASS_WORKER,
  type BatchToSummarise,
  type FolderPassReply,
  type FolderPassRequest,
  type NativeFolderPass,
  type SummarisedBatch,
} from './folderPassMessages';

/** Loading TensorFlow.js, ONNX Runtime and the model can take a while on a busy machine. */
const START_MS = 60_000;

/** The bundled worker beside the extension (dist/), else the source through tsx (tests, bench). */
function startWorker(): Worker {
  const bundled = path.join(__dirname, 'folderPassWorker.js');
  if (existsSync(bundled)) return new Worker(bundled, { name: FOLDER_PASS_WORKER });
  const source = path.join(__dirname, 'folderPassWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, name: FOLDER_PASS_WORKER });
}

export class FolderPassThread implements NativeFolderPass {
  private readonly pending = new Map<number, { resolve(reply: FolderPassReply): void; reject(error: Error): void }>();
  private nextId = 0;
  private failure: Error | undefined;

  /**
   * A worker with `modelFile` opened natively on `threads` threads (0: ONNX Runtime's default, one per
   * physical core); rejects with the reason where it cannot be.
   */
  static async open(modelFile: string, limits: Partial<Limits>, threads = 0): Promise<FolderPassThread> {
    const thread = new FolderPassThread(startWorker());
    try {
      await thread.started;
      await thread.ask({ type: 'open', id: thread.nextId++, modelFile, limits, threads });
      return thread;
    } catch (error) {
      thread.dispose();
      throw error;
    }
  }

  private readonly started: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the folder-pass worker did not start')), START_MS);
      worker.once('message', () => (clearTimeout(timer), resolve()));
      worker.once('error', (error) => (clearTimeout(timer), reject(error)));
    });
    worker.on('message', (reply: FolderPassReply) => {
      if (reply.type === 'ready') return;
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.type === 'failed') waiting?.reject(new Error(reply.message));
      else waiting?.resolve(reply);
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the folder-pass worker stopped')));
  }

  async summarise(batch: BatchToSummarise): Promise<SummarisedBatch> {
    const reply = await this.ask({ type: 'summarise', id: this.nextId++, ...batch });
    if (reply.type !== 'summarised') throw new Error('the folder-pass worker answered out of turn');
    return reply.batch;
  }

  dispose(): void {
    void this.worker.terminate();
  }

  private ask(request: FolderPassRequest): Promise<FolderPassReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      // The files' bytes move to the worker rather than being copied.
      const transfer = request.type === 'summarise' ? request.files.flatMap((file) => (file.bytes ? [file.bytes] : [])) : [];
      this.worker.postMessage(request, transfer);
    });
  }
}
