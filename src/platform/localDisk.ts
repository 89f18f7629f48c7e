/** The disk the Node extension host runs on: file: URIs read directly (see types.ts). */
import { statSync } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import nodePath from 'node:path';
import { readRegularFile } from '../node/regularFile';
import type { LocalDisk } from './types';

export const localDisk: LocalDisk | undefined = {
  readRegularFile,
  realpath: (path) => realpath(path),
  // Blocking, as readRegularFile's small reads are: the feature cache's key stats every image of a folder,
  // and 500 stats through the thread pool took longer than the pass's first batches.
  async stat(path) {
    const { size, mtimeMs } = statSync(path);
    return { size, mtime: Math.trunc(mtimeMs) };
  },
  // lstat, unlike stat, sees a link to nowhere.
  exists: (path) =>
    lstat(path).then(
      () => true,
      () => false,
    ),
  separator: nodePath.sep,
};
