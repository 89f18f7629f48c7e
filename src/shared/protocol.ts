/**
 * The contract between the extension host and the model viewer webview: what every panel exchanges
 * (panelProtocol.ts) and the viewer's own messages below; nothing else crosses.
 *
 * The host reads the model's summary (fast, no weights) for the layer tree; the webview loads the
 * model itself, through `readFile`, to draw filters and feature maps with TensorFlow.js.
 */
import type { Limits } from '../engine/limits';
import type { ModelSummary } from '../engine/model';
import type { PreprocessingSettings } from '../engine/preprocess';
import type { PanelHostMessage, PanelProtocol, PanelWebviewMessage } from './panelProtocol';

export type HostMessage =
  | PanelHostMessage
  /** The model to show; sent whenever the webview reports it is ready. */
  | { type: 'showModel'; model: ModelSummary; backend: BackendPreference; limits: Partial<Limits> }
  /** The model could not be read: `message` names the file and the problem. */
  | { type: 'showError'; message: string }
  /** Select a layer (by its id) and scroll it into view, e.g. after a click in the sidebar tree. */
  | { type: 'revealLayer'; layerId: string }
  /** An image to show feature maps for (picked in a dialog, dropped, or chosen in the explorer). */
  | { type: 'showImage'; name: string; bytes: ArrayBuffer }
  /** The sidecar was written (reload the model to use it), or could not be (`error`). */
  | { type: 'preprocessingSaved'; error?: string };

export type WebviewMessage =
  | PanelWebviewMessage
  /** Which TensorFlow.js backend the webview runs on, and why it fell back to CPU if it did. */
  | { type: 'backendReady'; backend: string; fallbackReason?: string }
  | { type: 'layerSelected'; layerId: string }
  /** The user wants to choose an image (a file dialog on the host). */
  | { type: 'chooseImage' }
  /** Files dropped from VS Code's explorer arrive as URIs, which only the host can read. */
  | { type: 'openImageUri'; uri: string }
  /** Save these settings to the model's `<model>.convlens.json` sidecar (other keys there are kept). */
  | { type: 'savePreprocessing'; settings: PreprocessingSettings };

export type ViewerProtocol = PanelProtocol<HostMessage, WebviewMessage>;

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
  inspectorTab?: 'filters' | 'feature-maps' | 'statistics';
}
