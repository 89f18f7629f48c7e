/**
 * Reading and stat-ing files for webviews in bulk: files of file: URIs straight from the disk where the
 * host has one (platform/localDisk.ts), others through `vscode.workspace.fs`. The extension host runs where file: URIs are, remote ones included;
 * `vscode.workspace.fs` reads the same disk, but each call first asks the window (a round trip, about
 * a millisecond in code-server, on the thread the webviews run on), which for a folder of images cost
 * more than running the model over them.
 */
import * as vscode from 'vscode';
import { IMAGE_FILE_LIMIT, IMAGE_FILE_MAX_BYTES, limitName, notRegularFile, tooLarge } from '../../engine/confinedPath';
import { localDisk } from '../../platform/localDisk';

/** A file the host will not read for a webview, with the sentence saying why. */
export class RefusedReadError extends Error {}

/**
 * An image's bytes for a webview: regular files only, of at most the image file limit, judged before
 * reading (a FIFO named like an image would block the host, /dev/zero never ends).
 */
export async function readFileBytes(uri: vscode.Uri): Promise<Uint8Array> {
  const name = uri.path.slice(uri.path.lastIndexOf('/') + 1);
  const refuse = (reason: string) => new RefusedReadError(`${name} ${reason}`);
  if (uri.scheme === 'file' && localDisk) return localDisk.readRegularFile(uri.fsPath, IMAGE_FILE_MAX_BYTES, refuse, IMAGE_FILE_LIMIT);
  const { type, size } = await vscode.workspace.fs.stat(uri);
  if (!(type & vscode.FileType.File))
    throw refuse(notRegularFile(type & vscode.FileType.Directory ? 'a folder' : 'a special file (a device, FIFO or socket)'));
  if (size > IMAGE_FILE_MAX_BYTES) throw refuse(tooLarge(size, IMAGE_FILE_MAX_BYTES, IMAGE_FILE_LIMIT));
  return vscode.workspace.fs.readFile(uri);
}

/**
 * A file ConvLens wrote itself (the feature cache), of at most `maxBytes`: straight from the disk where
 * the host has one. Through `vscode.workspace.fs` a lookup that finds nothing waited 70–170 ms for the
 * window while the Analyze page was starting its pass.
 */
export async function readOwnFile(uri: vscode.Uri, maxBytes: number): Promise<Uint8Array> {
  if (uri.scheme === 'file' && localDisk)
    return localDisk.readRegularFile(uri.fsPath, maxBytes, (reason) => new RefusedReadError(reason), limitName(maxBytes));
  return vscode.workspace.fs.readFile(uri);
}

/** Size and modification time in milliseconds, as `vscode.workspace.fs.stat` gives them. */
export async function statFile(uri: vscode.Uri): Promise<{ size: number; mtime: number }> {
  if (uri.scheme === 'file' && localDisk) return localDisk.stat(uri.fsPath);
  return vscode.workspace.fs.stat(uri);
}
