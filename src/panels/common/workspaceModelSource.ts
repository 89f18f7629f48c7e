/**
 * A ModelSource over `vscode.workspace.fs`, so remote and virtual workspaces work as local ones do.
 * Files beside the model are read under the rule in confinedPath.ts; this is also what serves the
 * webviews' requests for them (modelFiles.ts), so the host holds the rule whatever a webview asks.
 */
import * as vscode from 'vscode';
import {
  DEFAULT_MAX_BYTES,
  isInsideFolder,
  notRegularFile,
  pathSegments,
  pathShapeProblem,
  RefusedFileError,
  REFUSALS,
  sizeLimit,
  tooLarge,
} from '../../engine/confinedPath';
import { ModelReadError } from '../../engine/errors';
import type { Limits } from '../../engine/limits';
import type { ModelSource } from '../../engine/modelSource';
import { localDisk } from '../../platform/localDisk';

export function workspaceModelSource(uri: vscode.Uri, limits?: Partial<Limits>): ModelSource {
  return {
    fileName: baseName(uri),
    limits,
    read: () => readModelItself(uri),
    readSibling: (relativePath, { maxBytes } = {}) => readSiblingFile(uri, relativePath, maxBytes),
  };
}

/** The model file the user opened, wherever it is; it still must be a regular file of sane size. */
export async function readModelItself(model: vscode.Uri): Promise<Uint8Array> {
  await judge(model, DEFAULT_MAX_BYTES, (reason) => new ModelReadError(baseName(model), reason));
  return vscode.workspace.fs.readFile(model);
}

/**
 * A file beside `model`, by a path relative to its folder. Rejects with a RefusedFileError when the
 * rule forbids it, or with the file system's own error when it is not there.
 */
export async function readSiblingFile(model: vscode.Uri, relativePath: string, maxBytes?: number): Promise<Uint8Array> {
  const refuse = (reason: string) => new RefusedFileError(baseName(model), String(relativePath), reason);
  const problem = pathShapeProblem(relativePath);
  if (problem) throw refuse(problem);
  const folder = vscode.Uri.joinPath(model, '..');
  const segments = pathSegments(relativePath);
  const uri = vscode.Uri.joinPath(folder, ...segments);
  if (!isInsideFolder(folder.path, uri.path)) throw refuse(REFUSALS.outside);
  await checkLinks(folder, segments, refuse);
  await judge(uri, sizeLimit(maxBytes), refuse);
  return vscode.workspace.fs.readFile(uri);
}

/**
 * Symbolic links must lead into the model's folder. On the host's own disk (file: URIs, remote ones
 * included, since the host runs where the files are) both ends are resolved and compared; other file
 * systems, and hosts without a disk (the browser), cannot say where a link leads, so there any link on
 * the way is refused.
 */
async function checkLinks(folder: vscode.Uri, segments: readonly string[], refuse: (reason: string) => Error): Promise<void> {
  if (folder.scheme === 'file' && localDisk) {
    const target = vscode.Uri.joinPath(folder, ...segments);
    // A missing file rejects here with Node's error, which readers treat as "not there".
    const [realFolder, realTarget] = await Promise.all([localDisk.realpath(folder.fsPath), localDisk.realpath(target.fsPath)]);
    if (!isInsideFolder(realFolder, realTarget, localDisk.separator)) throw refuse(REFUSALS.linkOutside);
    return;
  }
  for (let i = 1; i <= segments.length; i++) {
    const { type } = await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, ...segments.slice(0, i)));
    if (type & vscode.FileType.SymbolicLink) throw refuse(REFUSALS.unverifiableLink);
  }
}

/**
 * Only regular files no larger than `maxBytes`, judged before reading: `stat` reports devices, FIFOs
 * and sockets as neither file nor folder (FileType.Unknown), and reading one could block or never end.
 */
async function judge(uri: vscode.Uri, maxBytes: number, refuse: (reason: string) => Error): Promise<void> {
  const { type, size } = await vscode.workspace.fs.stat(uri);
  if (!(type & vscode.FileType.File)) {
    throw refuse(notRegularFile(type & vscode.FileType.Directory ? 'a folder' : 'a special file (a device, FIFO or socket)'));
  }
  if (size > maxBytes) throw refuse(tooLarge(size, maxBytes));
}

export function baseName(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}
