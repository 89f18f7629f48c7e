/**
 * The Analyze panel's folder pass, on a worker thread of the extension host: the ONNX model on ONNX
 * Runtime's native kernels (several times TensorFlow.js's WebAssembly on one thread, which is what a
 * webview has), fed the pixels the image worker decoded, and only each batch's summary (features,
 * scores, channel peaks) sent back. ONNX Runtime's run blocks the thread that calls it: on a thread of
 * its own the extension host stays free for the editor while the pass runs.
 */
import { parentPort } from 'node:worker_threads';
import { summariseBatch } from '../engine/dataset/features';
import type { Limits } from '../engine/limits';
import { runsNatively, setNativeRuntime } from '../engine/nativeForward';
import { openModel, type OpenedModel } from '../engine/openModel';
import { rgbToInput } from '../engine/preprocess';
import { fileModelSource } from './fileModelSource';
import { loadOnnxRuntime } from './onnxRuntime';
import { useNodeBackend } from './tfBackend';
import type { FolderPassReply, FolderPassRequest } from './folderPassMessages';
import type { WorkerReply } from './workerClient';

const port = parentPort!;
let opened: OpenedModel | undefined;

async function open(modelFile: string, limits: Partial<Limits>, threads: number): Promise<FolderPassReply> {
  await useNodeBackend('wasm');
  const runtime = await loadOnnxRuntime(threads);
  if (!runtime) throw new Error('ONNX Runtime does not load on this platform');
  setNativeRuntime(runtime);
  const model = await openModel({ ...fileModelSource(modelFile), limits });
  if (!runsNatively(model.model)) {
    model.model.dispose();
    throw new Error('ONNX Runtime cannot run this model');
  }
  opened = model;
  return { type: 'opened', id: 0 };
}

async function summarise(request: Extract<FolderPassRequest, { type: 'summarise' }>): Promise<FolderPassReply> {
  if (!opened) throw new Error('no model is open');
  const input = rgbToInput(request.rgb, request.count, request.preprocessing);
  try {
    return {
      type: 'summarised',
      id: request.id,
      summary: await summariseBatch(opened.model, input, request.featureLayer, request.peakLayer),
    };
  } finally {
    input.dispose();
  }
}

// One request at a time, in order.
let queue = Promise.resolve();
port.on('message', (request: FolderPassRequest) => {
  queue = queue.then(async () => {
    const reply = await (request.type === 'open' ? open(request.modelFile, request.limits, request.threads) : summarise(request)).then(
      (answer): FolderPassReply | WorkerReply => ({ ...answer, id: request.id }),
      (error: Error): WorkerReply => ({ type: 'failed', id: request.id, message: error.message }),
    );
    port.postMessage(reply);
  });
});
port.postMessage({ type: 'ready' } satisfies WorkerReply);
