/**
 * The Analyze Images panel: a webview that runs the model over a folder of images and shows what a
 * layer responds to across it. Besides what every model panel gets (the model's files, progress with
 * cancel, errors, PNGs saved), the host lists the folder, serves the images in batches, keeps the
 * feature cache, opens images and their explanations, and, for an ONNX model where it has ONNX
 * Runtime, runs the pass itself on worker threads (nativePass.ts).
 */
import * as vscode from 'vscode';
import { readFileInFolder, uriInFolder } from '../common/modelFiles';
import { ModelPanel, type OwnMessage } from '../common/modelPanel';
import { analyzeHtml } from '../common/webviewHtml';
import { baseName } from '../common/workspaceModelSource';
import type { AnalyzeProtocol, FolderEntry } from '../../shared/analyzeProtocol';
import { WEBVIEW_IMAGE_FORMATS } from '../../shared/imageFormats';
import { backendSetting, limitsSetting } from '../../settings';
import type { FeatureCache } from './featureCache';
import { listFolderImages } from './folderImages';
import { NativePass } from './nativePass';

/** Batches of images the host reads at the same time. */
const READS_AT_ONCE = 2;

export class AnalyzePanel extends ModelPanel<AnalyzeProtocol> {
  private images: FolderEntry[] = [];
  /** Cache keys found missing at lookup, by the webview's key: the store after the pass reuses them. */
  private readonly missedKeys = new Map<string, string>();
  /**
   * Image reads, two requests at a time (each after the one two before it): the webview asks for many
   * batches ahead, and read all side by side they arrived late together instead of the next batch first;
   * one at a time, the page waited between batches.
   */
  private readonly reads: Promise<unknown>[] = Array.from({ length: READS_AT_ONCE }, () => Promise.resolve());
  private readsAsked = 0;
  /**
   * Answers to reads, settled (and so posted by the channel) in the order asked. A cache lookup is
   * answered as soon as it is ready: the pass's first batches, asked for just after it, reach the
   * webview while it stats the folder, and its worker decodes them meanwhile.
   */
  private answers: Promise<unknown> = Promise.resolve();
  /** The native pass on the model as it is now: a new checkpoint gets a new one (`reload`). */
  private nativePass: NativePass;

  static open(extensionUri: vscode.Uri, cache: FeatureCache, model: vscode.Uri, folder: vscode.Uri): AnalyzePanel {
    const panel = ModelPanel.createPanel(extensionUri, 'convlens.analyze', `Analyze: ${baseName(folder)}`, analyzeHtml);
    return new AnalyzePanel(panel, cache, model, folder, (webview) => analyzeHtml(webview, extensionUri));
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly cache: FeatureCache,
    model: vscode.Uri,
    readonly folder: vscode.Uri,
    page: (webview: vscode.Webview) => string,
  ) {
    super(panel, model, page);
    this.nativePass = new NativePass(model, folder);
    this.channel.answer('openNativePass', async () => {
      const declined = await this.nativePass.open();
      return declined ? { declined } : {};
    });
    this.channel.answer('summariseNatively', ({ start, end, ...batch }) =>
      this.nativePass.summariseForPage(this.images.slice(start, end), batch),
    );
    this.channel.answer('readImages', ({ paths }) => {
      const slot = this.readsAsked++ % READS_AT_ONCE;
      const files = this.reads[slot].then(() =>
        Promise.all(paths.map(async (path) => ({ path, ...(await readFileInFolder(this.folder, path, `${path} cannot be read`)) }))),
      );
      this.reads[slot] = files.catch(() => undefined);
      return this.answerInOrder(files);
    });
    this.channel.answer('lookupCache', ({ key: viewKey }) =>
      this.cacheKey(viewKey).then(async ({ key, imageBytes }) => {
        const features = await this.cache.read(key);
        if (!features) this.missedKeys.set(viewKey, key);
        return { imageBytes, ...(features ? { features } : {}) };
      }),
    );
  }

  protected async receive(message: OwnMessage<AnalyzeProtocol>): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.start();
      case 'storeCache': {
        // The key of the files as they were read, and no second stat of every image.
        const key = this.missedKeys.get(message.key) ?? (await this.cacheKey(message.key)).key;
        this.missedKeys.delete(message.key);
        return this.cache.write(key, message.features).catch(() => undefined); // a cache that cannot be written only costs time
      }
      case 'openImage': {
        // Paths from the webview are guarded like the model's files: only inside the analysed folder.
        const uri = uriInFolder(this.folder, message.path);
        if (uri) await vscode.commands.executeCommand('vscode.open', uri, vscode.ViewColumn.Beside);
        return;
      }
      case 'explainImage': {
        const uri = uriInFolder(this.folder, message.path);
        if (uri) await vscode.commands.executeCommand('convlens.explainGradCam', uri);
        return;
      }
      case 'rendered':
        return;
    }
  }

  private async start(): Promise<void> {
    try {
      this.images = await listFolderImages(this.folder);
    } catch {
      void vscode.window.showErrorMessage(`${baseName(this.folder)} cannot be read.`);
      return;
    }
    if (this.images.length === 0) {
      void vscode.window.showErrorMessage(`${baseName(this.folder)} holds no images (${WEBVIEW_IMAGE_FORMATS.names}) to analyse.`);
    }
    const nativePass = this.images.length > 0 && this.nativePass.offered(this.images);
    // The workers start and open the model while the page opens its own copy (a few seconds each).
    if (nativePass) void this.nativePass.open();
    this.post({
      type: 'analyze',
      modelFileName: baseName(this.model),
      folderName: baseName(this.folder),
      images: this.images,
      backend: backendSetting(),
      limits: limitsSetting(),
      nativePass,
    });
  }

  override dispose(): void {
    this.nativePass.dispose();
    super.dispose();
  }

  /** The model's files changed: the workers' copy of the model is the old one. */
  protected override async reload(): Promise<void> {
    this.nativePass.dispose();
    this.nativePass = new NativePass(this.model, this.folder);
    await super.reload();
  }

  /** PNGs are saved beside the folder, not in it: a picture saved among the images would join the data analysed. */
  protected override pngBeside(): vscode.Uri {
    return this.folder;
  }

  /**
   * `answer`, settled once it is ready and every answer asked for before it has settled: the channel
   * posts each answer as it settles, so they reach the webview in the order asked.
   */
  private answerInOrder<T>(answer: Promise<T>): Promise<T> {
    const inOrder = this.answers.then(() => answer);
    this.answers = inOrder.catch(() => undefined);
    return inOrder;
  }

  private cacheKey(viewKey: string): Promise<{ key: string; imageBytes: number }> {
    return this.cache.key(this.model, this.folder, this.images, viewKey);
  }
}
