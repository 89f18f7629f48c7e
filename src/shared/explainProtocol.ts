/**
 * The contract between the extension host and the Explain webview. The webview runs the model
 * (TensorFlow.js on WebGL); the host only hands it files, since webviews cannot read the workspace.
 */
import type { Limits } from '../engine/limits';
import type { Method } from '../engine/explain/methods';
import type { Colormap } from '../engine/render/colormaps';
import type { ModelPanelHostMessage, ModelPanelWebviewMessage } from './modelPanelProtocol';
import type { BackendPreference } from './protocol';

export interface ExplainImage {
  /** The file name shown to the user. */
  name: string;
  /** An ArrayBuffer: the one binary form that crosses into a webview intact. */
  bytes: ArrayBuffer;
}

export interface ExplainSettings {
  method: Method;
  colormap: Colormap;
  /** Heatmap opacity over the image, 0 to 1. */
  alpha: number;
}

export type ExplainHostMessage =
  | ModelPanelHostMessage
  /** What to explain: the model (its file name; its bytes come on request) and the images. */
  | { type: 'explain'; modelFileName: string; images: ExplainImage[]; settings: ExplainSettings; backend: BackendPreference; limits: Partial<Limits> };

export type ExplainWebviewMessage =
  | ModelPanelWebviewMessage
  | { type: 'ready' }
  /** A PNG (as bytes) the user asked to save. */
  | { type: 'exportPng'; suggestedName: string; bytes: ArrayBuffer }
  /** The maps are on screen: the method, layer and class shown, for tests and the status bar. */
  | { type: 'rendered'; method: Method; layer?: string; classIndex: number[]; backend: string };
