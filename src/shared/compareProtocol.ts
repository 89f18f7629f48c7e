/**
 * The contract between the extension host and the Compare Models webview: what every panel exchanges
 * (panelProtocol.ts) and Compare's own messages. The page runs both models; the host hands it the
 * images and the files of each model, each model's from its own folder only: model A's through the
 * common `readFile`, model B's through `readFileB`, under the same rule.
 */
import type { Limits } from '../engine/limits';
import type { Method } from '../engine/explain/methods';
import type { Colormap } from '../engine/render/colormaps';
import type { ExplainImage } from './explainProtocol';
import type { Ask } from './messaging';
import type { FileContents, PanelHostMessage, PanelProtocol, PanelWebviewAsks, PanelWebviewMessage } from './panelProtocol';
import type { BackendPreference } from './protocol';

export interface ComparedModel {
  /** The model file's base name, as its reader takes it. */
  fileName: string;
  /** Where it is, relative to the workspace: what tells two `model.json` apart. */
  path: string;
}

export type CompareHostMessage =
  | PanelHostMessage
  /** What to compare: the two models (their bytes come on request) and the images to run them on. */
  | {
      type: 'compare';
      a: ComparedModel;
      b: ComparedModel;
      images: ExplainImage[];
      method: Method;
      colormap: Colormap;
      backend: BackendPreference;
      limits: Partial<Limits>;
    };

export type CompareWebviewMessage =
  | PanelWebviewMessage
  /** Both models ran: for tests and the status line. */
  | { type: 'compared'; layers: number; images: number; changed: number; method: Method };

export type CompareWebviewAsks = {
  /** A file of model B, by its path relative to B's folder ('' for the model file itself); as `readFile` is for A. */
  readFileB: Ask<PanelWebviewAsks['readFile']['payload'], FileContents>;
};

export type CompareProtocol = PanelProtocol<CompareHostMessage, CompareWebviewMessage, CompareWebviewAsks>;
