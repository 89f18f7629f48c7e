/**
 * The Analyze Images panel: a webview that runs the model over a folder of images and shows what a
 * layer responds to across it. Besides what every model panel gets (the model's files, progress with
 * cancel, errors), the host lists the folder, serves the images in batches, keeps the feature cache,
 * and opens images and their explanations.
 */
import * as vscode from 'vscode';
import { readFileInFolder, savePng, uriInFolder } from '../common/modelFiles';
import { ModelPanel } from '../common/modelPanel';
import { analyzeHtml } from '../common/webviewHtml';
import { baseName } from '../common/workspaceModelSource';
import type { AnalyzeHostMessage, AnalyzeWebviewMessage, FolderEntry } from '../../shared/analyzeProtocol';
import type { ModelPanelWebviewMessage } from '../../shared/modelPanelProtocol';
import { backendSetting, limitsSetting } from '../../settings';
import type { FeatureCache } from './featureCache';
import { listFolderImages } from './folderImages';

type AnalyzeMessage = Exclude<AnalyzeWebviewMessage, ModelPanelWebviewMessage>;

export class AnalyzePanel extends ModelPanel<AnalyzeMessage, AnalyzeHostMessage> {
  private images: FolderEntry[] = [];
  /** Cache keys found missing at lookup, by the webview's key: the store after the pass reuses them. */
  private readonly missedKeys = new Map<string, string>();
  /**
   * Image reads, one request after another: the webview asks for many batches ahead, and read side
   * by side they all arrived late together instead of the next batch first.
   */
  private reads: Promise<unknown> = Promise.resolve();
  /**
   * Answers to reads and cache lookups, posted in the order asked. The webview asks for a pass's first
   * batches just after the cache lookup, to be read meanwhile; answered first, they would reach it
   * before the lookup's answer, which it is waiting for.
   */
  private answers: Promise<unknown> = Promise.resolve();

  static open(extensionUri: vscode.Uri, cache: FeatureCache, model: vscode.Uri, folder: vscode.Uri): AnalyzePanel {
    const panel = ModelPanel.createPanel(extensionUri, 'convlens.analyze', `Analyze: ${baseName(folder)}`, analyzeHtml);
    return new AnalyzePanel(panel, cache, model, folder);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly cache: FeatureCache,
    model: vscode.Uri,
    readonly folder: vscode.Uri,
  ) {
    super(panel, model);
  }

  protected async receive(message: AnalyzeMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.start();
      case 'readImages': {
        const files = this.reads.then(() => Promise.all(message.paths.map(async (path) => ({ path, ...(await readFileInFolder(this.folder, path, `${path} cannot be read`)) }))));
        this.reads = files.catch(() => undefined);
        return this.answerInOrder(files.then((read) => ({ type: 'images', requestId: message.requestId, files: read })));
      }
      case 'lookupCache':
        return this.answerInOrder(
          this.cacheKey(message.key).then(async ({ key, imageBytes }) => {
            const features = await this.cache.read(key);
            if (!features) this.missedKeys.set(message.key, key);
            return { type: 'cached', requestId: message.requestId, imageBytes, ...(features ? { features } : {}) };
          }),
        );
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
      case 'exportPng':
        // Beside the folder, not in it: a picture saved among the images would join the data analysed.
        return savePng(vscode.Uri.joinPath(this.folder, '..', message.suggestedName), message.bytes);
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
      void vscode.window.showErrorMessage(`${baseName(this.folder)} holds no images (png, jpeg, bmp, gif or webp) to analyse.`);
    }
    this.post({ type: 'analyze', modelFileName: baseName(this.model), folderName: baseName(this.folder), images: this.images, backend: backendSetting(), limits: limitsSetting() });
  }

  /** Posts `answer` when it is ready and every answer asked for before it has been posted. */
  private answerInOrder(answer: Promise<AnalyzeHostMessage>): Promise<void> {
    const posted = this.answers.then(async () => this.post(await answer));
    this.answers = posted.catch(() => undefined);
    return posted;
  }

  private cacheKey(viewKey: string): Promise<{ key: string; imageBytes: number }> {
    return this.cache.key(this.model, this.folder, this.images, viewKey);
  }
}
