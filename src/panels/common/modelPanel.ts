/**
 * What every panel whose page runs a model shares — the viewer, Explain and Analyze: a webview panel
 * to which the host serves the model's files (from the model's folder only), shows long work in VS
 * Code's progress UI with Cancel, reports errors as notifications, and saves the PNGs the page makes
 * (panelProtocol.ts), and notices when the model's files change on disk (a new checkpoint) to rebuild
 * the page on them. Each panel adds the messages of its own.
 */
import * as vscode from 'vscode';
import { pathSegments } from '../../engine/confinedPath';
import { createChannel, type Channel } from '../../shared/messaging';
import type { AnyPanelProtocol, PanelProtocol, PanelWebviewMessage } from '../../shared/panelProtocol';
import { reloadOnChangeSetting, setReloadOnChange } from '../../settings';
import { readModelFile, savePng } from './modelFiles';
import { webviewOptions } from './webviewHtml';
import { WebviewProgress } from './webviewProgress';
import { baseName } from './workspaceModelSource';

/** Training writes a checkpoint in pieces (model.json, then its shards): the page is rebuilt once they are quiet this long. */
const SETTLE_MS = 1000;

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
  /** The model's files the page read, relative to its folder ('' is the model file): a change to one is a new checkpoint. */
  private readonly filesRead = new Set<string>(['']);
  private settling: ReturnType<typeof setTimeout> | undefined;
  /** Files the panel is writing itself, on the user's word (a sidecar): their change is no new checkpoint. */
  private readonly ownWrites = new Set<string>();
  /** The question "reload?" being asked per model file: every panel of that model waits for the one answer. */
  private static readonly questions = new Map<string, Thenable<string | undefined>>();

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

  /** `page` builds the panel's page; with it, the page is rebuilt when the model's files change. */
  protected constructor(
    readonly panel: vscode.WebviewPanel,
    readonly model: vscode.Uri,
    private readonly page?: (webview: vscode.Webview) => string,
  ) {
    this.channel = createChannel((message) => void panel.webview.postMessage(message));
    this.common.answer('readFile', ({ path, maxBytes }) => {
      this.filesRead.add(pathSegments(path).join('/'));
      return readModelFile(this.model, path, maxBytes);
    });
    this.channel.listen(
      (message) => void (SERVED.has(message.type) ? this.serve(message as Served) : this.receive(message as OwnMessage<P>)),
    );
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: unknown) => this.channel.receive(message)),
      panel.onDidDispose(() => this.dispose()),
    );
    if (page) this.watchModelFiles();
  }

  dispose(): void {
    clearTimeout(this.settling);
    this.progress.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /**
   * Builds the page afresh on the model's files as they are now; the page restores the choices it keeps
   * (vscode.setState survives a new page) and asks again for what it shows (`ready`). Panels that hold
   * more of the model (the viewer's summary) read it again first.
   */
  protected async reload(): Promise<void> {
    if (this.page) this.panel.webview.html = this.page(this.panel.webview);
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

  /** Writes a file beside the model (`name`, relative to its folder) without taking the write for a change on disk. */
  protected async writingOwnFile<T>(name: string, write: () => Promise<T>): Promise<T> {
    this.ownWrites.add(name);
    try {
      return await write();
    } finally {
      // The watcher reports a write a moment after it: keep ignoring it for as long as a checkpoint takes to settle.
      setTimeout(() => this.ownWrites.delete(name), 2 * SETTLE_MS);
    }
  }

  private watchModelFiles(): void {
    const folder = vscode.Uri.joinPath(this.model, '..');
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/*'));
    const prefix = `${folder.path}/`;
    const changed = (uri: vscode.Uri) => {
      // The model file itself was read as '' (readModelFile's name for it).
      const relative = uri.path === this.model.path ? '' : uri.path.slice(prefix.length);
      if (!uri.path.startsWith(prefix) || !this.filesRead.has(relative) || this.ownWrites.has(relative)) return;
      clearTimeout(this.settling);
      this.settling = setTimeout(() => void this.modelChanged(), SETTLE_MS);
    };
    this.disposables.push(watcher, watcher.onDidChange(changed), watcher.onDidCreate(changed));
  }

  /** A new checkpoint: rebuilt at once, or when the user says so (`convlens.reloadOnModelChange`). */
  private async modelChanged(): Promise<void> {
    const setting = reloadOnChangeSetting();
    if (setting === 'never') return;
    if (setting === 'ask') {
      const key = this.model.toString();
      let question = ModelPanel.questions.get(key);
      if (!question) {
        question = vscode.window.showInformationMessage(`${baseName(this.model)} changed on disk.`, 'Reload', 'Always Reload').then(
          async (answer) => {
            ModelPanel.questions.delete(key);
            if (answer === 'Always Reload') await setReloadOnChange('always');
            return answer;
          },
          () => {
            ModelPanel.questions.delete(key);
            return undefined;
          },
        );
        ModelPanel.questions.set(key, question);
      }
      if (!(await question)) return;
    }
    await this.reload();
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
