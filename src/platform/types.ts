/**
 * What the extension host can do beyond the VS Code API, per platform. The Node build (desktop, Remote,
 * code-server) reads the disk it runs on directly; the browser build (vscode.dev, github.dev: a web
 * worker) has no disk and goes through `vscode.workspace.fs` for everything. esbuild.mjs bundles
 * `<name>.web.ts` in place of `<name>.ts` for the browser.
 */
import type { Limits } from '../engine/limits';
import type { NativeFolderPass, SummarisedBatch } from '../node/folderPassMessages';

export type { NativeFolderPass, SummarisedBatch };

export interface LocalDisk {
  /** A regular file's bytes, judged before reading (size, FIFO, device); `refuse` makes the error that says why not. */
  readRegularFile(path: string, maxBytes: number, refuse: (reason: string) => Error, limitName: string): Promise<Uint8Array>;
  stat(path: string): Promise<{ size: number; mtime: number }>;
  /** The path with every symbolic link resolved; rejects when nothing is there. */
  realpath(path: string): Promise<string>;
  /** Whether anything at all is at `path`, a link to nowhere included. */
  exists(path: string): Promise<boolean>;
  /** The separator of the paths above. */
  separator: string;
}

/** Starts a native folder pass on an ONNX file; rejects with the reason where it cannot run it. */
export type StartNativeFolderPass = (modelFile: string, limits: Partial<Limits>) => Promise<NativeFolderPass>;
