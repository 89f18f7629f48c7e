/**
 * How readers get bytes: the opened file and the files beside it (weight shards, labels).
 * The extension host implements it over `vscode.workspace.fs`, the tests and tools over Node's `fs`,
 * so the engine itself never touches a file system.
 */
import type { Limits } from './limits';

export interface ModelSource {
  /** Base name of the opened file, used in messages and to pick a reader. */
  readonly fileName: string;
  /** Budgets the readers check before work (limits.ts): the user's settings or flags; defaults where absent. */
  readonly limits?: Partial<Limits>;
  read(): Promise<Uint8Array>;
  /**
   * Reads a file by a path relative to the opened file's folder. Every implementation keeps to the
   * rule in confinedPath.ts, rejecting with a RefusedFileError (a ModelReadError naming the model file)
   * for a path that is absolute, has `..`, a backslash or a NUL, leads (through symbolic links too)
   * outside the folder, is not a regular file, or is larger than `maxBytes` (checked before reading;
   * DEFAULT_MAX_BYTES when not given). A missing file rejects with the source's own error.
   */
  readSibling(relativePath: string, options?: SiblingReadOptions): Promise<Uint8Array>;
}

export interface SiblingReadOptions {
  /** The most bytes the file may hold: what the model declares for it, where it declares a size. */
  maxBytes?: number;
}
