/**
 * A webview's way to the model's files: it asks the host (`readFile`) and the host answers
 * (`fileContents`); webviews cannot read the workspace themselves.
 */
import type { ModelSource } from '../src/engine/modelSource';

export interface FileContents {
  type: 'fileContents';
  requestId: number;
  bytes?: ArrayBuffer;
  error?: string;
}

export interface HostFiles {
  /** The model file and the files beside it. */
  modelSource(fileName: string): ModelSource;
  /** Hands an answer from the host to the request waiting for it. */
  receive(answer: FileContents): void;
}

export function hostFiles(ask: (request: { type: 'readFile'; requestId: number; path: string }) => void): HostFiles {
  const pending = new Map<number, { resolve: (bytes: Uint8Array) => void; reject: (error: Error) => void }>();
  let nextRequest = 1;
  const readFile = (path: string) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const requestId = nextRequest++;
      pending.set(requestId, { resolve, reject });
      ask({ type: 'readFile', requestId, path });
    });
  return {
    modelSource: (fileName) => ({ fileName, read: () => readFile(''), readSibling: (path) => readFile(path) }),
    receive(answer) {
      const request = pending.get(answer.requestId);
      pending.delete(answer.requestId);
      if (answer.bytes) request?.resolve(new Uint8Array(answer.bytes));
      else request?.reject(new Error(answer.error ?? 'the file cannot be read'));
    },
  };
}
