/**
 * What the language-model tools read: workspace paths (relative to an open folder, or absolute inside
 * one), models through the same ModelSource and limits as the panels, images and folders of images
 * under the same rules as the webviews' reads. A path outside the open folders is refused, on disk
 * after resolving links, since an agent's word is not the user's.
 */
import * as vscode from 'vscode';
import { isInsideFolder } from '../engine/confinedPath';
import { ModelReadError } from '../engine/errors';
import { limitsOf } from '../engine/limits';
import { openModel, type OpenedModel } from '../engine/openModel';
import type { RgbaImage } from '../engine/preprocess';
import { ExplanationCancelled, type Progress } from '../engine/progress';
import { decodeImageBytes } from '../node/imageFile';
import { readFileBytes, RefusedReadError } from '../panels/common/diskFiles';
import { localDisk } from '../platform/localDisk';
import { useHostBackend } from '../platform/tfBackend';
import { baseName, workspaceModelSource } from '../panels/common/workspaceModelSource';
import { limitsSetting } from '../settings';

/** A request a tool cannot serve, with the one sentence that says why (the agent shows it as it is). */
export class ToolInputError extends Error {}

/** The workspace file or folder at `path`, which must exist inside one of the open folders. */
export async function workspaceUri(path: unknown, role: string): Promise<vscode.Uri> {
  if (typeof path !== 'string' || path.trim() === '') throw new ToolInputError(`No path was given for the ${role}.`);
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) throw new ToolInputError(`No folder is open, so ConvLens cannot read ${path} as a workspace path.`);
  const outside = new ToolInputError(`${path} is outside the workspace; ConvLens tools read only files in the open folders.`);
  const absolute = path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path);
  let inAFolder = false;
  for (const folder of folders) {
    const uri = absolute
      ? folder.uri.with({ path: folder.uri.scheme === 'file' ? vscode.Uri.file(path).path : path })
      : vscode.Uri.joinPath(folder.uri, ...path.split(/[\\/]+/).filter(Boolean));
    if (uri.path !== folder.uri.path && !isInsideFolder(folder.uri.path, uri.path)) continue;
    inAFolder = true;
    const exists = await vscode.workspace.fs.stat(uri).then(
      () => true,
      () => false,
    );
    if (!exists) continue;
    if (!(await staysInside(folder.uri, uri))) throw outside;
    return uri;
  }
  if (inAFolder) throw new ToolInputError(`${path}: no such file or folder in the workspace.`);
  throw outside;
}

/** On disk, where links can be followed, the resolved path must still be in the resolved folder. */
async function staysInside(folder: vscode.Uri, uri: vscode.Uri): Promise<boolean> {
  if (folder.scheme !== 'file' || !localDisk) return true;
  const [realFolder, realTarget] = await Promise.all([localDisk.realpath(folder.fsPath), localDisk.realpath(uri.fsPath)]);
  return realTarget === realFolder || isInsideFolder(realFolder, realTarget, localDisk.separator);
}

/** Opens the model at `uri` with the preprocessing it resolves to and the user's limits. */
export async function openWorkspaceModel(uri: vscode.Uri): Promise<OpenedModel> {
  await useHostBackend('wasm');
  return openModel(workspaceModelSource(uri, limitsSetting())).catch((error: unknown) => {
    throw asToolError(error, baseName(uri));
  });
}

/** An image file's pixels, refused (one sentence) when it is no regular file, too large or no image. */
export async function readWorkspaceImage(uri: vscode.Uri, opened: OpenedModel): Promise<RgbaImage> {
  try {
    return await decodeImageBytes(baseName(uri), await readFileBytes(uri), limitsOf(opened.source).imagePixels);
  } catch (error) {
    throw asToolError(error, baseName(uri));
  }
}

/** The engine's progress hooks over an editor cancellation token. */
export function progressOf(token: vscode.CancellationToken): Progress {
  return {
    token: {
      get cancelled() {
        return token.isCancellationRequested;
      },
    },
  };
}

/**
 * Errors as the agent should see them: the user's cancellation as the editor's, files refused or
 * unreadable as their own sentence, anything else named after the file it concerns.
 */
export function asToolError(error: unknown, fileName: string): Error {
  if (error instanceof ExplanationCancelled || error instanceof vscode.CancellationError) return new vscode.CancellationError();
  if (error instanceof ToolInputError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ModelReadError || error instanceof RefusedReadError || message.startsWith(fileName))
    return new ToolInputError(message);
  return new ToolInputError(`${fileName}: ${message}`);
}

/** A path as the agent gave it, relative to its workspace folder where it is inside one. */
export function workspacePath(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
}
