/**
 * A webview's way to the model's files: it asks the host (`readFile`) and the host answers
 * (`fileContents`); webviews cannot read the workspace themselves. The host applies the rule for files
 * beside a model (confinedPath.ts); a refusal comes back as the same error the host's own reads give
 * (a RefusedFileError, or a ModelReadError for the model file itself), so it is reported in the same words.
 */
import { RefusedFileError } from '../../src/engine/confinedPath';
import { ModelReadError } from '../../src/engine/errors';
import type { Limits } from '../../src/engine/limits';
import type { ModelSource } from '../../src/engine/modelSource';

export interface FileContents {
  type: 'fileContents';
  requestId: number;
  bytes?: ArrayBuffer;
  error?: string;
  refused?: string;
}

export interface HostFiles {
  /** The model file and the files beside it. */
  modelSource(fileName: string, limits?: Partial<Limits>): ModelSource;
  /** Hands an answer from the host to the request waiting for it. */
  receive(answer: FileContents): void;
}

type ReadFileRequest = { type: 'readFile'; requestId: number; path: string; maxBytes?: number };

export function hostFiles(ask: (request: ReadFileRequest) => void): HostFiles {
  const pending = new Map<number, { resolve: (bytes: Uint8Array) => void; reject: (error: Error) => void; refuse: (reason: string) => Error }>();
  let nextRequest = 1;
  const readFile = (path: string, refuse: (reason: string) => Error, maxBytes?: number) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const requestId = nextRequest++;
      pending.set(requestId, { resolve, reject, refuse });
      ask({ type: 'readFile', requestId, path, ...(maxBytes === undefined ? {} : { maxBytes }) });
    });
  return {
    modelSource: (fileName, limits) => ({
      fileName,
      limits,
      read: () => readFile('', (reason) => new ModelReadError(fileName, reason)),
      readSibling: (path, { maxBytes } = {}) => readFile(path, (reason) => new RefusedFileError(fileName, path, reason), maxBytes),
    }),
    receive(answer) {
      const request = pending.get(answer.requestId);
      pending.delete(answer.requestId);
      if (answer.bytes) request?.resolve(new Uint8Array(answer.bytes));
      else if (answer.refused) request?.reject(request.refuse(answer.refused));
      else request?.reject(new Error(answer.error ?? 'the file cannot be read'));
    },
  };
}
