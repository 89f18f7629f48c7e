/**
 * The Explain panel: a webview that runs the model on the chosen images (TensorFlow.js, WebGL) and
 * shows predictions and explanation overlays. The host serves it the files it asks for, shows its
 * long work in VS Code's progress UI (with cancel), its errors as notifications, and saves its PNGs.
 */
import * as vscode from 'vscode';
import { readImageFile, readModelFile, savePng } from '../editor/modelFiles';
import { baseName } from '../editor/workspaceModelSource';
import { explainHtml, webviewOptions } from '../editor/webviewHtml';
import type { ExplainHostMessage, ExplainWebviewMessage } from '../shared/explainProtocol';
import { backendSetting, explainSettings } from '../settings';
import { WebviewProgress } from '../editor/webviewProgress';

export class ExplainPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly progress = new WebviewProgress(() => this.post({ type: 'cancel' }));

  static open(extensionUri: vscode.Uri, model: vscode.Uri, images: vscode.Uri[]): ExplainPanel {
    const title = `Explain: ${images.map(baseName).join(', ')}`;
    const panel = vscode.window.createWebviewPanel('convlens.explain', title, vscode.ViewColumn.Active, {
      ...webviewOptions(extensionUri),
      retainContextWhenHidden: true, // the model stays loaded on the GPU while the user looks elsewhere
    });
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'convlens.svg');
    panel.webview.html = explainHtml(panel.webview, extensionUri);
    return new ExplainPanel(panel, model, images);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    readonly model: vscode.Uri,
    readonly images: vscode.Uri[],
  ) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: ExplainWebviewMessage) => void this.receive(message)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  dispose(): void {
    this.progress.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private async receive(message: ExplainWebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.sendImages();
      case 'readFile':
        return this.serveFile(message.requestId, message.path);
      case 'progress':
        return this.progress.show(message.title, message.done, message.total);
      case 'progressEnd':
        return this.progress.dispose();
      case 'error':
        void vscode.window.showErrorMessage(message.message);
        return;
      case 'exportPng':
        return savePng(vscode.Uri.joinPath(this.images[0] ?? this.model, '..', message.suggestedName), message.bytes);
      case 'rendered':
        return;
    }
  }

  private async sendImages(): Promise<void> {
    const images = [];
    for (const uri of this.images) {
      const image = await readImageFile(uri);
      if (image) images.push(image);
    }
    this.post({
      type: 'explain',
      modelFileName: baseName(this.model),
      images,
      settings: explainSettings(),
      backend: backendSetting(),
    });
  }

  private async serveFile(requestId: number, path: string): Promise<void> {
    this.post({ type: 'fileContents', requestId, ...(await readModelFile(this.model, path)) });
  }

  private post(message: ExplainHostMessage): void {
    void this.panel.webview.postMessage(message);
  }
}
