/** The disk the Node extension host runs on: file: URIs read directly (see types.ts). */
import { lstat, realpath, stat } from 'node:fs/promises';
import nodePath from 'node:path';
import { readRegularFile } from '../node/regularFile';
import type { LocalDisk } from './types';

export const localDisk: LocalDisk | undefined = {
  readRegularFile,
  realpath: (path) => realpath(path),
  async stat(path) {
    const { size, mtime } = await stat(path);
    return { size, mtime: mtime.getTime() };
  },
  // lstat, unlike stat, sees a link to nowhere.
  exists: (path) =>
    lstat(path).then(
      () => true,
      () => false,
    ),
  separator: nodePath.sep,
};
