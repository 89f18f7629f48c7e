/**
 * What the Explain and Analyze panels share: a webview panel whose page runs a model, to which the
 * host serves the model's files (from the model's folder only), shows long work in VS Code's progress
 * UI with Cancel, and reports errors as notifications. Each panel adds the messages of its own.
 */
import * as vscode from 'vscode';
import { isModelPanelMessage, type ModelPanelHostMessage, type ModelPanelWebviewMessage } from '../../shared/modelPanelProtocol';
import { readModelFile } from './modelFiles';
import { webviewOptions } from './webviewHtml';
import { WebviewProgress } from './webviewProgress';

export abstract class ModelPanel<Incoming extends { type: string }, Outgoing extends { type: string }> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  private readonly progress = new WebviewProgress(() => this.post({ type: 'cancel' }));

  /** A panel in the active column showing `html`; its page stays alive while hidden, with the model loaded. */
  protected static createPanel(
    extensionUri: vscode.Uri,
    viewType: string,
    title: string,
    html: (webview: vscode.Webview, extensionUri: vscode.Uri) => string,
  ): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, { ...webviewOptions(extensionUri), retainContextWhenHidden: true });
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'convlens.svg');
    panel.webview.html = html(panel.webview, extensionUri);
    return panel;
  }

  protected constructor(
    readonly panel: vscode.WebviewPanel,
    readonly model: vscode.Uri,
  ) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: Incoming | ModelPanelWebviewMessage) => void this.dispatch(message)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  dispose(): void {
    this.progress.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** The panel's own messages. */
  protected abstract receive(message: Incoming): Promise<void>;

  protected post(message: Outgoing | ModelPanelHostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private async dispatch(message: Incoming | ModelPanelWebviewMessage): Promise<void> {
    if (!isModelPanelMessage(message)) return this.receive(message);
    switch (message.type) {
      case 'readFile':
        return this.post({ type: 'fileContents', requestId: message.requestId, ...(await readModelFile(this.model, message.path, message.maxBytes)) });
      case 'progress':
        return this.progress.show(message.title, message.done, message.total);
      case 'progressEnd':
        return this.progress.dispose();
      case 'error':
        void vscode.window.showErrorMessage(message.message);
        return;
    }
  }
}
