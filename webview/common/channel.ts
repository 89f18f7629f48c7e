/**
 * The page's end of its channel to the host, for every view: the shared channel (messaging.ts) over
 * VS Code's webview API, the model's files read through it (hostFiles.ts), and the state VS Code keeps
 * for the page while it is hidden. Each view passes its protocol; a view's own requests go through
 * `request`.
 */
import type { Limits } from '../../src/engine/limits';
import type { ModelSource } from '../../src/engine/modelSource';
import { createChannel, type Channel } from '../../src/shared/messaging';
import type { AnyPanelProtocol, PanelProtocol } from '../../src/shared/panelProtocol';
import { hostFiles } from './hostFiles';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** VS Code lets a page acquire its API once. */
let api: VsCodeApi | undefined;
const vscodeApi = (): VsCodeApi => (api ??= acquireVsCodeApi());

export interface HostChannel<P extends AnyPanelProtocol> {
  postToHost(message: P['page']['notes']): void;
  /** Calls `handler` with each of the host's notifications (answers to requests never reach it). */
  onHostMessage(handler: (message: P['host']['notes']) => void): void;
  request: Channel<P['page'], P['host']>['request'];
  /** The model file and the files beside it, served by the host from the workspace. */
  hostModelSource(fileName: string, limits?: Partial<Limits>): ModelSource;
}

/** Connects the page to its host; call it once per page. */
export function connectToHost<P extends AnyPanelProtocol>(): HostChannel<P> {
  const channel = createChannel<P['page'], P['host']>((message) => vscodeApi().postMessage(message));
  window.addEventListener('message', (event: MessageEvent<unknown>) => channel.receive(event.data));
  // Through the part every protocol has (TypeScript cannot see it through `P`).
  const common = channel as unknown as Channel<PanelProtocol['page'], PanelProtocol['host']>;
  const files = hostFiles((request) => common.request('readFile', request));
  return {
    postToHost: (message) => channel.notify(message),
    onHostMessage: (handler) => channel.listen(handler),
    request: channel.request,
    hostModelSource: (fileName, limits) => files.modelSource(fileName, limits),
  };
}

/** What VS Code keeps for the page across being hidden and shown again (vscode.setState). */
export function pageState<S extends object>(): { load(): S; save(patch: Partial<S>): void } {
  const load = () => (vscodeApi().getState() ?? {}) as S;
  return { load, save: (patch) => vscodeApi().setState({ ...load(), ...patch }) };
}
