/** The webview's side of the host channel: typed posting and the state VS Code keeps for us. */
import type { HostMessage, WebviewMessage, WebviewState } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): WebviewState | undefined;
  setState(state: WebviewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function postToHost(message: WebviewMessage): void {
  api.postMessage(message);
}

export function onHostMessage(handler: (message: HostMessage) => void): void {
  window.addEventListener('message', (event: MessageEvent<HostMessage>) => handler(event.data));
}

export function loadState(): WebviewState {
  return api.getState() ?? {};
}

export function saveState(patch: Partial<WebviewState>): void {
  api.setState({ ...loadState(), ...patch });
}
