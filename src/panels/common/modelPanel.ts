/**
 * What every panel whose page runs a model shares — the viewer, Explain and Analyze: a webview panel
 * to which the host serves the model's files (from the model's folder only), shows long work in VS
 * Code's progress UI with Cancel, reports errors as notifications, and saves the PNGs the page makes
 * (panelProtocol.ts). Each panel adds the messages of its own.
 */
import * as vscode from 'vscode';
import { createChannel, type Channel } from '../../shared/messaging';
import type { AnyPanelProtocol, PanelProtocol, PanelWebviewMessage } from '../../shared/panelProtocol';
import { readModelFile, savePng } from './modelFiles';
import { webviewOptions } from './webviewHtml';
import { WebviewProgress } from './webviewProgress';

/** The page's notifications this class handles; a panel's `receive` gets the rest. */
type Served = Exclude<PanelWebviewMessage, { type: 'ready' }>;
const SERVED: ReadonlySet<string> = new Set<Served['type']>(['error', 'exportPng', 'progress', 'progressEnd']);

/** The page's messages a panel of protocol `P` handles itself. */
export type OwnMessage<P extends AnyPanelProtocol> = Exclude<P['page']['notes'], Served>;

export abstract class ModelPanel<P extends AnyPanelProtocol> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  /** The host's end of the page's channel, typed with the panel's whole protocol. */
  protected readonly channel: Channel<P['host'], P['page']>;
  private readonly progress = new WebviewProgress(() => this.common.notify({ type: 'cancel' }));

  /** A panel in the active column showing `html`; its page stays alive while hidden, with the model loaded. */
  protected static createPanel(
    extensionUri: vscode.Uri,
    viewType: string,
    title: string,
    html: (webview: vscode.Webview, extensionUri: vscode.Uri) => string,
  ): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, {
      ...webviewOptions(extensionUri),
      retainContextWhenHidden: true,
    });
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'convlens.svg');
    panel.webview.html = html(panel.webview, extensionUri);
    return panel;
  }

  protected constructor(
    readonly panel: vscode.WebviewPanel,
    readonly model: vscode.Uri,
  ) {
    this.channel = createChannel((message) => void panel.webview.postMessage(message));
    this.common.answer('readFile', ({ path, maxBytes }) => readModelFile(this.model, path, maxBytes));
    this.channel.listen(
      (message) => void (SERVED.has(message.type) ? this.serve(message as Served) : this.receive(message as OwnMessage<P>)),
    );
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: unknown) => this.channel.receive(message)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  dispose(): void {
    this.progress.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** The panel's own messages (and `ready`, to which each answers with what it shows). */
  protected abstract receive(message: OwnMessage<P>): Promise<void>;

  /** The file a PNG the page made is saved beside by default: the model's folder unless a panel says otherwise. */
  protected pngBeside(): vscode.Uri {
    return this.model;
  }

  protected post(message: P['host']['notes']): void {
    this.channel.notify(message);
  }

  /** The same channel seen through the part of the protocol every panel has (TypeScript cannot see it through `P`). */
  private get common(): Channel<PanelProtocol['host'], PanelProtocol['page']> {
    return this.channel as unknown as Channel<PanelProtocol['host'], PanelProtocol['page']>;
  }

  private async serve(message: Served): Promise<void> {
    switch (message.type) {
      case 'progress':
        return this.progress.show(message.title, message.done, message.total);
      case 'progressEnd':
        return this.progress.dispose();
      case 'error':
        void vscode.window.showErrorMessage(message.message);
        return;
      case 'exportPng':
        return savePng(vscode.Uri.joinPath(this.pngBeside(), '..', message.suggestedName), message.bytes);
    }
  }
}
