/** Runs inside the desktop VS Code's extension host: Visualize Layers opens the ConvLens model viewer. */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the sample workspace is open');
  const model = vscode.Uri.joinPath(folder.uri, 'fashion-mnist-cnn', 'model.json');

  const commands = await vscode.commands.getCommands(true);
  assert.ok(commands.includes('convlens.visualizeLayers') && commands.includes('convlens.explainGradCam'));

  await vscode.commands.executeCommand('convlens.visualizeLayers', model);
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  assert.ok(input instanceof vscode.TabInputCustom, 'a custom editor is active');
  assert.equal(input.viewType, 'convlens.modelJsonViewer');
  assert.equal(input.uri.toString(), model.toString());
  console.log('desktop suite: Visualize Layers opened the model viewer');
}
