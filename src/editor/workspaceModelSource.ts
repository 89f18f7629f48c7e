/** A ModelSource over `vscode.workspace.fs`, so remote and virtual workspaces work as local ones do. */
import * as vscode from 'vscode';
import type { ModelSource } from '../engine/modelSource';

export function workspaceModelSource(uri: vscode.Uri): ModelSource {
  return {
    fileName: baseName(uri),
    read: async () => vscode.workspace.fs.readFile(uri),
    readSibling: async (relativePath) => vscode.workspace.fs.readFile(vscode.Uri.joinPath(uri, '..', relativePath)),
  };
}

export function baseName(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}
