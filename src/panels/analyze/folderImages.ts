/** The images of a folder chosen in the Explorer, through `vscode.workspace.fs` (remote workspaces too). */
import * as vscode from 'vscode';
import { filesUnder, type EntryKind, type WalkedFileSystem } from '../../engine/dataset/folderWalk';
import { labelByFolder } from '../../engine/dataset/imageFolder';
import { hasImageExtension, WEBVIEW_IMAGE_FORMATS } from '../../shared/imageFormats';
import type { FolderEntry } from '../../shared/analyzeProtocol';
import { localDisk } from '../../platform/localDisk';
import type { LocalDisk } from '../../platform/types';

/** Every image under `folder` (the rules: engine/dataset/folderWalk.ts), labelled by class subfolder. */
export async function listFolderImages(folder: vscode.Uri): Promise<FolderEntry[]> {
  const disk = folder.scheme === 'file' ? localDisk : undefined;
  const paths = await filesUnder(workspaceFolders(disk), folder, (name) => hasImageExtension(WEBVIEW_IMAGE_FORMATS, name));
  return labelByFolder(paths);
}

/**
 * The workspace's folders as the walk sees them. Links are followed only on the host's own disk, where their
 * targets can be checked; other file systems (remote, virtual) cannot say where links lead, so they are skipped.
 */
function workspaceFolders(disk: LocalDisk | undefined): WalkedFileSystem<vscode.Uri> {
  const kindOf = (type: vscode.FileType): EntryKind =>
    type & vscode.FileType.SymbolicLink
      ? 'link'
      : type & vscode.FileType.Directory
        ? 'folder'
        : type & vscode.FileType.File
          ? 'file'
          : 'other';
  return {
    list: async (folder) => (await vscode.workspace.fs.readDirectory(folder)).map(([name, type]) => [name, kindOf(type)] as const),
    child: (folder, name) => vscode.Uri.joinPath(folder, name),
    resolve: disk
      ? async (uri) => {
          const real = await disk.realpath(uri.fsPath).catch(() => undefined);
          const stat = real ? await Promise.resolve(vscode.workspace.fs.stat(uri)).catch(() => undefined) : undefined;
          // stat follows the link: its type is what the link leads to (the link flag aside).
          return real && stat ? { real, kind: kindOf(stat.type & ~vscode.FileType.SymbolicLink) } : undefined;
        }
      : undefined,
    nameOf: (folder) => folder.path,
    separator: disk?.separator ?? '/',
  };
}

export function imageUri(folder: vscode.Uri, path: string): vscode.Uri {
  return vscode.Uri.joinPath(folder, ...path.split('/'));
}
