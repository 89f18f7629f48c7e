/**
 * A ModelSource over Node's file system, for tests, benchmarks and the command line. Files beside the
 * model are read under the rule in confinedPath.ts: symbolic links are resolved and must still lead
 * into the (equally resolved) model folder, and only regular files no larger than declared are opened.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MAX_BYTES, isInsideFolder, notRegularFile, pathSegments, pathShapeProblem, RefusedFileError, REFUSALS, sizeLimit, tooLarge } from '../engine/confinedPath';
import { ModelReadError } from '../engine/errors';
import type { ModelSource } from '../engine/modelSource';

export function fileModelSource(filePath: string): ModelSource {
  const folder = path.dirname(path.resolve(filePath));
  const fileName = path.basename(filePath);
  return {
    fileName,
    // The model file is the one the user chose, wherever it is; it still must be a file of sane size.
    read: () => readRegularFile(filePath, DEFAULT_MAX_BYTES, (reason) => new ModelReadError(fileName, reason)),
    async readSibling(relativePath, { maxBytes } = {}) {
      const refuse = (reason: string) => new RefusedFileError(fileName, String(relativePath), reason);
      const problem = pathShapeProblem(relativePath);
      if (problem) throw refuse(problem);
      const target = path.resolve(folder, ...pathSegments(relativePath));
      if (!isInsideFolder(folder, target, path.sep)) throw refuse(REFUSALS.outside);
      // A missing file rejects here with Node's own error, which readers treat as "not there".
      const [realFolder, realTarget] = await Promise.all([fs.realpath(folder), fs.realpath(target)]);
      if (!isInsideFolder(realFolder, realTarget, path.sep)) throw refuse(REFUSALS.linkOutside);
      return readRegularFile(realTarget, sizeLimit(maxBytes), refuse);
    },
  };
}

/**
 * The bytes of a regular file of at most `maxBytes`. It is judged by `stat` before it is opened (a
 * FIFO would block the open, /dev/zero never ends), opened without blocking, and judged again through
 * the open handle, so a file swapped in between the two looks is caught too. No more than the size
 * seen is read, however much the file grows meanwhile.
 */
async function readRegularFile(file: string, maxBytes: number, refuse: (reason: string) => Error): Promise<Uint8Array> {
  judge(await fs.stat(file), maxBytes, refuse);
  // O_NONBLOCK does not exist on Windows, where FIFOs are not files at all.
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = await handle.stat();
    judge(info, maxBytes, refuse);
    const bytes = new Uint8Array(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === bytes.length ? bytes : bytes.slice(0, filled);
  } finally {
    await handle.close();
  }
}

function judge(info: Stats, maxBytes: number, refuse: (reason: string) => Error): void {
  if (!info.isFile()) throw refuse(notRegularFile(kindOf(info)));
  if (info.size > maxBytes) throw refuse(tooLarge(info.size, maxBytes));
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'a special file';
}
