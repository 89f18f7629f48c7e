/**
 * Features computed over a folder, kept in the extension's global storage so reopening the same
 * folder with the same model and layer is instant. The key covers everything the numbers depend on:
 * the model file (its path, size and time), the webview's key (preprocessing and layer), and each
 * image's path, size and time; change any of them and the features are computed afresh.
 */
import * as vscode from 'vscode';
import { readOwnFile, statFile } from '../common/diskFiles';
import type { CachedFeatures, FolderEntry } from '../../shared/analyzeProtocol';
import { decodeFeatures, encodeFeatures } from './featureFile';
import { imageUri } from './folderImages';

/** A cache file larger than this is not read (the features are computed afresh): 100,000 images of 2,048 features. */
const CACHE_FILE_MAX_BYTES = 2 ** 30;
/** Stats in flight at once while the key is computed. */
const STATS_AT_ONCE = 256;

export class FeatureCache {
  constructor(private readonly storage: vscode.Uri) {}

  /** The key, and the images' total size in bytes that the same stats found. */
  async key(model: vscode.Uri, folder: vscode.Uri, images: FolderEntry[], viewKey: string): Promise<{ key: string; imageBytes: number }> {
    const lines: string[] = [];
    let imageBytes = 0;
    const stamp = async (uri: vscode.Uri) => {
      const stat = await statFile(uri);
      return { line: `${uri.toString()}\t${stat.size}\t${stat.mtime}\n`, size: stat.size };
    };
    lines.push((await stamp(model)).line, `${viewKey}\n`);
    // The images' stats asked for together: one after another, 500 of them took seconds in code-server.
    for (let start = 0; start < images.length; start += STATS_AT_ONCE) {
      const stamps = await Promise.all(images.slice(start, start + STATS_AT_ONCE).map((image) => stamp(imageUri(folder, image.path))));
      for (const { line, size } of stamps) {
        lines.push(line);
        imageBytes += size;
      }
    }
    return { key: (await sha256Hex(lines.join(''))).slice(0, 32), imageBytes };
  }

  async read(key: string): Promise<CachedFeatures | undefined> {
    try {
      const bytes = await readOwnFile(this.file(key), CACHE_FILE_MAX_BYTES);
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

/** SHA-256 of the text's UTF-8 bytes, in hex: Web Crypto, which Node and the browser both have. */
async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
