/**
 * Serving a webview the files of a model: the model file itself and the files in its folder (weight
 * shards, labels, sidecars), read through `vscode.workspace.fs`. A model cannot make ConvLens read
 * outside its own folder.
 */
import * as vscode from 'vscode';

export type FileAnswer = { bytes: ArrayBuffer; error?: undefined } | { bytes?: undefined; error: string };

/** `path` is relative to the model file's folder; '' is the model file itself. */
export async function readModelFile(model: vscode.Uri, path: string): Promise<FileAnswer> {
  const segments = path.split(/[\\/]/).filter((s) => s && s !== '.');
  if (segments.includes('..')) return { error: `"${path}" lies outside the model's folder` };
  const uri = segments.length ? vscode.Uri.joinPath(model, '..', ...segments) : model;
  try {
    return { bytes: exactBuffer(await vscode.workspace.fs.readFile(uri)) };
  } catch {
    return { error: `no file "${path}" beside the model` };
  }
}

/**
 * The bytes as an ArrayBuffer of their own: webviews receive ArrayBuffers intact, while a Uint8Array
 * (often a view into a larger pooled buffer) does not survive the trip.
 */
export function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'bmp', 'gif', 'webp'];
