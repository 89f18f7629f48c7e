/**
 * Explain with Grad-CAM, on images chosen in the Explorer: picks the model (the open one, or the
 * workspace's, remembered) and opens the Explain panel on the images.
 */
import * as vscode from 'vscode';
import type { ModelViewerRegistry } from '../panels/viewer/modelEditorProvider';
import { ExplainPanel } from '../panels/explain/explainPanel';
import { pickModel } from '../panels/common/pickModel';

export async function explainGradCam(
  context: vscode.ExtensionContext,
  registry: ModelViewerRegistry,
  clicked?: vscode.Uri,
  selected?: vscode.Uri[],
): Promise<ExplainPanel | undefined> {
  const images = selected?.length ? selected : clicked ? [clicked] : [];
  if (images.length === 0) {
    void vscode.window.showInformationMessage('Right-click one or more images in the Explorer and choose Explain with Grad-CAM.');
    return undefined;
  }
  const model = await pickModel(registry, context.workspaceState);
  if (!model) return undefined;
  return ExplainPanel.open(context.extensionUri, model, images);
}
