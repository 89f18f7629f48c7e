/**
 * The contract between the extension host and the Explain webview: what every panel exchanges
 * (panelProtocol.ts) and Explain's own messages. The webview runs the model (TensorFlow.js on WebGL);
 * the host only hands it files, since webviews cannot read the workspace.
 */
import type { Limits } from '../engine/limits';
import type { Method } from '../engine/explain/methods';
import type { PreprocessingSettings } from '../engine/preprocess';
import type { Colormap } from '../engine/render/colormaps';
import type { PanelHostMessage, PanelProtocol, PanelWebviewMessage } from './panelProtocol';
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
  /** The CAM family's smoothing: test-time augmentation, and the first principal component of the weighted activations. */
  augSmooth?: boolean;
  eigenSmooth?: boolean;
}

/** One image's first overlay, computed by the extension host (firstOverlays.ts). */
export interface FirstOverlay {
  /** The image's file name, as in `explain`'s images. */
  name: string;
  classIndex: number;
  label: string;
  probability: number;
  score: number;
  /** The map, [height × width] float32 values in 0…1. */
  map: ArrayBuffer;
  width: number;
  height: number;
}

/** The main method's maps of the first images, with what they were computed with. */
export interface FirstOverlays {
  method: Method;
  layer?: string;
  overlays: FirstOverlay[];
}

export type ExplainHostMessage =
  | PanelHostMessage
  /** What to explain: the model (its file name; its bytes come on request) and the images. */
  | {
      type: 'explain';
      modelFileName: string;
      images: ExplainImage[];
      settings: ExplainSettings;
      backend: BackendPreference;
      limits: Partial<Limits>;
    }
  /**
   * The main method's maps of the first images, computed by the extension host while the page starts and
   * loads the model, so the overlays show before the model reaches the page; the page computes its own after.
   */
  | ({ type: 'firstOverlays' } & FirstOverlays);

export type ExplainWebviewMessage =
  | PanelWebviewMessage
  /** The maps are on screen: the method, layer and class shown, for tests and the status bar. */
  | { type: 'rendered'; method: Method; layer?: string; classIndex: number[]; backend: string }
  /** "Check this explanation" finished for an image (for tests). */
  | { type: 'checked'; image: string; method: Method }
  /** "Segment object" drew an image's object, covering this share of it (for tests). */
  | { type: 'segmented'; image: string; share: number }
  /** The method report is on screen, with these methods' rows (for tests). */
  | { type: 'reported'; methods: Method[] }
  /**
   * The user took the suggested preprocessing: the host writes it to the model's sidecar and sends
   * `explain` again, so the page starts over with it.
   */
  | { type: 'usePreprocessing'; settings: PreprocessingSettings };

export type ExplainProtocol = PanelProtocol<ExplainHostMessage, ExplainWebviewMessage>;

/** The performance mark the Explain page sets when its main method's overlays are painted (for timing it). */
export const OVERLAY_PAINTED = 'convlens:overlay-painted';

/** The mark's detail: whose overlays (the host's first ones, or the page's own) of which classes. */
export interface OverlayPainted {
  from: 'host' | 'page';
  classIndex: number[];
}
