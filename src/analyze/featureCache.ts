/**
 * Features computed over a folder, kept in the extension's global storage so reopening the same
 * folder with the same model and layer is instant. The key covers everything the numbers depend on:
 * the model file (its path, size and time), the webview's key (preprocessing and layer), and each
 * image's path, size and time; change any of them and the features are computed afresh.
 */
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import type { CachedFeatures, FolderEntry } from '../shared/analyzeProtocol';
import { decodeFeatures, encodeFeatures } from './featureFile';
import { imageUri } from './folderImages';

export class FeatureCache {
  constructor(private readonly storage: vscode.Uri) {}

  async key(model: vscode.Uri, folder: vscode.Uri, images: FolderEntry[], viewKey: string): Promise<string> {
    const hash = createHash('sha256');
    const stamp = async (uri: vscode.Uri) => {
      const stat = await vscode.workspace.fs.stat(uri);
      return `${uri.toString()}\t${stat.size}\t${stat.mtime}\n`;
    };
    hash.update(await stamp(model));
    hash.update(`${viewKey}\n`);
    for (const image of images) hash.update(await stamp(imageUri(folder, image.path)));
    return hash.digest('hex').slice(0, 32);
  }

  async read(key: string): Promise<CachedFeatures | undefined> {
    try {
      const bytes = await vscode.workspace.fs.readFile(this.file(key));
      return decodeFeatures(bytes);
    } catch {
      return undefined; // not cached yet, or unreadable: computing afresh is always correct
    }
  }

  async write(key: string, features: CachedFeatures): Promise<void> {
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(this.storage, 'features'));
    await vscode.workspace.fs.writeFile(this.file(key), encodeFeatures(features));
  }

  private file(key: string): vscode.Uri {
    return vscode.Uri.joinPath(this.storage, 'features', `${key}.bin`);
  }
}
