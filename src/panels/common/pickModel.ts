/**
 * Which model explains the images: the model open in the active viewer, else the one used last in
 * this workspace, else the user's pick among the workspace's model files (then remembered).
 */
import * as vscode from 'vscode';
import type { ModelViewerRegistry } from '../viewer/modelEditorProvider';

const REMEMBERED = 'convlens.explainModel';
const MODEL_GLOB = '**/{*.h5,*.hdf5,*.keras,*.onnx,model*.json}';

export async function pickModel(registry: ModelViewerRegistry, state: vscode.Memento, ask = false): Promise<vscode.Uri | undefined> {
  if (!ask) {
    if (registry.active) return remember(state, registry.active.uri);
    const last = state.get<string>(REMEMBERED);
    if (last && (await exists(vscode.Uri.parse(last)))) return vscode.Uri.parse(last);
  }
  const files = await vscode.workspace.findFiles(MODEL_GLOB, '**/node_modules/**', 200);
  if (files.length === 0) {
    void vscode.window.showErrorMessage('ConvLens found no model file in this workspace (.h5, .hdf5, .keras, .onnx or model.json).');
    return undefined;
  }
  const items = files
    .map((uri) => ({ label: uri.path.split('/').pop()!, description: vscode.workspace.asRelativePath(uri), uri }))
    .sort((a, b) => a.description.localeCompare(b.description));
  const picked =
    files.length === 1
      ? items[0]
      : await vscode.window.showQuickPick(items, { title: 'Explain with which model?', matchOnDescription: true });
  return picked ? remember(state, picked.uri) : undefined;
}

/**
 * Remembers the model for next time without waiting for it to be stored: in code-server the update took
 * 4.6–5.3 s to settle, and the panel the user asked for waited on it.
 */
function remember(state: vscode.Memento, uri: vscode.Uri): vscode.Uri {
  Promise.resolve(state.update(REMEMBERED, uri.toString())).catch(() => undefined);
  return uri;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
