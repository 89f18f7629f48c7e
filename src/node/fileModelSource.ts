/** A ModelSource over Node's file system, for tests, benchmarks and the command line. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModelSource } from '../engine/modelSource';

export function fileModelSource(filePath: string): ModelSource {
  const folder = path.dirname(filePath);
  return {
    fileName: path.basename(filePath),
    read: async () => new Uint8Array(await fs.readFile(filePath)),
    readSibling: async (relativePath) => new Uint8Array(await fs.readFile(path.resolve(folder, relativePath))),
  };
}
