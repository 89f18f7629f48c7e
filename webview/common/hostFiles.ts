/**
 * A webview's way to the model's files: it asks the host (`readFile`, through the page's channel) and
 * the host answers with the bytes or why not; webviews cannot read the workspace themselves. The host
 * applies the rule for files beside a model (confinedPath.ts); a refusal comes back as the same error the
 * host's own reads give (a RefusedFileError, or a ModelReadError for the model file itself), so it is
 * reported in the same words.
 */
import { RefusedFileError } from '../../src/engine/confinedPath';
import { ModelReadError } from '../../src/engine/errors';
import type { Limits } from '../../src/engine/limits';
import type { ModelSource } from '../../src/engine/modelSource';
import type { FileContents, PanelWebviewAsks } from '../../src/shared/panelProtocol';

export interface HostFiles {
  /** The model file and the files beside it. */
  modelSource(fileName: string, limits?: Partial<Limits>): ModelSource;
}

type ReadFileRequest = PanelWebviewAsks['readFile']['payload'];

export function hostFiles(ask: (request: ReadFileRequest) => Promise<FileContents>): HostFiles {
  const readFile = async (path: string, refuse: (reason: string) => Error, maxBytes?: number): Promise<Uint8Array> => {
    const answer = await ask({ path, ...(maxBytes === undefined ? {} : { maxBytes }) });
    if (answer.bytes) return new Uint8Array(answer.bytes);
    if (answer.refused) throw refuse(answer.refused);
    throw new Error(answer.error ?? 'the file cannot be read');
  };
  return {
    modelSource: (fileName, limits) => ({
      fileName,
      limits,
      read: () => readFile('', (reason) => new ModelReadError(fileName, reason)),
      readSibling: (path, { maxBytes } = {}) => readFile(path, (reason) => new RefusedFileError(fileName, path, reason), maxBytes),
    }),
  };
}
