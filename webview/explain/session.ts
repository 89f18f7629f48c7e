/**
 * One Explain page's work: the opened model, the images and their predictions, the choices the user
 * made (kept across a page rebuilt for a new checkpoint), and the explanations, computed one request at
 * a time; a newer request cancels a running long one at its next batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { explain } from '../../src/engine/explain';
import { isLongRequest, METHOD_LABELS, usesTargetLayer, type Method } from '../../src/engine/explain/methods';
import { camTargetLayers, defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import { sidecarName } from '../../src/engine/modelInput';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { describePreprocessing } from '../../src/engine/preprocess';
import { scalingWords } from '../../src/engine/preprocessDefaults';
import { suggestPreprocessing, UNCERTAIN_BELOW, type PreprocessingSuggestion } from '../../src/engine/preprocessSuggestion';
import { ExplanationCancelled } from '../../src/engine/progress';
import { overlay } from '../../src/engine/render/overlay';
import type { ExplainHostMessage, ExplainProtocol, ExplainSettings } from '../../src/shared/explainProtocol';
import type { HostChannel } from '../common/channel';
import { canvasPng } from '../common/images';
import { safely } from '../common/safely';
import { BACKEND_LABELS, backendTitle, initBackend, type BackendName } from '../common/tfBackend';
import { loadImages, type LoadedImage } from './loadImages';
import { createExplainView, type ExplainView } from './view';

type StartMessage = Extract<ExplainHostMessage, { type: 'explain' }>;

/** What the page keeps of the user's choices (vscode.setState), over the host's defaults. */
export interface KeptChoices {
  settings?: ExplainSettings;
  layer?: string;
  compared?: Method[];
}

export interface PageStore {
  load(): KeptChoices;
  save(patch: Partial<KeptChoices>): void;
}

export class ExplainSession {
  private opened?: OpenedModel;
  private images: LoadedImage[] = [];
  private input?: tf.Tensor4D;
  private view?: ExplainView;
  private settings!: ExplainSettings;
  /** Methods shown beside the main one, for comparison. */
  private compared: Method[] = [];
  private layer?: string;
  private backend: BackendName = 'cpu';
  private token = { cancelled: false };
  /** Explanations run one at a time. */
  private running: Promise<void> = Promise.resolve();
  /** The preprocessing offered, when the first image's predictions look uncertain under the current one. */
  private suggestion?: PreprocessingSuggestion;

  constructor(
    private readonly host: Pick<HostChannel<ExplainProtocol>, 'postToHost' | 'hostModelSource'>,
    private readonly show: (element: HTMLElement) => void,
    private readonly store: PageStore,
  ) {}

  /** Opens the model on the images; sent again after the user took a suggested preprocessing, it starts over. */
  async start(message: StartMessage): Promise<void> {
    this.cancel();
    await this.running;
    this.release();
    const kept = this.store.load();
    this.settings = { ...message.settings, ...kept.settings };
    this.compared = kept.compared ?? [];
    let problems: string[] = [];
    const choice = await initBackend(message.backend);
    this.backend = choice.backend;
    try {
      this.opened = await openModel(this.host.hostModelSource(message.modelFileName, message.limits));
      ({ loaded: this.images, problems, input: this.input } = await loadImages(message.images, this.opened));
    } catch (error) {
      // The panel shows only the error now: free the model's weights.
      this.release();
      throw error;
    }
    const { model, input: resolved, labels } = this.opened;
    const layers = camTargetLayers(model);
    this.layer = kept.layer && layers.includes(kept.layer) ? kept.layer : safely(() => defaultTargetLayer(model));
    this.view = createExplainView({
      modelName: model.summary.name,
      modelFileName: message.modelFileName,
      preprocessing: `${describePreprocessing(resolved.preprocessing)}${resolved.sidecar ? ` (from ${resolved.sidecar})` : ''}`,
      preprocessingReason: resolved.sidecar
        ? `The model's own default: ${describePreprocessing(resolved.detected)} — ${resolved.reason}.`
        : `Why: ${resolved.reason}.`,
      labelsOrigin: labels?.origin,
      backend: BACKEND_LABELS[choice.backend],
      backendNotice: choice.fallback ? choice.reason : undefined,
      layers,
      layer: this.layer,
      settings: this.settings,
      compared: this.compared,
      images: this.images.map(({ name, predictions, classIndex }) => ({ name, predictions, classIndex })),
      leftOut: problems,
      onMethod: (method) => this.choose({ method }),
      onLayer: (id) => {
        this.layer = id;
        this.store.save({ layer: id });
        this.rerender();
      },
      onColormap: (colormap) => this.choose({ colormap }),
      onAlpha: (alpha) => this.choose({ alpha }),
      onSmoothing: (smoothing) => this.choose(smoothing),
      onClass: (imageIndex, classIndex) => {
        this.images[imageIndex].classIndex = classIndex;
        this.rerender();
      },
      onCompare: (methods) => {
        this.compared = methods;
        this.store.save({ compared: methods });
        this.rerender();
      },
      onExport: (imageIndex, method, canvas) => void this.exportPng(imageIndex, method, canvas),
      onCopy: (canvas) => void this.copyPicture(canvas),
      onUseSuggestion: () => {
        const preprocessing = this.suggestion?.preprocessing;
        if (preprocessing)
          this.host.postToHost({ type: 'usePreprocessing', settings: { scale: preprocessing.scale, channels: preprocessing.channels } });
      },
    });
    this.view.element.querySelector('#backend')?.setAttribute('title', backendTitle(choice));
    this.show(this.view.element);
    for (const problem of problems) this.host.postToHost({ type: 'error', message: problem });
    this.rerender();
    const first = this.opened;
    this.running = this.running.then(() => this.offerSuggestion(first));
  }

