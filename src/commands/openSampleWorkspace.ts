/**
 * Open the Sample Workspace: a copy of the sample that ships with ConvLens (an ImageNet SqueezeNet,
 * photos, a small Fashion-MNIST network) in the extension's storage, opened as a folder. A copy, so
 * what the user saves there (a preprocessing sidecar, say) never touches the installed extension; an
 * existing copy is opened as it is.
 */
import * as vscode from 'vscode';

export const OPEN_SAMPLE_COMMAND = 'convlens.openSampleWorkspace';

export async function openSampleWorkspace(context: vscode.ExtensionContext): Promise<void> {
  const sample = vscode.Uri.joinPath(context.extensionUri, 'sample');
  const copy = vscode.Uri.joinPath(context.globalStorageUri, 'sample-workspace');
  const exists = (uri: vscode.Uri) =>
    vscode.workspace.fs.stat(uri).then(
      () => true,
      () => false,
    );
  if (!(await exists(sample))) {
    void vscode.window.showErrorMessage('This installation of ConvLens has no sample workspace.');
    return;
  }
  if (!(await exists(copy))) await vscode.workspace.fs.copy(sample, copy);
  await vscode.commands.executeCommand('vscode.openFolder', copy, { forceNewWindow: false });
}
