/**
 * The Compare Models panel: a webview that runs two checkpoints of a model on the same images and
 * shows how their weights, predictions and explanations differ. Model A is the panel's model, served
 * as every model panel serves it; model B's files are served from B's own folder under the same rule
 * (`readFileB`), so neither model can make ConvLens read outside its folder.
 */
import * as vscode from 'vscode';
import { readImageFiles, readModelFile } from '../common/modelFiles';
import { ModelPanel, type OwnMessage } from '../common/modelPanel';
import { compareHtml } from '../common/webviewHtml';
import { baseName } from '../common/workspaceModelSource';
import type { ComparedModel, CompareProtocol } from '../../shared/compareProtocol';
import { backendSetting, explainSettings, limitsSetting } from '../../settings';

export class ComparePanel extends ModelPanel<CompareProtocol> {
  static open(extensionUri: vscode.Uri, a: vscode.Uri, b: vscode.Uri, images: vscode.Uri[]): ComparePanel {
    const title = `Compare: ${describe(a).path} ↔ ${describe(b).path}`;
    const panel = ModelPanel.createPanel(extensionUri, 'convlens.compare', title, compareHtml);
    return new ComparePanel(panel, a, b, images, (webview) => compareHtml(webview, extensionUri));
  }

  private constructor(
    panel: vscode.WebviewPanel,
    model: vscode.Uri,
    readonly modelB: vscode.Uri,
    readonly images: vscode.Uri[],
    page: (webview: vscode.Webview) => string,
  ) {
    // With `page`, a new checkpoint written over model A rebuilds the comparison (modelPanel.ts).
    super(panel, model, page);
    this.channel.answer('readFileB', ({ path, maxBytes }) => readModelFile(this.modelB, path, maxBytes));
  }

  protected async receive(message: OwnMessage<CompareProtocol>): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.sendImages();
      case 'compared':
        return;
    }
  }

  /** PNGs are saved beside the images compared. */
  protected override pngBeside(): vscode.Uri {
    return this.images[0] ?? this.model;
  }

  private async sendImages(): Promise<void> {
    const images = await readImageFiles(this.images);
    const { method, colormap } = explainSettings();
    this.post({
      type: 'compare',
      a: describe(this.model),
      b: describe(this.modelB),
      images,
      method,
      colormap,
      backend: backendSetting(),
      limits: limitsSetting(),
    });
  }
}

function describe(uri: vscode.Uri): ComparedModel {
  return { fileName: baseName(uri), path: vscode.workspace.asRelativePath(uri, false) };
}
