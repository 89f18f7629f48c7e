/** The Explain webview's side of the host channel, and the model's files read through it. */
import type { ModelSource } from '../../src/engine/modelSource';
import type { ExplainHostMessage, ExplainWebviewMessage } from '../../src/shared/explainProtocol';

interface VsCodeApi {
  postMessage(message: ExplainWebviewMessage): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
const pending = new Map<number, { resolve: (bytes: Uint8Array) => void; reject: (error: Error) => void }>();
let nextRequest = 1;

export function postToHost(message: ExplainWebviewMessage): void {
  api.postMessage(message);
}

export function onHostMessage(handler: (message: ExplainHostMessage) => void): void {
  window.addEventListener('message', (event: MessageEvent<ExplainHostMessage>) => {
    const message = event.data;
    if (message.type !== 'fileContents') return handler(message);
    const request = pending.get(message.requestId);
    pending.delete(message.requestId);
    if (message.bytes) request?.resolve(new Uint8Array(message.bytes));
    else request?.reject(new Error(message.error ?? 'the file cannot be read'));
  });
}

function readFile(path: string): Promise<Uint8Array> {
  const requestId = nextRequest++;
  return new Promise((resolve, reject) => {
    pending.set(requestId, { resolve, reject });
    postToHost({ type: 'readFile', requestId, path });
  });
}

/** The model file and the files beside it, served by the host from the workspace. */
export function hostModelSource(fileName: string): ModelSource {
  return { fileName, read: () => readFile(''), readSibling: (path) => readFile(path) };
}
