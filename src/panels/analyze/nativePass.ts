/**
 * Analyze's folder pass on the extension host's native runtime: an ONNX model on the host's disk runs
 * on ONNX Runtime in worker threads (platform/nativeFolderPass.ts), several times faster than the
 * webview's TensorFlow.js on one WebAssembly thread. The host reads each batch's files as it would
 * for the webview, and only the batch's summary goes to the page (or to the agents' folder tool).
 * Where the runtime is missing (the browser's extension host, a build without it), the setting is off,
 * or it cannot run the model, the page (or the tool) runs the pass on TensorFlow.js.
 */
import * as vscode from 'vscode';
import type { Preprocessing } from '../../engine/preprocess';
import { startNativeFolderPass } from '../../platform/nativeFolderPass';
import type { NativeFolderPass, SummarisedBatch } from '../../platform/types';
import type { FolderEntry, HostBatch } from '../../shared/analyzeProtocol';
import { hasImageExtension, NODE_IMAGE_FORMATS } from '../../shared/imageFormats';
import { limitsSetting, nativeRuntimeSetting } from '../../settings';
import { exactBuffer, readFileInFolder } from '../common/modelFiles';

export class NativePass implements vscode.Disposable {
  private opening: Promise<NativeFolderPass | string> | undefined;
  private disposed = false;

  constructor(
    private readonly model: vscode.Uri,
    private readonly folder: vscode.Uri,
  ) {}

  /**
   * Whether the page should ask for the native pass: an ONNX file and a folder on this host's disk,
   * every image in a format the host decodes (it has no GIF decoder), the runtime built in and not
   * turned off.
   */
  offered(images: readonly FolderEntry[]): boolean {
    return (
      startNativeFolderPass !== undefined &&
      nativeRuntimeSetting() === 'auto' &&
      this.model.scheme === 'file' &&
      this.folder.scheme === 'file' &&
      /\.onnx$/i.test(this.model.path) &&
      images.every((image) => hasImageExtension(NODE_IMAGE_FORMATS, image.path))
    );
  }

  /** Starts the worker with the model, once; the reason where it cannot run it. */
  async open(): Promise<string | undefined> {
    this.opening ??= this.start();
    const pass = await this.opening;
    return typeof pass === 'string' ? pass : undefined;
  }

  /** The summary of these images of the folder, read as the webview's would be, and those left out with the reason. */
  async summarise(
    images: readonly FolderEntry[],
    batch: { preprocessing: Preprocessing; featureLayer: string; peakLayer?: string },
  ): Promise<SummarisedBatch> {
    const pass = await this.opening;
    if (!pass || typeof pass === 'string') throw new Error('the native pass is not running');
    const files = await Promise.all(
      images.map(async ({ path }) => ({ path, ...(await readFileInFolder(this.folder, path, `${path} cannot be read`)) })),
    );
    return pass.summarise({ files, ...batch });
  }

  /** `summarise`'s answer as the webview receives it. */
  async summariseForPage(
    images: readonly FolderEntry[],
    batch: { preprocessing: Preprocessing; featureLayer: string; peakLayer?: string },
  ): Promise<HostBatch> {
    const { summary, problems } = await this.summarise(images, batch);
    return {
      features: exactBuffer(summary.features),
      dim: summary.dim,
      scores: exactBuffer(summary.scores),
      classCount: summary.classCount,
      ...(summary.peaks
        ? { peaks: { ...summary.peaks, values: exactBuffer(summary.peaks.values), positions: exactBuffer(summary.peaks.positions) } }
        : {}),
      problems,
    };
  }

  dispose(): void {
    this.disposed = true;
    void this.opening?.then((pass) => typeof pass !== 'string' && pass.dispose());
  }

  private async start(): Promise<NativeFolderPass | string> {
    if (!startNativeFolderPass) return 'this extension host has no native runtime';
    try {
      const pass = await startNativeFolderPass(this.model.fsPath, limitsSetting());
      if (this.disposed) pass.dispose();
      return pass;
    } catch (error) {
      return (error as Error).message;
    }
  }
}
