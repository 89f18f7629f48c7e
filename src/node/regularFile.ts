/**
 * Reading a file the user named on the command line (an image, a .npy array) only when it is a regular
 * file of bounded size: a FIFO would block the open forever, /dev/zero never ends, and a folder or a
 * socket is no input at all. The rule of fileModelSource.ts's model reads, for inputs.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import { limitName, notRegularFile, tooLarge } from '../engine/confinedPath';

/**
 * The bytes of `file` when it is a regular file of at most `maxBytes` (`limit` names that limit in the
 * refusal: "the 256 MiB ConvLens reads from an image file"; by default as confinedPath.ts names it). It is judged by `stat` before it is opened,
 * opened without blocking, and judged again through the handle, so a file swapped in between is caught
 * too; no more than the size seen is read. A refusal is `refuse(reason)`, the reason a predicate ("is a
 * FIFO (named pipe), not a regular file."); a missing file rejects with Node's own error.
 */
export async function readRegularFile(
  file: string,
  maxBytes: number,
  refuse: (reason: string) => Error,
  limit = limitName(maxBytes),
): Promise<Uint8Array> {
  const judge = (info: Stats) => {
    if (!info.isFile()) throw refuse(notRegularFile(kindOf(info)));
    if (info.size > maxBytes) throw refuse(tooLarge(info.size, maxBytes, limit));
  };
  judge(await fs.stat(file));
  // O_NONBLOCK does not exist on Windows, where FIFOs are not files at all.
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = await handle.stat();
    judge(info);
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

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'a special file';
}
