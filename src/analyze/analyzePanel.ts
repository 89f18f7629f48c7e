/**
 * The Analyze Images panel: a webview that runs the model over a folder of images and shows what a
 * layer responds to across it. The host lists the folder, serves the model's files and the images in
 * batches, keeps the feature cache, shows long work in VS Code's progress UI, and opens images.
 */
import * as vscode from 'vscode';
import { readFileAnswer, readModelFile, savePng } from '../editor/modelFiles';
import { WebviewProgress } from '../editor/webviewProgress';
import { analyzeHtml, webviewOptions } from '../editor/webviewHtml';
import { baseName } from '../editor/workspaceModelSource';
import type { AnalyzeHostMessage, AnalyzeWebviewMessage, FolderEntry } from '../shared/analyzeProtocol';
import { backendSetting } from '../settings';
import type { FeatureCache } from './featureCache';
import { imageUri, listFolderImages } from './folderImages';

export class AnalyzePanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly progress = new WebviewProgress(() => this.post({ type: 'cancel' }));
  private images: FolderEntry[] = [];
  /** Cache keys found missing at lookup, by the webview's key: the store after the pass reuses them. */
  private readonly missedKeys = new Map<string, string>();

  static open(extensionUri: vscode.Uri, cache: FeatureCache, model: vscode.Uri, folder: vscode.Uri): AnalyzePanel {
    const panel = vscode.window.createWebviewPanel('convlens.analyze', `Analyze: ${baseName(folder)}`, vscode.ViewColumn.Active, {
      ...webviewOptions(extensionUri),
      retainContextWhenHidden: true, // features of thousands of images are worth keeping while hidden
    });
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'convlens.svg');
    panel.webview.html = analyzeHtml(panel.webview, extensionUri);
    return new AnalyzePanel(panel, cache, model, folder);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly cache: FeatureCache,
    readonly model: vscode.Uri,
    readonly folder: vscode.Uri,
  ) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: AnalyzeWebviewMessage) => void this.receive(message)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  dispose(): void {
    this.progress.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private async receive(message: AnalyzeWebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.start();
      case 'readFile':
        return this.post({ type: 'fileContents', requestId: message.requestId, ...(await readModelFile(this.model, message.path)) });
      case 'readImages':
        return this.post({
          type: 'images',
          requestId: message.requestId,
          files: await Promise.all(message.paths.map(async (path) => ({ path, ...(await readFileAnswer(imageUri(this.folder, path), `${path} cannot be read`)) }))),
        });
      case 'lookupCache': {
        const key = await this.cacheKey(message.key);
        const features = await this.cache.read(key);
        if (!features) this.missedKeys.set(message.key, key);
        return this.post({ type: 'cached', requestId: message.requestId, ...(features ? { features } : {}) });
      }
      case 'storeCache': {
        // The key of the files as they were read, and no second stat of every image.
        const key = this.missedKeys.get(message.key) ?? (await this.cacheKey(message.key));
        this.missedKeys.delete(message.key);
        return this.cache.write(key, message.features).catch(() => undefined); // a cache that cannot be written only costs time
      }
      case 'progress':
        return this.progress.show(message.title, message.done, message.total);
      case 'progressEnd':
        return this.progress.dispose();
      case 'error':
        void vscode.window.showErrorMessage(message.message);
        return;
      case 'openImage':
        await vscode.commands.executeCommand('vscode.open', imageUri(this.folder, message.path), vscode.ViewColumn.Beside);
        return;
      case 'explainImage':
        await vscode.commands.executeCommand('convlens.explainGradCam', imageUri(this.folder, message.path));
        return;
      case 'exportPng':
        return savePng(vscode.Uri.joinPath(this.folder, message.suggestedName), message.bytes);
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
    this.post({ type: 'analyze', modelFileName: baseName(this.model), folderName: baseName(this.folder), images: this.images, backend: backendSetting() });
  }

  private cacheKey(viewKey: string): Promise<string> {
    return this.cache.key(this.model, this.folder, this.images, viewKey);
  }

  private post(message: AnalyzeHostMessage): void {
    void this.panel.webview.postMessage(message);
  }
}
