/**
 * Reading a file the user named (an image or a .npy array on the command line, a folder's images for
 * the panels) only when it is a regular file of bounded size: a FIFO would block the open forever,
 * /dev/zero never ends, and a folder or a socket is no input at all. The rule of fileModelSource.ts's
 * model reads, for inputs.
 */
import { closeSync, constants, fstatSync, openSync, promises as fs, readSync, type Stats, statSync } from 'node:fs';
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
  const seen = statSync(file);
  judge(seen);
  return (seen.size <= BLOCKING_READ_BYTES ? readSmallFile(file, judge) : undefined) ?? readLargeFile(file, judge);
}

/**
 * Files up to this size are read with blocking calls, a few microseconds each: five asynchronous calls
 * a file, each a trip through libuv's thread pool, took 40–110 ms for 500 28×28 PNGs against 7 ms, and
 * while the Analyze panel's host read a folder they took the cores its model ran on. Small enough that a
 * batch of 64 such files holds the extension host for a few milliseconds at most.
 */
const BLOCKING_READ_BYTES = 256 * 2 ** 10;

/** The small file's bytes; undefined if it grew past the blocking size since its `stat`. */
function readSmallFile(file: string, judge: (info: Stats) => void): Uint8Array | undefined {
  // O_NONBLOCK does not exist on Windows, where FIFOs are not files at all.
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = fstatSync(fd);
    judge(info);
    if (info.size > BLOCKING_READ_BYTES) return undefined;
    const bytes = new Uint8Array(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const bytesRead = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === bytes.length ? bytes : bytes.slice(0, filled);
  } finally {
    closeSync(fd);
  }
}

async function readLargeFile(file: string, judge: (info: Stats) => void): Promise<Uint8Array> {
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
