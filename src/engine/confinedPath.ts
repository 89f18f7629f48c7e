/**
 * The one rule for every file a model pulls in beside itself (weight shards, ONNX external data,
 * labels, metadata, the settings sidecar): a model file may come from a stranger's repository, so what
 * it names must be a plain relative path that stays in the model's folder, lead to a regular file (not a
 * device, FIFO or socket) and be no larger than the model declares.
 *
 * This module holds the checks that need no file system; every ModelSource (Node, the extension host,
 * the webview's host) applies them, then checks what only it can see: where symbolic links lead, what
 * kind of file is there and its size.
 */
import { ModelReadError } from './errors';
import type { ModelSource } from './modelSource';

/** What a file beside a model may hold when the model does not declare its size (Node's own readFile limit). */
export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;

/** Label lists, metadata and sidecars are small text files; anything much larger is not one. */
export const TEXT_FILE_MAX_BYTES = 64 * 1024 ** 2;

const ONLY_IN_FOLDER = "ConvLens reads only files in the model's folder.";

/** Why a file is refused, as the clause after "which": each reads as the end of one sentence. */
export const REFUSALS = {
  notAName: 'is not a file name.',
  empty: 'is an empty file name.',
  nul: 'has a NUL character in its name.',
  backslash: "has a backslash in its path; ConvLens reads only files in the model's folder, named with forward slashes.",
  absolute: `is an absolute path; ${ONLY_IN_FOLDER}`,
  outside: `is outside the model's folder; ${ONLY_IN_FOLDER}`,
  linkOutside: `leads through a symbolic link to outside the model's folder; ${ONLY_IN_FOLDER}`,
  unverifiableLink: `is a symbolic link, which ConvLens cannot follow safely in this workspace; ${ONLY_IN_FOLDER}`,
} as const;

/** The refusal for something that is there but is not a regular file: `kind` is "a FIFO", "a folder"… */
export function notRegularFile(kind: string): string {
  return `is ${kind}, not a regular file.`;
}

/** The refusal for a file larger than `maxBytes`: one of the limits above, or the size the model declares. */
export function tooLarge(size: number, maxBytes: number, limit = limitName(maxBytes)): string {
  return `is ${byteSize(size)}, more than ${limit}.`;
}

/** What `maxBytes` is, in the words of a refusal: "the 2 GiB ConvLens reads from one file". */
export function limitName(maxBytes: number): string {
  if (maxBytes === DEFAULT_MAX_BYTES) return 'the 2 GiB ConvLens reads from one file';
  if (maxBytes === TEXT_FILE_MAX_BYTES) return 'the 64 MiB ConvLens reads from a text file';
  return `the ${byteSize(maxBytes)} the model declares for it`;
}

/**
 * A file the model names that ConvLens will not read. Readers that know what the file is for say so
 * with `as` ("lists the weight file …"); a missing file is not a refusal (readers decide whether that
 * matters), so sources throw their own error for it.
 */
export class RefusedFileError extends ModelReadError {
  constructor(
    modelFileName: string,
    readonly relativePath: string,
    readonly reason: string,
    role = 'refers to the file',
  ) {
    super(modelFileName, `${role} "${relativePath}", which ${reason}`);
    this.name = 'RefusedFileError';
  }

  /** The same refusal, saying what the file was for: `role` is a predicate such as "lists the weight file". */
  as(role: string): RefusedFileError {
    return new RefusedFileError(this.fileName, this.relativePath, this.reason, role);
  }
}

/**
 * Why `relativePath` cannot name a file in the model's folder, judged by its shape alone; undefined when
 * it can. Backslashes are refused rather than read as separators: on POSIX they are part of a name, on
 * Windows a way round the `..` check, and no exporter writes them.
 */
export function pathShapeProblem(relativePath: unknown): string | undefined {
  if (typeof relativePath !== 'string') return REFUSALS.notAName;
  if (relativePath === '') return REFUSALS.empty;
  if (relativePath.includes('\0')) return REFUSALS.nul;
  if (relativePath.includes('\\')) return REFUSALS.backslash;
  // A drive letter ("C:…") is absolute on Windows; a colon elsewhere in a name is allowed.
  if (relativePath.startsWith('/') || /^[a-z]:/i.test(relativePath)) return REFUSALS.absolute;
  if (relativePath.split('/').includes('..')) return REFUSALS.outside;
  return undefined;
}

/** The path's segments without empty and "." ones, for joining onto the folder (after `pathShapeProblem`). */
export function pathSegments(relativePath: string): string[] {
  return relativePath.split('/').filter((segment) => segment && segment !== '.');
}

/**
 * Whether `target` is `folder` itself or lies under it. Both are absolute and resolved (no `..`, links
 * followed), written with `separator`; a trailing separator on the folder is allowed.
 */
export function isInsideFolder(folder: string, target: string, separator = '/'): boolean {
  const base = folder.endsWith(separator) ? folder.slice(0, -separator.length) : folder;
  return target === base || target.startsWith(base + separator);
}

/** The largest size a file may have: the declared one where it is a sane number, else the default. */
export function sizeLimit(declared: number | undefined): number {
  return declared !== undefined && Number.isSafeInteger(declared) && declared >= 0
    ? Math.min(declared, DEFAULT_MAX_BYTES)
    : DEFAULT_MAX_BYTES;
}

/**
 * Reads a file the model names, for a reader that knows what it is for: a refusal is reported with
 * `role`; any other error (the file is missing, say) is passed on for the reader to judge. The shape of
 * the path is checked here too, so the rule holds whatever the source.
 */
export async function readBeside(source: ModelSource, relativePath: string, role: string, maxBytes?: number): Promise<Uint8Array> {
  const problem = pathShapeProblem(relativePath);
  if (problem) throw new RefusedFileError(source.fileName, String(relativePath), problem).as(role);
  try {
    return await source.readSibling(relativePath, { maxBytes: sizeLimit(maxBytes) });
  } catch (error) {
    throw error instanceof RefusedFileError ? error.as(role) : error;
  }
}

/**
 * An optional file beside the model (labels, metadata, the sidecar): undefined when it is not there or
 * cannot be read, but a refused one is an error, since the model then names a file it should not.
 */
export async function readOptionalBeside(source: ModelSource, relativePath: string, role: string): Promise<Uint8Array | undefined> {
  try {
    return await readBeside(source, relativePath, role, TEXT_FILE_MAX_BYTES);
  } catch (error) {
    if (error instanceof RefusedFileError) throw error;
    return undefined;
  }
}

/** "940 bytes", "1.2 MB": sizes in messages, in the units file managers show. */
export function byteSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** What one image file may weigh: a 100-megapixel PNG is about 300 MB only if it does not compress at all. */
export const IMAGE_FILE_MAX_BYTES = 256 * 1024 ** 2;

/** `limit` for images, in the words of a refusal. */
export const IMAGE_FILE_LIMIT = 'the 256 MiB ConvLens reads from an image file';
