/**
 * Show Feature Maps, on an image chosen in the Explorer: opens (or brings forward) the viewer of the
 * model explanations use — the open one, or the workspace's, remembered — and runs the image through it.
 */
import * as vscode from 'vscode';
import { type ModelViewerRegistry, viewTypeFor } from '../panels/viewer/modelEditorProvider';
import { pickModel } from '../panels/common/pickModel';

export async function showFeatureMaps(context: vscode.ExtensionContext, registry: ModelViewerRegistry, image?: vscode.Uri): Promise<void> {
  if (!image) {
    void vscode.window.showInformationMessage('Right-click an image in the Explorer and choose Show Feature Maps.');
    return;
  }
  const model = await pickModel(registry, context.workspaceState);
  if (!model) return;
  let viewer = registry.find(model);
  if (viewer) viewer.panel.reveal();
  else {
    await vscode.commands.executeCommand('vscode.openWith', model, viewTypeFor(model));
    viewer = registry.find(model);
  }
  await viewer?.showImage(image);
}
