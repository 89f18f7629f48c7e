/**
 * The contract between the extension host and the Analyze Images webview: what every panel exchanges
 * (panelProtocol.ts) and Analyze's own messages and requests. The webview runs the model over the
 * folder (TensorFlow.js), or, where the host has a native runtime for it (an ONNX file in a Node
 * extension host), asks the host for each batch's summary; the host lists the folder, serves the
 * files, keeps the feature cache, and opens images and explanations the user asks for.
 */
import type { Limits } from '../engine/limits';
import type { Preprocessing } from '../engine/preprocess';
import type { Ask } from './messaging';
import type { PanelHostMessage, PanelProtocol, PanelWebviewMessage } from './panelProtocol';
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

/** A batch summarised by the host's native pass (dataset/features.ts's BatchSummary; plain buffers cross intact). */
export interface HostBatch {
  features: ArrayBuffer;
  dim: number;
  scores: ArrayBuffer;
  classCount: number;
  peaks?: { values: ArrayBuffer; positions: ArrayBuffer; channels: number; height: number; width: number };
  /** Images left out because they cannot be read or decoded: path and reason. */
  problems: [string, string][];
}

/** A rectangle in an image's own pixels; right and bottom exclusive. */
export interface ImageRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A folder image as the host sends it: its bytes, or why it cannot be read. */
export interface FolderImage {
  path: string;
  bytes?: ArrayBuffer;
  error?: string;
}

export type AnalyzeHostMessage =
  | PanelHostMessage
  | {
      type: 'analyze';
      modelFileName: string;
      folderName: string;
      images: FolderEntry[];
      backend: BackendPreference;
      limits: Partial<Limits>;
      /** The host may run the folder pass natively: the page asks it first (`openNativePass`). */
      nativePass: boolean;
    };

export type AnalyzeWebviewMessage =
  | PanelWebviewMessage
  | { type: 'storeCache'; key: string; features: CachedFeatures }
  /** Open an image of the folder in VS Code (the webview marks regions in its own preview). */
  | { type: 'openImage'; path: string }
  | { type: 'explainImage'; path: string }
  /** A view finished drawing: for tests and the status line. */
  | { type: 'rendered'; view: string; detail: string };

export type AnalyzeWebviewAsks = {
  /** Folder images (paths relative to the folder): each one's bytes, or why it cannot be read. */
  readImages: Ask<{ paths: string[] }, FolderImage[]>;
  /**
   * Cached features for `key` (it names the model's preprocessing and the layer), if the cache holds
   * them for this model and the folder as it is now; and the folder's images' total size (from the
   * same stats), by which the webview plans its reads.
   */
  lookupCache: Ask<{ key: string }, { features?: CachedFeatures; imageBytes: number }>;
  /** Starts the host's native pass on the model (once per panel); `declined` says why it cannot run it. */
  openNativePass: Ask<Record<string, never>, { declined?: string }>;
  /** The summary of the folder's images [start, end), computed by the host's native pass. */
  summariseNatively: Ask<{ start: number; end: number; preprocessing: Preprocessing; featureLayer: string; peakLayer?: string }, HostBatch>;
};

export type AnalyzeProtocol = PanelProtocol<AnalyzeHostMessage, AnalyzeWebviewMessage, AnalyzeWebviewAsks>;
