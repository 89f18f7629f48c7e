/**
 * Files between the workspace and the webviews, through `vscode.workspace.fs`: the files of a model
 * (the model file and the files in its folder — weight shards, labels, sidecars; a model cannot make
 * ConvLens read outside its own folder), images to run, and PNGs the user saves.
 */
import * as vscode from 'vscode';
import { baseName } from './workspaceModelSource';

export type FileAnswer = { bytes: ArrayBuffer; error?: undefined } | { bytes?: undefined; error: string };

/** `path` is relative to the model file's folder; '' is the model file itself. */
export async function readModelFile(model: vscode.Uri, path: string): Promise<FileAnswer> {
  const segments = path.split(/[\\/]/).filter((s) => s && s !== '.');
  if (segments.includes('..')) return { error: `"${path}" lies outside the model's folder` };
  const uri = segments.length ? vscode.Uri.joinPath(model, '..', ...segments) : model;
  return readFileAnswer(uri, `no file "${path}" beside the model`);
}

/** A file's bytes for a webview, or `error` when it cannot be read. */
export async function readFileAnswer(uri: vscode.Uri, error: string): Promise<FileAnswer> {
  try {
    return { bytes: exactBuffer(await vscode.workspace.fs.readFile(uri)) };
  } catch {
    return { error };
  }
}

/**
 * The bytes as an ArrayBuffer of their own: webviews receive ArrayBuffers intact, while a Uint8Array
 * (often a view into a larger pooled buffer) does not survive the trip.
 */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

/** An image's name and bytes for a webview, or undefined (after telling the user) when it cannot be read. */
export async function readImageFile(uri: vscode.Uri): Promise<{ name: string; bytes: ArrayBuffer } | undefined> {
  const answer = await readFileAnswer(uri, `${baseName(uri)} cannot be read.`);
  if (answer.bytes) return { name: baseName(uri), bytes: answer.bytes };
  void vscode.window.showErrorMessage(answer.error);
  return undefined;
}

/** Asks where to save a PNG a webview made (suggesting `suggested`), and writes it there. */
export async function savePng(suggested: vscode.Uri, bytes: ArrayBuffer): Promise<void> {
  const target = await vscode.window.showSaveDialog({ defaultUri: suggested, filters: { 'PNG image': ['png'] } });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, new Uint8Array(bytes));
  void vscode.window.showInformationMessage(`Saved ${baseName(target)}.`);
}

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'bmp', 'gif', 'webp'];