  /** Stops a running long method at its next batch (VS Code's Cancel button). */
  cancel(): void {
    this.token.cancelled = true;
  }

  private choose(patch: Partial<ExplainSettings>): void {
    this.settings = { ...this.settings, ...patch };
    this.store.save({ settings: this.settings });
    this.rerender();
  }

  private release(): void {
    this.opened?.model.dispose();
    this.opened = undefined;
    this.input?.dispose();
    this.input = undefined;
  }

  /** Tries the common preprocessings on the first image when its predictions look uncertain, and offers a better one. */
  private async offerSuggestion(model: OpenedModel): Promise<void> {
    this.suggestion = undefined;
    const image = this.images[0];
    if (!image || model !== this.opened || image.predictions[0].probability >= UNCERTAIN_BELOW) return;
    const { input: resolved, labels } = model;
    try {
      this.suggestion = await suggestPreprocessing(model.model, image.pixels, resolved.preprocessing, labels?.names, resolved.detected);
    } catch {
      return; // Only an offer: the predictions shown stand.
    }
    if (!this.suggestion || model !== this.opened || !this.view) return;
    const { top, current, preprocessing } = this.suggestion;
    this.view.showSuggestion(
      `Predictions look uncertain (“${current.label}” ${percent(current.probability)}). ` +
        `With ${scalingWords(preprocessing)} the model says “${top.label}” ${percent(top.probability)}.`,
      `Use ${scalingWords(preprocessing)} (saves ${sidecarName(model.source.fileName)})`,
    );
  }

  private rerender(): void {
    this.cancel();
    const token = { cancelled: false };
    this.token = token;
    this.running = this.running.then(() => (token.cancelled ? undefined : this.render(token)));
  }

  private async render(token: { cancelled: boolean }): Promise<void> {
    if (!this.view) return;
    const methods = [this.settings.method, ...this.compared.filter((m) => m !== this.settings.method)];
    this.view.setMethods(methods);
    for (const method of methods) {
      if (token.cancelled || !(await this.renderMethod(method, token))) return;
    }
    this.view.setBusy(undefined);
  }

  /** Explains every image with one method and shows the overlays; false when it stopped (cancelled or failed). */
  private async renderMethod(method: Method, token: { cancelled: boolean }): Promise<boolean> {
    const { opened, input, view, settings } = this;
    if (!opened || !input || !view) return false;
    const long = isLongRequest(method, settings.augSmooth);
    view.setBusy(`Computing ${METHOD_LABELS[method]}…`);
    try {
      const result = await explain(opened.model, input, {
        method,
        layer: usesTargetLayer(method) ? this.layer : undefined,
        classIndex: this.images.map((image) => image.classIndex),
        augSmooth: settings.augSmooth,
        eigenSmooth: settings.eigenSmooth,
        // WebGL wants large batches (one program per op, not per image); the others the engine's default.
        batchSize: this.backend === 'webgl' ? 32 : undefined,
        progress: {
          token,
          report: long
            ? (done, total) => this.host.postToHost({ type: 'progress', title: `ConvLens: ${METHOD_LABELS[method]}`, done, total })
            : undefined,
        },
      });
      const [batch, height, width] = result.maps.shape;
      const maps = await result.maps.data();
      result.maps.dispose();
      for (let b = 0; b < batch; b++) {
        const map = maps.subarray(b * height * width, (b + 1) * height * width);
        const picture = overlay(this.images[b].pixels, map, width, height, settings.colormap, settings.alpha);
        view.showExplanation(b, picture, { method, layer: result.layer, classIndex: result.classIndex[b], score: result.score[b] });
      }
      this.host.postToHost({ type: 'rendered', method, layer: result.layer, classIndex: result.classIndex, backend: this.backend });
      return true;
    } catch (error) {
      if (error instanceof ExplanationCancelled) {
        view.setBusy(token === this.token ? `${METHOD_LABELS[method]} was cancelled.` : undefined);
        return false;
      }
      const message = `${METHOD_LABELS[method]} failed: ${error instanceof Error ? error.message : String(error)}.`;
      view.setBusy(undefined);
      view.showProblem(message);
      this.host.postToHost({ type: 'error', message: `${opened.source.fileName}: ${message}` });
      return false;
    } finally {
      if (long) this.host.postToHost({ type: 'progressEnd' });
    }
  }

  private async exportPng(imageIndex: number, method: Method, canvas: HTMLCanvasElement): Promise<void> {
    const stem = this.images[imageIndex].name.replace(/\.[^.]+$/, '');
    const bytes = (await canvasPng(canvas)).buffer as ArrayBuffer;
    this.host.postToHost({ type: 'exportPng', suggestedName: `${stem}-${method}.png`, bytes });
  }

  private async copyPicture(canvas: HTMLCanvasElement): Promise<void> {
    try {
      const png = await canvasPng(canvas);
      await navigator.clipboard.write([
        new ClipboardItem({ 'image/png': new Blob([png as Uint8Array<ArrayBuffer>], { type: 'image/png' }) }),
      ]);
      this.view?.announce(`Copied ${canvas.getAttribute('aria-label')} to the clipboard.`);
    } catch (error) {
      this.view?.showProblem(
        `The clipboard did not take the picture (${error instanceof Error ? error.message : String(error)}); Export PNG saves it instead.`,
      );
    }
  }
}

function percent(probability: number): string {
  return `${(100 * probability).toFixed(1)}%`;
}
