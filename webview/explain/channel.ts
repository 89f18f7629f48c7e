/** The Explain webview's side of the host channel, and the model's files read through it. */
import type { Limits } from '../../src/engine/limits';
import type { ModelSource } from '../../src/engine/modelSource';
import type { ExplainHostMessage, ExplainWebviewMessage } from '../../src/shared/explainProtocol';
import { hostFiles } from '../common/hostFiles';

interface VsCodeApi {
  postMessage(message: ExplainWebviewMessage): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
const files = hostFiles((request) => postToHost(request));

export function postToHost(message: ExplainWebviewMessage): void {
  api.postMessage(message);
}

export function onHostMessage(handler: (message: ExplainHostMessage) => void): void {
  window.addEventListener('message', (event: MessageEvent<ExplainHostMessage>) => {
    const message = event.data;
    if (message.type === 'fileContents') files.receive(message);
    else handler(message);
  });
}

/** The model file and the files beside it, served by the host from the workspace. */
export function hostModelSource(fileName: string, limits?: Partial<Limits>): ModelSource {
  return files.modelSource(fileName, limits);
}
