/** Visualize Layers: opens each chosen model file in the ConvLens model viewer. */
import * as vscode from 'vscode';
import { viewTypeFor } from '../panels/viewer/modelEditorProvider';

const MODEL_FILE_FILTERS = { 'Model files': ['json', 'h5', 'hdf5', 'keras', 'onnx'] };

export async function visualizeLayers(clicked?: vscode.Uri, selected?: vscode.Uri[]): Promise<void> {
  const targets = selected?.length ? selected : clicked ? [clicked] : await pickModelFiles();
  for (const uri of targets) {
    await vscode.commands.executeCommand('vscode.openWith', uri, viewTypeFor(uri));
  }
}

async function pickModelFiles(): Promise<vscode.Uri[]> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && /\.(json|h5|hdf5|keras|onnx)$/i.test(active.path)) return [active];
  return (
    (await vscode.window.showOpenDialog({
      canSelectMany: true,
      filters: MODEL_FILE_FILTERS,
      openLabel: 'Visualize Layers',
    })) ?? []
  );
}
