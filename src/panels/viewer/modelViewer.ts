/**
 * One open model viewer: a webview panel showing one model file. It reads the model's summary on the
 * host for the layer tree, hands the webview images, and relays layer selection both ways; the model's
 * files (it runs the model for filters and feature maps), errors and PNGs are served as for every
 * model panel (modelPanel.ts).
 */
import * as vscode from 'vscode';
import { asModelReadError } from '../../engine/errors';
import type { ModelSummary } from '../../engine/model';
import { readModelSummary } from '../../engine/readers';
import type { HostMessage, ViewerProtocol } from '../../shared/protocol';
import { backendSetting, limitsSetting } from '../../settings';
import { readImageFile } from '../common/modelFiles';
import { WEBVIEW_IMAGE_FORMATS } from '../../shared/imageFormats';
import { ModelPanel, type OwnMessage } from '../common/modelPanel';
import { writeSidecar } from '../common/sidecar';
import { sidecarName } from '../../engine/modelInput';
import { baseName, workspaceModelSource } from '../common/workspaceModelSource';
import { useHostBackend } from '../../platform/tfBackend';

export type ModelState = { kind: 'loading' } | { kind: 'loaded'; model: ModelSummary } | { kind: 'failed'; message: string };

export class ModelViewer extends ModelPanel<ViewerProtocol> {
  private state: ModelState = { kind: 'loading' };
  /** The image last shown, sent again when the webview reloads (it is not kept while hidden). */
  private image: HostMessage | undefined;
  private readonly stateChanged = new vscode.EventEmitter<ModelState>();
  private readonly layerSelected = new vscode.EventEmitter<string>();
  readonly onDidChangeState = this.stateChanged.event;
  readonly onDidSelectLayer = this.layerSelected.event;
  backend: string | undefined;

  constructor(
    readonly uri: vscode.Uri,
    panel: vscode.WebviewPanel,
    page: (webview: vscode.Webview) => string,
  ) {
    super(panel, uri, page);
    this.disposables.push(this.stateChanged, this.layerSelected);
  }

  get current(): ModelState {
    return this.state;
  }

  async load(): Promise<void> {
    this.setState(await this.readSummary());
    this.sendState();
  }

  /** A new checkpoint: the layer tree read again, then a new page on it. */
  protected override async reload(): Promise<void> {
    this.setState(await this.readSummary());
    await super.reload();
  }

  private async readSummary(): Promise<ModelState> {
    try {
      // The host's backend starts with the first model it reads, not with VS Code.
      await useHostBackend('wasm');
      return { kind: 'loaded', model: await readModelSummary(workspaceModelSource(this.uri, limitsSetting())) };
    } catch (error) {
      return { kind: 'failed', message: asModelReadError(this.uri.path.split('/').pop()!, error).message };
    }
  }

  revealLayer(layerId: string): void {
    this.post({ type: 'revealLayer', layerId });
  }

  /** Shows the feature maps of `image` (a workspace file) for the selected layer. */
  async showImage(uri: vscode.Uri): Promise<void> {
    const image = await readImageFile(uri);
    if (!image) return;
    this.image = { type: 'showImage', ...image };
    if (this.state.kind === 'loaded') this.post(this.image);
  }

  private setState(state: ModelState): void {
    this.state = state;
    this.stateChanged.fire(state);
  }

  private sendState(): void {
    if (this.state.kind === 'loaded') {
      this.post({ type: 'showModel', model: this.state.model, backend: backendSetting(), limits: limitsSetting() });
      if (this.image) this.post(this.image);
    } else if (this.state.kind === 'failed') this.post({ type: 'showError', message: this.state.message });
  }

  protected async receive(message: OwnMessage<ViewerProtocol>): Promise<void> {
    switch (message.type) {
      case 'chooseImage':
        await this.chooseImage();
        break;
      case 'openImageUri':
        await this.showImage(vscode.Uri.parse(message.uri));
        break;
      case 'savePreprocessing':
        this.post({
          type: 'preprocessingSaved',
          error: await this.writingOwnFile(sidecarName(baseName(this.uri)), () => writeSidecar(this.uri, message.settings)),
        });
        break;
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

  private async chooseImage(): Promise<void> {
    const [image] =
      (await vscode.window.showOpenDialog({
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        filters: { Images: [...WEBVIEW_IMAGE_FORMATS.extensions] },
        openLabel: 'Show Feature Maps',
      })) ?? [];
    if (image) await this.showImage(image);
  }
}
