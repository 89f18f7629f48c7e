/**
 * One open model viewer: a webview panel showing one model file. It reads the model on the host,
 * sends the summary to the webview, and relays layer selection both ways.
 */
import * as vscode from 'vscode';
import { asModelReadError } from '../engine/errors';
import type { ModelSummary } from '../engine/model';
import { readModelSummary } from '../engine/readers';
import type { HostMessage, WebviewMessage } from '../shared/protocol';
import { workspaceModelSource } from './workspaceModelSource';

export type ModelState = { kind: 'loading' } | { kind: 'loaded'; model: ModelSummary } | { kind: 'failed'; message: string };

export class ModelViewer implements vscode.Disposable {
  private state: ModelState = { kind: 'loading' };
  private readonly disposables: vscode.Disposable[] = [];
  private readonly stateChanged = new vscode.EventEmitter<ModelState>();
  private readonly layerSelected = new vscode.EventEmitter<string>();
  readonly onDidChangeState = this.stateChanged.event;
  readonly onDidSelectLayer = this.layerSelected.event;
  backend: string | undefined;

  constructor(
    readonly uri: vscode.Uri,
    readonly panel: vscode.WebviewPanel,
  ) {
    this.disposables.push(
      this.stateChanged,
      this.layerSelected,
      panel.webview.onDidReceiveMessage((message: WebviewMessage) => this.receive(message)),
    );
  }

  get current(): ModelState {
    return this.state;
  }

  async load(): Promise<void> {
    try {
      this.setState({ kind: 'loaded', model: await readModelSummary(workspaceModelSource(this.uri)) });
    } catch (error) {
      this.setState({ kind: 'failed', message: asModelReadError(this.uri.path.split('/').pop()!, error).message });
    }
  }

  revealLayer(layerId: string): void {
    this.post({ type: 'revealLayer', layerId });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private setState(state: ModelState): void {
    this.state = state;
    this.sendState();
    this.stateChanged.fire(state);
  }

  private sendState(): void {
    if (this.state.kind === 'loaded') this.post({ type: 'showModel', model: this.state.model });
    else if (this.state.kind === 'failed') this.post({ type: 'showError', message: this.state.message });
  }

  private receive(message: WebviewMessage): void {
    switch (message.type) {
      case 'ready':
        this.sendState();
        break;
      case 'backendReady':
        this.backend = message.backend;
        if (message.fallbackReason) {
          void vscode.window.showWarningMessage(`ConvLens runs on the CPU in this window: ${message.fallbackReason}`);
        }
        break;
      case 'layerSelected':
        this.layerSelected.fire(message.layerId);
        break;
    }
  }

  private post(message: HostMessage): void {
    void this.panel.webview.postMessage(message);
  }
}
