/**
 * Analyze's native folder pass on two worker threads of the extension host, one per panel: the image
 * worker decodes each batch's files while the pass worker runs the batch before on ONNX Runtime (whose
 * run blocks the thread that calls it). A worker that fails or exits rejects what was asked of it; the
 * panel then runs the pass in its webview.
 */
import { limitsOf, type Limits } from '../engine/limits';
import {
  FOLDER_PASS_WORKER,
  IMAGE_DECODE_WORKER,
  type BatchToSummarise,
  type DecodeReply,
  type DecodeRequest,
  type FolderPassReply,
  type FolderPassRequest,
  type NativeFolderPass,
  type SummarisedBatch,
} from './folderPassMessages';
import { WorkerClient } from './workerClient';

/** Loading TensorFlow.js, ONNX Runtime and the model can take a while on a busy machine. */
const START_MS = 60_000;

export class FolderPassThread implements NativeFolderPass {
  /**
   * The workers with `modelFile` opened natively on `threads` threads (0: ONNX Runtime's default, one
   * per physical core); rejects with the reason where it cannot be.
   */
  static async open(modelFile: string, limits: Partial<Limits>, threads = 0): Promise<FolderPassThread> {
    const thread = new FolderPassThread(limits);
    try {
      await thread.pass.ask({ type: 'open', modelFile, limits, threads });
      return thread;
    } catch (error) {
      thread.dispose();
      throw error;
    }
  }

  private readonly pass = new WorkerClient<FolderPassRequest, FolderPassReply>('folderPassWorker', FOLDER_PASS_WORKER, START_MS);
  private readonly decoder = new WorkerClient<DecodeRequest, DecodeReply>('imageDecodeWorker', IMAGE_DECODE_WORKER, START_MS);

  private constructor(private readonly limits: Partial<Limits>) {}

  async summarise({ files, preprocessing, featureLayer, peakLayer }: BatchToSummarise): Promise<SummarisedBatch> {
    const { width, height } = preprocessing;
    const maxPixels = limitsOf({ limits: this.limits }).imagePixels;
    // The files' bytes, then the pixels, move to the workers rather than being copied.
    const transfer = files.flatMap((file) => (file.bytes ? [file.bytes] : []));
    const { pixels } = await this.decoder.ask({ type: 'decode', files, width, height, maxPixels }, transfer);
    const reply = await this.pass.ask({ type: 'summarise', rgb: pixels.rgb, count: files.length, preprocessing, featureLayer, peakLayer }, [
      pixels.rgb.buffer as ArrayBuffer,
    ]);
    if (reply.type !== 'summarised') throw new Error('the folder-pass worker answered out of turn');
    return { summary: reply.summary, problems: pixels.problems };
  }

  dispose(): void {
    this.pass.dispose();
    this.decoder.dispose();
  }
}
