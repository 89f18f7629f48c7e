/** The webview's side of the host channel: typed posting and the state VS Code keeps for us. */
import type { Limits } from '../../src/engine/limits';
import type { ModelSource } from '../../src/engine/modelSource';
import type { HostMessage, WebviewMessage, WebviewState } from '../../src/shared/protocol';
import { hostFiles } from '../common/hostFiles';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): WebviewState | undefined;
  setState(state: WebviewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
const files = hostFiles((request) => postToHost(request));

export function postToHost(message: WebviewMessage): void {
  api.postMessage(message);
}

export function onHostMessage(handler: (message: Exclude<HostMessage, { type: 'fileContents' }>) => void): void {
  window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
    const message = event.data;
    if (message.type === 'fileContents') files.receive(message);
    else handler(message);
  });
}

/** The model file and the files beside it, served by the host from the workspace. */
export function hostModelSource(fileName: string, limits?: Partial<Limits>): ModelSource {
  return files.modelSource(fileName, limits);
}

export function loadState(): WebviewState {
  return api.getState() ?? {};
}

export function saveState(patch: Partial<WebviewState>): void {
  api.setState({ ...loadState(), ...patch });
}
