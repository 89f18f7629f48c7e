/**
 * Features computed over a folder, kept in the extension's global storage so reopening the same
 * folder with the same model and layer is instant. The key covers everything the numbers depend on:
 * the model file (its path, size and time), the webview's key (preprocessing and layer), and each
 * image's path, size and time; change any of them and the features are computed afresh.
 */
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import { statFile } from '../common/diskFiles';
import type { CachedFeatures, FolderEntry } from '../../shared/analyzeProtocol';
import { decodeFeatures, encodeFeatures } from './featureFile';
import { imageUri } from './folderImages';

/** Stats in flight at once while the key is computed. */
const STATS_AT_ONCE = 256;

export class FeatureCache {
  constructor(private readonly storage: vscode.Uri) {}

  /** The key, and the images' total size in bytes that the same stats found. */
  async key(model: vscode.Uri, folder: vscode.Uri, images: FolderEntry[], viewKey: string): Promise<{ key: string; imageBytes: number }> {
    const hash = createHash('sha256');
    let imageBytes = 0;
    const stamp = async (uri: vscode.Uri) => {
      const stat = await statFile(uri);
      return { line: `${uri.toString()}\t${stat.size}\t${stat.mtime}\n`, size: stat.size };
    };
    hash.update((await stamp(model)).line);
    hash.update(`${viewKey}\n`);
    // The images' stats asked for together: one after another, 500 of them took seconds in code-server.
    for (let start = 0; start < images.length; start += STATS_AT_ONCE) {
      const stamps = await Promise.all(images.slice(start, start + STATS_AT_ONCE).map((image) => stamp(imageUri(folder, image.path))));
      for (const { line, size } of stamps) {
        hash.update(line);
        imageBytes += size;
      }
    }
    return { key: hash.digest('hex').slice(0, 32), imageBytes };
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
