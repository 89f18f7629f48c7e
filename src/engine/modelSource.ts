/**
 * How readers get bytes: the opened file and the files beside it (weight shards, labels).
 * The extension host implements it over `vscode.workspace.fs`, the tests and tools over Node's `fs`,
 * so the engine itself never touches a file system.
 */
export interface ModelSource {
  /** Base name of the opened file, used in messages and to pick a reader. */
  readonly fileName: string;
  read(): Promise<Uint8Array>;
  /** Reads a file by a path relative to the opened file's folder. */
  readSibling(relativePath: string): Promise<Uint8Array>;
}
