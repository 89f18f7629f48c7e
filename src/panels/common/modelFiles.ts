/**
 * Files between the workspace and the webviews, through `vscode.workspace.fs`: the files of a model
 * (the model file and the files in its folder — weight shards, labels, sidecars; a model cannot make
 * ConvLens read outside its own folder), images to run, and PNGs the user saves.
 */
import * as vscode from 'vscode';
import { isInsideFolder, pathSegments, pathShapeProblem, RefusedFileError } from '../../engine/confinedPath';
import { ModelReadError } from '../../engine/errors';
import { readFileBytes, RefusedReadError } from './diskFiles';
import { baseName, readModelItself, readSiblingFile } from './workspaceModelSource';

export type FileAnswer =
  | { bytes: ArrayBuffer; error?: undefined; refused?: undefined }
  /** `refused`: why the file may not be read (confinedPath.ts), for the webview to report as the host would. */
  | { bytes?: undefined; error: string; refused?: string };

/**
 * A file of the model for a webview: `path` is relative to the model file's folder ('' is the model
 * file itself), under the same rule as the host's own reads, whatever the webview asks for.
 */
export async function readModelFile(model: vscode.Uri, path: string, maxBytes?: number): Promise<FileAnswer> {
  try {
    return { bytes: exactBuffer(path === '' ? await readModelItself(model) : await readSiblingFile(model, path, maxBytes)) };
  } catch (error) {
    if (error instanceof RefusedFileError) return { error: error.message, refused: error.reason };
    if (error instanceof ModelReadError) return { error: error.message, refused: error.problem };
    return { error: `no file "${path}" beside the model` };
  }
}

/**
 * The file at `path` (relative, '/'-separated, as a webview names it) in `folder`, or undefined when the
 * path would lead out of it: the shape rule of confinedPath.ts, since a webview's word is not the host's.
 */
export function uriInFolder(folder: vscode.Uri, path: string): vscode.Uri | undefined {
  if (pathShapeProblem(path)) return undefined;
  const uri = vscode.Uri.joinPath(folder, ...pathSegments(path));
  return isInsideFolder(folder.path, uri.path) ? uri : undefined;
}

/** A file of `folder` for a webview (see `uriInFolder`), or `error` when it cannot or may not be read. */
export async function readFileInFolder(folder: vscode.Uri, path: string, error: string): Promise<FileAnswer> {
  const uri = uriInFolder(folder, path);
  return uri ? readFileAnswer(uri, error) : { error: `${path} is outside the folder; ConvLens reads only files in it.` };
}

/** A file's bytes for a webview, or `error` when it cannot be read. */
export async function readFileAnswer(uri: vscode.Uri, error: string): Promise<FileAnswer> {
  try {
    return { bytes: exactBuffer(await readFileBytes(uri)) };
  } catch (refusal) {
    return { error: refusal instanceof RefusedReadError ? refusal.message : error };
  }
}

/**
 * The array's bytes as an ArrayBuffer of their own (copied unless the array spans its whole buffer):
 * webviews receive ArrayBuffers intact, while a typed array (often a view into a larger pooled buffer)
 * does not survive the trip.
 */
export function exactBuffer(array: Uint8Array | Float32Array | Int32Array): ArrayBuffer {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength
    ? (array.buffer as ArrayBuffer)
    : (array.slice().buffer as ArrayBuffer);
}

/** An image's name and bytes for a webview, or undefined (after telling the user) when it cannot be read. */
export async function readImageFile(uri: vscode.Uri): Promise<{ name: string; bytes: ArrayBuffer } | undefined> {
  const answer = await readFileAnswer(uri, `${baseName(uri)} cannot be read.`);
  if (answer.bytes) return { name: baseName(uri), bytes: answer.bytes };
  void vscode.window.showErrorMessage(answer.error);
  return undefined;
}

/** The images that can be read, in order; each one that cannot is reported and left out. */
export async function readImageFiles(uris: readonly vscode.Uri[]): Promise<{ name: string; bytes: ArrayBuffer }[]> {
  const images = [];
  for (const uri of uris) {
    const image = await readImageFile(uri);
    if (image) images.push(image);
  }
  return images;
}

/** Asks where to save a PNG a webview made (suggesting `suggested`), and writes it there. */
export async function savePng(suggested: vscode.Uri, bytes: ArrayBuffer): Promise<void> {
  const target = await vscode.window.showSaveDialog({ defaultUri: suggested, filters: { 'PNG image': ['png'] } });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, new Uint8Array(bytes));
  void vscode.window.showInformationMessage(`Saved ${baseName(target)}.`);
}
