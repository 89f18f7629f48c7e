/**
 * The first run: the first time ConvLens starts after it is installed, it opens its walkthrough. VS Code
 * opens an extension's walkthrough itself after some installs but not all (not after a VSIX install in
 * code-server, for one), so ConvLens asks once per installation, and never where the user has turned
 * `workbench.welcomePage.walkthroughs.openOnInstall` off.
 */
import * as vscode from 'vscode';

export const WALKTHROUGH_ID = 'convlens.convlens#convlens.gettingStarted';
const OFFERED = 'convlens.walkthroughOffered';

export async function openWalkthroughOnFirstRun(context: vscode.ExtensionContext): Promise<void> {
  if (context.globalState.get<boolean>(OFFERED)) return;
  if (vscode.workspace.getConfiguration().get<boolean>('workbench.welcomePage.walkthroughs.openOnInstall') === false) return;
  await context.globalState.update(OFFERED, true);
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
}
