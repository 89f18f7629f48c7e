/** The images of a folder chosen in the Explorer, through `vscode.workspace.fs` (remote workspaces too). */
import * as vscode from 'vscode';
import { isInsideFolder } from '../../engine/confinedPath';
import { labelByFolder } from '../../engine/dataset/imageFolder';
import { hasImageExtension, WEBVIEW_IMAGE_FORMATS } from '../../shared/imageFormats';
import type { FolderEntry } from '../../shared/analyzeProtocol';
import { localDisk } from '../../platform/localDisk';

/**
 * Every image under `folder` (hidden files and folders skipped), labelled by class subfolder. Only
 * regular files are listed: a FIFO or device named x.png (FileType.Unknown) would block or never end
 * when read. Symbolic links are followed only on the host's own disk, where where they lead can be checked, and only
 * to a file or folder inside the folder, each folder listed once (a cycle of links would never end);
 * other file systems cannot say where a link leads, so there links are skipped.
 */
export async function listFolderImages(folder: vscode.Uri): Promise<FolderEntry[]> {
  const paths: string[] = [];
  const disk = folder.scheme === 'file' ? localDisk : undefined;
  const root = disk ? await disk.realpath(folder.fsPath) : folder.path;
  const visited = new Set<string>();
  const visit = async (dir: vscode.Uri, real: string, prefix: string) => {
    if (visited.has(real)) return;
    visited.add(real);
    for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
      if (name.startsWith('.')) continue;
      const uri = vscode.Uri.joinPath(dir, name);
      let target = `${real}${disk?.separator ?? '/'}${name}`;
      if (type & vscode.FileType.SymbolicLink) {
        if (!disk) continue;
        target = await disk.realpath(uri.fsPath).catch(() => '');
        if (!target || !isInsideFolder(root, target, disk.separator)) continue;
      }
      if (type & vscode.FileType.Directory) await visit(uri, target, `${prefix}${name}/`);
      else if (type & vscode.FileType.File && hasImageExtension(WEBVIEW_IMAGE_FORMATS, name)) paths.push(prefix + name);
    }
  };
  await visit(folder, root, '');
  return labelByFolder(paths);
}

export function imageUri(folder: vscode.Uri, path: string): vscode.Uri {
  return vscode.Uri.joinPath(folder, ...path.split('/'));
}
