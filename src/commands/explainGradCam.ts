/**
 * Explain with Grad-CAM, on images chosen in the Explorer. This version collects the images and
 * the model to explain them with; the explanation itself is computed by a later version.
 */
import * as vscode from 'vscode';
import { baseName } from '../editor/workspaceModelSource';
import type { ModelViewerRegistry } from '../editor/modelEditorProvider';

export async function explainGradCam(
  registry: ModelViewerRegistry,
  clicked?: vscode.Uri,
  selected?: vscode.Uri[],
): Promise<void> {
  const images = selected?.length ? selected : clicked ? [clicked] : [];
  if (images.length === 0) {
    void vscode.window.showInformationMessage('Right-click one or more images in the Explorer and choose Explain with Grad-CAM.');
    return;
  }
  const model = registry.active;
  const names = images.map(baseName).join(', ');
  const modelPart = model ? `with ${baseName(model.uri)}` : 'once a model is open (use Visualize Layers on a model file first)';
  void vscode.window.showInformationMessage(`Grad-CAM for ${names} ${modelPart} is not available in this version of ConvLens yet.`);
}
