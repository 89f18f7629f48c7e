/**
 * The one contract between the extension host and the model viewer webview.
 * Every message is a member of one of the two unions below; nothing else crosses.
 */
import type { ModelSummary } from '../engine/model';

export type HostMessage =
  /** The model to show; sent whenever the webview reports it is ready. */
  | { type: 'showModel'; model: ModelSummary }
  /** The model could not be read: `message` names the file and the problem. */
  | { type: 'showError'; message: string }
  /** Select a layer (by its id) and scroll it into view, e.g. after a click in the sidebar tree. */
  | { type: 'revealLayer'; layerId: string };

export type WebviewMessage =
  | { type: 'ready' }
  /** Which TensorFlow.js backend the webview runs on, and why it fell back to CPU if it did. */
  | { type: 'backendReady'; backend: string; fallbackReason?: string }
  | { type: 'layerSelected'; layerId: string };

/** What the webview keeps across being hidden and shown again (vscode.setState). */
export interface WebviewState {
  model?: ModelSummary;
  error?: string;
  selectedLayerId?: string;
}
