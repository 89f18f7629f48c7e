/** The images of a folder chosen in the Explorer, through `vscode.workspace.fs` (remote workspaces too). */
import * as vscode from 'vscode';
import { labelByFolder } from '../engine/dataset/imageFolder';
import { IMAGE_EXTENSIONS } from '../editor/modelFiles';
import type { FolderEntry } from '../shared/analyzeProtocol';

/** Every image under `folder` (hidden files and folders skipped), labelled by class subfolder. */
export async function listFolderImages(folder: vscode.Uri): Promise<FolderEntry[]> {
  const paths: string[] = [];
  const visit = async (dir: vscode.Uri, prefix: string) => {
    for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
      if (name.startsWith('.')) continue;
      if (type & vscode.FileType.Directory) await visit(vscode.Uri.joinPath(dir, name), `${prefix}${name}/`);
      else if (IMAGE_EXTENSIONS.includes(name.split('.').pop()!.toLowerCase())) paths.push(prefix + name);
    }
  };
  await visit(folder, '');
  return labelByFolder(paths);
}

export function imageUri(folder: vscode.Uri, path: string): vscode.Uri {
  return vscode.Uri.joinPath(folder, ...path.split('/'));
}
