/**
 * `vscode` is not available to unit tests: this stand-in gives the host code `Uri` and
 * `workspace.fs` over the disk, with VS Code's conventions: `stat` and `readDirectory` follow links and
 * flag them FileType.SymbolicLink with their target's type, and report FIFOs and devices as
 * FileType.Unknown. Under a scheme other than `file` the same disk stands for a virtual file system.
 * `importWithVscode` loads a host module with the stand-in in place of `vscode`.
 */
import { promises as fs } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

export const FileType = { Unknown: 0, File: 1, Directory: 2, SymbolicLink: 64 } as const;

export class Uri {
  constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  get fsPath(): string {
    return this.path;
  }
  static file(file: string): Uri {
    return new Uri('file', file);
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return new Uri(base.scheme, path.posix.join(base.path, ...segments));
  }
}

async function typeOf(file: string): Promise<{ type: number; size: number }> {
  const link = await fs.lstat(file);
  const info = link.isSymbolicLink() ? await fs.stat(file).catch(() => undefined) : link;
  const type = info?.isFile() ? FileType.File : info?.isDirectory() ? FileType.Directory : FileType.Unknown;
  return { type: type | (link.isSymbolicLink() ? FileType.SymbolicLink : 0), size: info?.size ?? 0 };
}

export const vscodeStandIn = {
  Uri,
  FileType,
  workspace: {
    fs: {
      async stat(uri: Uri) {
        return { ...(await typeOf(uri.path)), ctime: 0, mtime: 0 };
      },
      readFile: async (uri: Uri) => new Uint8Array(await fs.readFile(uri.path)),
      readDirectory: async (uri: Uri) =>
        Promise.all((await fs.readdir(uri.path)).map(async (name) => [name, (await typeOf(path.join(uri.path, name))).type] as const)),
    },
  },
  window: {},
};

let installed = false;

/** Imports a module of the extension host with the stand-in answering `import 'vscode'`. */
export async function importWithVscode<T>(load: () => Promise<T>): Promise<T> {
  if (!installed) {
    const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const original = loader._load;
    loader._load = function (request: string, ...rest: unknown[]) {
      return request === 'vscode' ? vscodeStandIn : original.call(this, request, ...rest);
    };
    installed = true;
  }
  return load();
}
