/**
 * Reading and stat-ing files for webviews in bulk: files of file: URIs straight from Node, others
 * through `vscode.workspace.fs`. The extension host runs where file: URIs are, remote ones included;
 * `vscode.workspace.fs` reads the same disk, but each call first asks the window (a round trip, about
 * a millisecond in code-server, on the thread the webviews run on), which for a folder of images cost
 * more than running the model over them.
 */
import { readFile, stat } from 'node:fs/promises';
import * as vscode from 'vscode';

export async function readFileBytes(uri: vscode.Uri): Promise<Uint8Array> {
  return uri.scheme === 'file' ? readFile(uri.fsPath) : vscode.workspace.fs.readFile(uri);
}

/** Size and modification time in milliseconds, as `vscode.workspace.fs.stat` gives them. */
export async function statFile(uri: vscode.Uri): Promise<{ size: number; mtime: number }> {
  if (uri.scheme !== 'file') return vscode.workspace.fs.stat(uri);
  const { size, mtime } = await stat(uri.fsPath);
  return { size, mtime: mtime.getTime() };
}
