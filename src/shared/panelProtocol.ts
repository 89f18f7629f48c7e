/**
 * The messages every ConvLens webview exchanges with its host the same way — the viewer, Explain and
 * Analyze all run the model in the page: it says it is ready, asks for the model's files (webviews
 * cannot read the workspace), reports errors and long work (with cancel), and hands over PNGs to save.
 * Each view's protocol adds its own messages to these unions (protocol.ts, explainProtocol.ts,
 * analyzeProtocol.ts); the host serves these in panels/common/modelPanel.ts, the page in webview/common/channel.ts.
 */
import type { Ask, Asks } from './messaging';

/** The answer to `readFile`: the bytes, or why they cannot be read (`refused`: the rule forbids it, see confinedPath.ts). */
export interface FileContents {
  bytes?: ArrayBuffer;
  error?: string;
  refused?: string;
}

/** Host to page. */
export type PanelHostMessage =
  /** The user cancelled the long computation in VS Code's progress notification. */
  { type: 'cancel' };

/** Page to host. */
export type PanelWebviewMessage =
  /** The page is loaded (or reloaded after being hidden) and wants what to show. */
  | { type: 'ready' }
  /** Something went wrong in the webview: `message` names the file and the reason. */
  | { type: 'error'; message: string }
  /** A PNG (as bytes) the user asked to save. */
  | { type: 'exportPng'; suggestedName: string; bytes: ArrayBuffer }
  /** A long computation started (show progress), advanced, or ended. */
  | { type: 'progress'; title: string; done: number; total: number }
  | { type: 'progressEnd' };

/** Requests the page makes. */
export type PanelWebviewAsks = {
  /**
   * A file of the model, by its path relative to the model file's folder ('' for the model file itself),
   * of at most `maxBytes` where the model declares its size.
   */
  readFile: Ask<{ path: string; maxBytes?: number }, FileContents>;
};

/** A view's whole protocol: what its host sends and what its page sends, each the common part and its own. */
export interface PanelProtocol<
  HostMessage extends { type: string } = PanelHostMessage,
  WebviewMessage extends { type: string } = PanelWebviewMessage,
  WebviewAsks extends Asks = PanelWebviewAsks,
> {
  host: { notes: HostMessage | PanelHostMessage; asks: Record<never, never> };
  page: { notes: WebviewMessage | PanelWebviewMessage; asks: WebviewAsks & PanelWebviewAsks };
}

/** Any view's protocol: what the code every panel shares is written for. */
export type AnyPanelProtocol = PanelProtocol<{ type: string }, { type: string }, Asks>;
