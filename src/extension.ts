/**
 * ConvLens: entry point of the extension host. Wires commands, the model viewer, the layer tree and the
 * language-model tools.
 */
import * as vscode from 'vscode';
import { FeatureCache } from './panels/analyze/featureCache';
import { analyzeImages } from './commands/analyzeImages';
import { compareModels } from './commands/compareModels';
import { explainGradCam } from './commands/explainGradCam';
import { showFeatureMaps } from './commands/showFeatureMaps';
import { openSampleWorkspace, OPEN_SAMPLE_COMMAND } from './commands/openSampleWorkspace';
import { openWalkthroughOnFirstRun } from './commands/openWalkthrough';
import { visualizeLayers } from './commands/visualizeLayers';
import { registerLanguageModelTools } from './languageModelTools/register';
import { ModelEditorProvider, ModelViewerRegistry } from './panels/viewer/modelEditorProvider';
import { pickModel } from './panels/common/pickModel';
import type { ModelViewer } from './panels/viewer/modelViewer';
import { describeModel, LayerTreeProvider, REVEAL_LAYER_COMMAND } from './tree/layerTreeProvider';

export function activate(context: vscode.ExtensionContext): void {
  // The host's TensorFlow.js backend (for reading model topologies and the language-model tools) starts
  // on first use, so a window that never opens a model pays nothing for it.
  const registry = new ModelViewerRegistry();
  const layers = new LayerTreeProvider();
  const layerView = vscode.window.createTreeView('convlens.layers', { treeDataProvider: layers, showCollapseAll: true });

  let viewerSubscriptions: vscode.Disposable[] = [];
  const followViewer = (viewer: ModelViewer | undefined) => {
    for (const d of viewerSubscriptions) d.dispose();
    const refresh = () => {
      const state = viewer?.current;
      layers.show(state);
      layerView.description = state?.kind === 'loaded' ? describeModel(state.model) : undefined;
      layerView.message = state?.kind === 'failed' ? state.message : undefined;
    };
    viewerSubscriptions = viewer
      ? [
          viewer.onDidChangeState(refresh),
          viewer.onDidSelectLayer((id) => {
            const layer = layers.findLayer(id);
            if (layer && layerView.visible) void layerView.reveal(layer, { select: true, focus: false });
          }),
        ]
      : [];
    refresh();
  };

  context.subscriptions.push(
    registry,
    layers,
    layerView,
    registry.onDidChangeActive(followViewer),
    { dispose: () => viewerSubscriptions.forEach((d) => d.dispose()) },
    ...ModelEditorProvider.register(context, registry),
    vscode.commands.registerCommand('convlens.visualizeLayers', visualizeLayers),
    vscode.commands.registerCommand('convlens.explainGradCam', (clicked?: vscode.Uri, selected?: vscode.Uri[]) =>
      explainGradCam(context, registry, clicked, selected),
    ),
    vscode.commands.registerCommand('convlens.analyzeImages', (folder?: vscode.Uri) =>
      analyzeImages(context, registry, new FeatureCache(context.globalStorageUri), folder),
    ),
    vscode.commands.registerCommand('convlens.showFeatureMaps', (clicked?: vscode.Uri) => showFeatureMaps(context, registry, clicked)),
    vscode.commands.registerCommand('convlens.compareModels', (clicked?: vscode.Uri, selected?: vscode.Uri[]) =>
      compareModels(context, clicked, selected),
    ),
    vscode.commands.registerCommand('convlens.chooseExplainModel', () => pickModel(registry, context.workspaceState, true)),
    vscode.commands.registerCommand(REVEAL_LAYER_COMMAND, (layerId: string) => registry.active?.revealLayer(layerId)),
    vscode.commands.registerCommand(OPEN_SAMPLE_COMMAND, () => openSampleWorkspace(context)),
    ...registerLanguageModelTools(context),
  );
  void openWalkthroughOnFirstRun(context);
}

export function deactivate(): void {}
