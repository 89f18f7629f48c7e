/**
 * The contract between the extension host and the Analyze Images webview. The webview runs the
 * model over the folder (TensorFlow.js); the host lists the folder, serves the files, keeps the
 * feature cache, and opens images and explanations the user asks for.
 */
import type { Limits } from '../engine/limits';
import type { ModelPanelHostMessage, ModelPanelWebviewMessage } from './modelPanelProtocol';
import type { BackendPreference } from './protocol';

export interface FolderEntry {
  /** Relative to the analysed folder, '/'-separated. */
  path: string;
  /** The class subfolder's name, when the folder has one subfolder per class. */
  label?: string;
}

/** What the webview computed for a folder, as the cache stores it (plain arrays cross intact). */
export interface CachedFeatures {
  featureLayer: string;
  dim: number;
  features: ArrayBuffer;
  predicted: ArrayBuffer;
  confidence: ArrayBuffer;
  /** Images left out because they cannot be decoded: path and reason. */
  problems: [string, string][];
}

/** A rectangle in an image's own pixels; right and bottom exclusive. */
export interface ImageRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export type AnalyzeHostMessage =
  | ModelPanelHostMessage
  | { type: 'analyze'; modelFileName: string; folderName: string; images: FolderEntry[]; backend: BackendPreference; limits: Partial<Limits> }
  /**
   * Features found in the cache for this model, preprocessing, layer and the folder as it is now; and
   * the folder's images' total size (from the same stats), by which the webview plans its reads.
   */
  | { type: 'cached'; requestId: number; features?: CachedFeatures; imageBytes: number }
  /** The answer to `readImages`: each image's bytes, or why it cannot be read. */
  | { type: 'images'; requestId: number; files: { path: string; bytes?: ArrayBuffer; error?: string }[] };

export type AnalyzeWebviewMessage =
  | ModelPanelWebviewMessage
  | { type: 'ready' }
  | { type: 'readImages'; requestId: number; paths: string[] }
  /** Asks for cached features; `key` names the model's preprocessing and the layer. */
  | { type: 'lookupCache'; requestId: number; key: string }
  | { type: 'storeCache'; key: string; features: CachedFeatures }
  /** Open an image of the folder in VS Code (the webview marks regions in its own preview). */
  | { type: 'openImage'; path: string }
  | { type: 'explainImage'; path: string }
  | { type: 'exportPng'; suggestedName: string; bytes: ArrayBuffer }
  /** A view finished drawing: for tests and the status line. */
  | { type: 'rendered'; view: string; detail: string };
