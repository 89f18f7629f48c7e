/**
 * The Analyze panel's folder pass, on a worker thread of the extension host: the ONNX model on ONNX
 * Runtime's native kernels (several times TensorFlow.js's WebAssembly on one thread, which is what a
 * webview has), the images decoded here, and only each batch's summary (features, scores, channel
 * peaks) sent back. On its own thread the host stays free for the editor while the pass runs.
 */
import { parentPort } from 'node:worker_threads';
import { summariseBatch } from '../engine/dataset/features';
import { limitsOf, type Limits } from '../engine/limits';
import { runsNatively, setNativeRuntime } from '../engine/nativeForward';
import { openModel, type OpenedModel } from '../engine/openModel';
import { imagesToInput, type RgbaImage } from '../engine/preprocess';
import { fileModelSource } from './fileModelSource';
import { decodeImageBytes } from './imageFile';
import { loadOnnxRuntime } from './onnxRuntime';
import { useNodeBackend } from './tfBackend';
import type { FolderImage } from '../shared/analyzeProtocol';
import type { FolderPassReply, FolderPassRequest, SummarisedBatch } from './folderPassMessages';

type SummariseRequest = Extract<FolderPassRequest, { type: 'summarise' }>;

const port = parentPort!;
let opened: OpenedModel | undefined;

async function open(modelFile: string, limits: Partial<Limits>, threads: number): Promise<void> {
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
}

/** The batch's images decoded (the worker's thread), each or why it is left out. */
async function decode(files: FolderImage[], maxPixels: number): Promise<(RgbaImage | string)[]> {
  return Promise.all(
    files.map(async (file): Promise<RgbaImage | string> => {
      if (!file.bytes) return file.error ?? `${file.path} cannot be read`;
      try {
        return await decodeImageBytes(file.path, new Uint8Array(file.bytes), maxPixels);
      } catch (error) {
        return (error as Error).message;
      }
    }),
  );
}

async function summarise(request: SummariseRequest, decoding: Promise<(RgbaImage | string)[]>): Promise<SummarisedBatch> {
  if (!opened) throw new Error('no model is open');
  const { files, preprocessing, featureLayer, peakLayer } = request;
  const decoded = await decoding;
  const { width, height } = preprocessing;
  const blank = { width, height, data: new Uint8Array(width * height * 4) };
  const input = imagesToInput(
    decoded.map((image) => (typeof image === 'string' ? blank : image)),
    preprocessing,
  );
  try {
    return {
      summary: await summariseBatch(opened.model, input, featureLayer, peakLayer),
      problems: decoded.flatMap((image, i): [string, string][] => (typeof image === 'string' ? [[files[i].path, image]] : [])),
    };
  } finally {
    input.dispose();
  }
}

async function reply(request: FolderPassRequest, work: () => Promise<FolderPassReply>): Promise<void> {
  port.postMessage(await work().catch((error: Error): FolderPassReply => ({ type: 'failed', id: request.id, message: error.message })));
}

// Requests are answered one at a time, in order. A batch is decoded as soon as it arrives (once the model
// is open), so the next batch's images decode on this thread while ONNX Runtime's threads run the last one.
let queue: Promise<void> = Promise.resolve();
let modelOpened: Promise<void> = Promise.resolve();
port.on('message', (request: FolderPassRequest) => {
  if (request.type === 'open') {
    modelOpened = queue.then(() => open(request.modelFile, request.limits, request.threads));
    queue = queue.then(() =>
      reply(request, async () => {
        await modelOpened;
        return { type: 'opened', id: request.id };
      }),
    );
    return;
  }
  const decoding = modelOpened.then(() => decode(request.files, opened ? limitsOf(opened.source).imagePixels : 0));
  decoding.catch(() => undefined); // reported with the reply
  queue = queue.then(() => reply(request, async () => ({ type: 'summarised', id: request.id, batch: await summarise(request, decoding) })));
});
port.postMessage({ type: 'ready' } satisfies FolderPassReply);
