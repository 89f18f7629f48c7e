/**
 * A ModelSource over Node's file system, for tests, benchmarks and the command line. Files beside the
 * model are read under the rule in confinedPath.ts: symbolic links are resolved and must still lead
 * into the (equally resolved) model folder, and only regular files no larger than declared are opened.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_MAX_BYTES,
  isInsideFolder,
  pathSegments,
  pathShapeProblem,
  RefusedFileError,
  REFUSALS,
  sizeLimit,
} from '../engine/confinedPath';
import { ModelReadError } from '../engine/errors';
import type { ModelSource } from '../engine/modelSource';
import { readRegularFile } from './regularFile';

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
