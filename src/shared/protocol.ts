/**
 * The one contract between the extension host and the model viewer webview.
 * Every message is a member of one of the two unions below; nothing else crosses.
 *
 * The host reads the model's summary (fast, no weights) for the layer tree; the webview loads the
 * model itself, through `readFile`, to draw filters and feature maps with TensorFlow.js.
 */
import type { Limits } from '../engine/limits';
import type { ModelSummary } from '../engine/model';
import type { PreprocessingSettings } from '../engine/preprocess';

export type HostMessage =
  /** The model to show; sent whenever the webview reports it is ready. */
  | { type: 'showModel'; model: ModelSummary; backend: BackendPreference; limits: Partial<Limits> }
  /** The model could not be read: `message` names the file and the problem. */
  | { type: 'showError'; message: string }
  /** Select a layer (by its id) and scroll it into view, e.g. after a click in the sidebar tree. */
  | { type: 'revealLayer'; layerId: string }
  /** The answer to `readFile`: the bytes, or why they cannot be read (`refused`: the rule forbids it, see confinedPath.ts). */
  | { type: 'fileContents'; requestId: number; bytes?: ArrayBuffer; error?: string; refused?: string }
  /** An image to show feature maps for (picked in a dialog, dropped, or chosen in the explorer). */
  | { type: 'showImage'; name: string; bytes: ArrayBuffer }
  /** The sidecar was written (reload the model to use it), or could not be (`error`). */
  | { type: 'preprocessingSaved'; error?: string };

export type WebviewMessage =
  | { type: 'ready' }
  /** Which TensorFlow.js backend the webview runs on, and why it fell back to CPU if it did. */
  | { type: 'backendReady'; backend: string; fallbackReason?: string }
  | { type: 'layerSelected'; layerId: string }
  /**
   * A file of the model, by its path relative to the model file's folder ('' for the model file itself),
   * of at most `maxBytes` where the model declares its size.
   */
  | { type: 'readFile'; requestId: number; path: string; maxBytes?: number }
  /** The user wants to choose an image (a file dialog on the host). */
  | { type: 'chooseImage' }
  /** Files dropped from VS Code's explorer arrive as URIs, which only the host can read. */
  | { type: 'openImageUri'; uri: string }
  /** Something went wrong in the webview: `message` names the file and the reason. */
  | { type: 'error'; message: string }
  /** A PNG (as bytes) the user asked to save. */
  | { type: 'exportPng'; suggestedName: string; bytes: ArrayBuffer }
  /** Save these settings to the model's `<model>.convlens.json` sidecar (other keys there are kept). */
  | { type: 'savePreprocessing'; settings: PreprocessingSettings };

/** The `convlens.backend` setting. */
export type BackendPreference = 'auto' | 'webgl' | 'wasm' | 'cpu';

/** What the webview keeps across being hidden and shown again (vscode.setState). */
export interface WebviewState {
  model?: ModelSummary;
  backend?: BackendPreference;
  /** The budgets the host's settings allow (limits.ts). */
  limits?: Partial<Limits>;
  error?: string;
  selectedLayerId?: string;
  inspectorTab?: 'filters' | 'feature-maps';
}
