/**
 * The Explain panel: a webview that runs the model on the chosen images (TensorFlow.js, WebGL) and
 * shows predictions and explanation overlays. Besides what every model panel gets (the model's files,
 * progress with cancel, errors), the host sends it the images and saves its PNGs.
 */
import * as vscode from 'vscode';
import { readImageFile, savePng } from '../common/modelFiles';
import { ModelPanel } from '../common/modelPanel';
import { explainHtml } from '../common/webviewHtml';
import { baseName } from '../common/workspaceModelSource';
import type { ModelPanelWebviewMessage } from '../../shared/modelPanelProtocol';
import type { ExplainHostMessage, ExplainWebviewMessage } from '../../shared/explainProtocol';
import { backendSetting, explainSettings, limitsSetting } from '../../settings';

type ExplainMessage = Exclude<ExplainWebviewMessage, ModelPanelWebviewMessage>;

export class ExplainPanel extends ModelPanel<ExplainMessage, ExplainHostMessage> {
  static open(extensionUri: vscode.Uri, model: vscode.Uri, images: vscode.Uri[]): ExplainPanel {
    const title = `Explain: ${images.map(baseName).join(', ')}`;
    return new ExplainPanel(ModelPanel.createPanel(extensionUri, 'convlens.explain', title, explainHtml), model, images);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    model: vscode.Uri,
    readonly images: vscode.Uri[],
  ) {
    super(panel, model);
  }

  protected async receive(message: ExplainMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.sendImages();
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
      limits: limitsSetting(),
    });
  }
}
