/**
 * Files the command line writes (`--out`, `--json`). A command run on a stranger's model, or by a
 * script with a mistyped path, must not destroy anything: an existing file is replaced only with
 * `--force`, never through a symbolic link, and never when it is a file the command reads (the model,
 * its weights and the files beside it, an input), --force or not.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './usage';

export type OutputOption = '--out' | '--json';

/** A file the command reads, with what it is, for the message when an output would replace it. */
export interface ReadFile {
  file: string;
  /** "the model file", "a file of the model", "an input". */
  role: string;
}

export interface OutputRules {
  force: boolean;
  /** Files the command reads: never replaced. */
  reads: readonly ReadFile[];
}

/**
 * Checks, before the work that makes it, that `file` may be written: its folder exists, and it is
 * absent, or (with --force) a regular file the command does not read.
 */
export async function checkOutput(file: string, option: OutputOption, rules: OutputRules): Promise<void> {
  const folder = path.dirname(file);
  const folderInfo = await stat(folder).catch(() => undefined);
  if (!folderInfo) throw new InputError(`the folder ${folder} for ${option} does not exist`);
  if (!folderInfo.isDirectory()) throw new InputError(`${folder} (the folder for ${option}) is not a folder`);
  const info = await lstat(file).catch(() => undefined);
  if (!info) return;
  if (info.isSymbolicLink()) throw symbolicLink(file, option);
  if (!info.isFile()) throw new InputError(`${file} for ${option} is not a regular file; choose a file name`);
  const read = await findRead(info, rules.reads);
  if (read) throw new InputError(`${file} for ${option} is ${read.role}; ConvLens never writes over a file it reads`);
  if (!rules.force) throw new InputError(`${file} for ${option} already exists; add --force to replace it`);
}

/**
 * Writes `data` to a file `checkOutput` allowed. The open itself refuses a symbolic link (O_NOFOLLOW)
 * and, without --force, a file that appeared since the check (O_EXCL).
 */
export async function writeOutput(file: string, data: string | Uint8Array, option: OutputOption, force: boolean): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | (force ? constants.O_TRUNC : constants.O_EXCL) | (constants.O_NOFOLLOW ?? 0);
  let handle;
  try {
    handle = await open(file, flags, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InputError(`${file} for ${option} already exists; add --force to replace it`);
    if (code === 'ELOOP') throw symbolicLink(file, option);
    if (code === 'ENOENT') throw new InputError(`the folder ${path.dirname(file)} for ${option} does not exist`);
    if (code === 'EISDIR') throw new InputError(`${file} for ${option} is not a regular file; choose a file name`);
    throw new InputError(`${file} for ${option} cannot be written (${code ?? (error as Error).message})`);
  }
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

function symbolicLink(file: string, option: OutputOption): InputError {
  return new InputError(
    `${file} for ${option} is a symbolic link; ConvLens does not write through links (remove it or choose another name)`,
  );
}

/** The read file that is the same file as `info` (same device and inode: hard links and other spellings too). */
async function findRead(info: Stats, reads: readonly ReadFile[]): Promise<ReadFile | undefined> {
  for (const read of reads) {
    const other = await stat(read.file).catch(() => undefined);
    if (other && other.dev === info.dev && other.ino === info.ino) return read;
  }
  return undefined;
}
