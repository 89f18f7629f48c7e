/** Analyze Images with Model, on a folder chosen in the Explorer: picks the model and opens the Analyze panel. */
import * as vscode from 'vscode';
import { AnalyzePanel } from '../panels/analyze/analyzePanel';
import type { FeatureCache } from '../panels/analyze/featureCache';
import type { ModelViewerRegistry } from '../panels/viewer/modelEditorProvider';
import { pickModel } from '../panels/common/pickModel';

export async function analyzeImages(
  context: vscode.ExtensionContext,
  registry: ModelViewerRegistry,
  cache: FeatureCache,
  folder?: vscode.Uri,
): Promise<AnalyzePanel | undefined> {
  if (!folder) {
    void vscode.window.showInformationMessage('Right-click a folder of images in the Explorer and choose Analyze Images with Model.');
    return undefined;
  }
  const model = await pickModel(registry, context.workspaceState);
  if (!model) return undefined;
  return AnalyzePanel.open(context.extensionUri, cache, model, folder);
}
