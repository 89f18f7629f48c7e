/**
 * The Explain panel: a webview that runs the model on the chosen images (TensorFlow.js, WebGL) and
 * shows predictions and explanation overlays. Besides what every model panel gets (the model's files,
 * progress with cancel, errors, PNGs saved), the host sends it the images, and writes the preprocessing
 * the page suggested to the model's sidecar when the user takes it.
 */
import * as vscode from 'vscode';
import { readImageFiles } from '../common/modelFiles';
import { ModelPanel, type OwnMessage } from '../common/modelPanel';
import { writeSidecar } from '../common/sidecar';
import { explainHtml } from '../common/webviewHtml';
import { baseName } from '../common/workspaceModelSource';
import { sidecarName } from '../../engine/modelInput';
import type { ExplainProtocol, FirstOverlays } from '../../shared/explainProtocol';
import { firstOverlays } from './firstOverlays';
import { backendSetting, explainSettings, limitsSetting } from '../../settings';

export class ExplainPanel extends ModelPanel<ExplainProtocol> {
  static open(extensionUri: vscode.Uri, model: vscode.Uri, images: vscode.Uri[]): ExplainPanel {
    const title = `Explain: ${images.map(baseName).join(', ')}`;
    const panel = ModelPanel.createPanel(extensionUri, 'convlens.explain', title, explainHtml);
    return new ExplainPanel(panel, model, images, (webview) => explainHtml(webview, extensionUri));
  }

  /** The host's overlays of the first images, computed while the page starts; sent once. */
  private firstOverlays?: Promise<FirstOverlays | undefined>;

  private constructor(
    panel: vscode.WebviewPanel,
    model: vscode.Uri,
    readonly images: vscode.Uri[],
    page: (webview: vscode.Webview) => string,
  ) {
    super(panel, model, page);
    this.firstOverlays = firstOverlays(model, images, explainSettings());
  }

  protected async receive(message: OwnMessage<ExplainProtocol>): Promise<void> {
    switch (message.type) {
      case 'ready':
        await this.sendImages();
        return this.sendFirstOverlays();
      case 'rendered':
      case 'checked':
      case 'segmented':
      case 'reported':
        return;
      case 'usePreprocessing':
        // Written only on the user's click; a sidecar that cannot be written was reported, and the page stays as it is.
        if ((await this.writingOwnFile(sidecarName(baseName(this.model)), () => writeSidecar(this.model, message.settings))) === undefined)
          return this.sendImages();
        return;
    }
  }

  /** PNGs are saved beside the images explained. */
  protected override pngBeside(): vscode.Uri {
    return this.images[0] ?? this.model;
  }

  /** After the images: the page shows them until its own model is loaded (a page built again computes its own). */
  private async sendFirstOverlays(): Promise<void> {
    const computing = this.firstOverlays;
    this.firstOverlays = undefined;
    const first = await computing;
    if (first) this.post({ type: 'firstOverlays', ...first });
  }

  private async sendImages(): Promise<void> {
    const images = await readImageFiles(this.images);
    this.post({
      type: 'explain',
      modelFileName: baseName(this.model),
      images,
      settings: explainSettings(),
      backend: backendSetting(),
      limits: limitsSetting(),
    });
  }
}
