/**
 * One Explain page's work: the opened model, the images and their predictions, the choices the user
 * made (kept across a page rebuilt for a new checkpoint), and the explanations, their checks and the
 * method report, computed one request at a time; a newer request cancels a running long one at its
 * next batch. One class because every request shares one queue, one cancel token and one model; what
 * each request computes lives in the engine, what it draws in the view modules.
 */
import * as tf from '@tensorflow/tfjs-core';
import { explain } from '../../src/engine/explain';
import type { Target } from '../../src/engine/explain/targets';
import { isLongRequest, METHOD_LABELS, usesTargetLayer, type Method } from '../../src/engine/explain/methods';
import { camTargetLayers, defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import { sidecarName } from '../../src/engine/modelInput';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { limitsOf } from '../../src/engine/limits';
import { describePreprocessing, type RgbaImage } from '../../src/engine/preprocess';
import { scalingWords } from '../../src/engine/preprocessDefaults';
import { suggestPreprocessing, UNCERTAIN_BELOW, type PreprocessingSuggestion } from '../../src/engine/preprocessSuggestion';
import { ExplanationCancelled } from '../../src/engine/progress';
import { checkExplanation, methodReport, type ExplanationCheck } from '../../src/engine/metrics';
import { overlay } from '../../src/engine/render/overlay';
import { maskImage, maskOutline, segmentObject } from '../../src/engine/segmentation';
import {
  OVERLAY_PAINTED,
  type ExplainHostMessage,
  type ExplainImage,
  type ExplainProtocol,
  type ExplainSettings,
  type FirstOverlays,
  type OverlayPainted,
} from '../../src/shared/explainProtocol';
import type { HostChannel } from '../common/channel';
import { canvasPng, decodeImage } from '../common/images';
import { progressReports } from '../common/progressReports';
import { safely } from '../common/safely';
import { BACKEND_LABELS, backendTitle, initBackend, type BackendName } from '../common/tfBackend';
import { loadImages, type LoadedImage } from './loadImages';
import { describeChoice, findPageTargets, firstChoice, targetOf, type PageTargets, type TargetChoice } from './pageTargets';
import { targetPicker, type TargetPicker } from './targetView';
import { checkResults } from './checkView';
import { createExplainView, type ExplainView } from './view';
import { firstOverlaysView, firstPictures, type FirstPicture } from './firstOverlaysView';

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
  /** Checks done, by image and what was checked (`checkKey`): kept until the model changes. */
  private checks = new Map<string, ExplanationCheck>();
  /** Each image's map of the main method, as last drawn: what "Segment object" cuts the object out with. */
  private mainMaps = new Map<number, { method: Method; width: number; height: number; data: Float32Array }>();
  /** The image whose check runs now, if one does. */
  private checking?: number;
  /** A segmentation or detection model's classes or detections per image; undefined for a classifier. */
  private targets?: PageTargets;
  /** Each image's chosen segmentation class or detection, and the picker it was chosen on. */
  private choices: TargetChoice[] = [];
  private pickers: TargetPicker[] = [];
  /** What `start` was asked to show, and the host's first overlays of it, drawn while the model loads. */
  private started?: StartMessage;
  private first?: { overlays: FirstOverlays; pictures: FirstPicture[] };
  /** Each image of the started message decoded once, for the first overlays and for the model alike. */
  private decoded = new Map<string, Promise<RgbaImage>>();

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
    this.checks.clear();
    this.mainMaps.clear();
    const kept = this.store.load();
    this.settings = { ...message.settings, ...kept.settings };
    this.compared = kept.compared ?? [];
    this.started = message;
    this.first = undefined;
    this.decoded.clear();
    let problems: string[] = [];
    const choice = await initBackend(message.backend);
    this.backend = choice.backend;
    try {
      this.opened = await openModel(this.host.hostModelSource(message.modelFileName, message.limits));
      ({ loaded: this.images, problems, input: this.input } = await loadImages(message.images, this.opened, this.decode(message)));
      this.targets = await findPageTargets(this.opened, this.input);
    } catch (error) {
      // The panel shows only the error now (no first overlays either): free the model's weights.
      this.started = undefined;
      this.release();
      throw error;
    }
    const { model, input: resolved, labels } = this.opened;
    this.makePickers();
    const layers = camTargetLayers(model);
    this.layer = kept.layer && layers.includes(kept.layer) ? kept.layer : safely(() => defaultTargetLayer(model));
    this.view = createExplainView({
      modelName: model.summary.name,
      modelFileName: message.modelFileName,
      preprocessing: `${describePreprocessing(resolved.preprocessing)}${resolved.sidecar ? ` (from ${resolved.sidecar})` : ''}`,
      preprocessingReason: resolved.sidecar
        ? `The model's own default: ${describePreprocessing(resolved.detected)} — ${resolved.reason}.`
        : `Why: ${resolved.reason}.`,
      labelsOrigin: this.targets ? this.targets.labels?.origin : labels?.origin,
      backend: BACKEND_LABELS[choice.backend],
      backendNotice: choice.fallback ? choice.reason : undefined,
      layers,
      layer: this.layer,
      settings: this.settings,
      compared: this.compared,
      images: this.images.map(({ name, predictions, classIndex }, i) => ({
        name,
        predictions,
        classIndex,
        picker: this.pickers[i],
      })),
      offersChecks: !this.targets,
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
      onSegment: (imageIndex) => this.segment(imageIndex),
      onExportMask: (imageIndex, canvas) => void this.exportPng(imageIndex, 'mask', canvas),
      onCheck: (imageIndex) => (this.checking === imageIndex ? this.cancel() : this.queue((token) => this.check(imageIndex, token))),
      onReport: (methods) => this.queue((token) => this.report(methods, token)),
      onCancel: () => this.cancel(),
    });
    this.view.element.querySelector('#backend')?.setAttribute('title', backendTitle(choice));
    this.showFirstInView();
    this.show(this.view.element);
    for (const problem of problems) this.host.postToHost({ type: 'error', message: problem });
    this.rerender();
    const first = this.opened;
    this.running = this.running.then(() => this.offerSuggestion(first));
  }

  /**
   * The host's overlays of the first images, drawn until the page's model is loaded, when they are of
   * what the page will show (its method and layer: the user's choices kept in the page may differ).
   */
  async showFirstOverlays(first: FirstOverlays): Promise<void> {
    const started = this.started;
    if (!started || this.view || first.method !== this.settings.method) return;
    const keptLayer = this.store.load().layer;
    if (keptLayer && keptLayer !== first.layer) return;
    const pictures = await firstPictures(first, started.images, this.settings, this.decode(started));
    if (this.view || this.started !== started || pictures.length === 0) return;
    this.first = { overlays: first, pictures };
    this.show(firstOverlaysView(first, pictures, started.modelFileName));
    const detail: OverlayPainted = { from: 'host', classIndex: pictures.map((p) => p.overlay.classIndex) };
    requestAnimationFrame(() => performance.mark(OVERLAY_PAINTED, { detail }));
  }

  /** Decodes an image of `message` once, within the limits the message gives. */
  private decode(message: StartMessage): (file: ExplainImage) => Promise<RgbaImage> {
    const maxPixels = limitsOf({ limits: message.limits }).imagePixels;
    return (file) => {
      let decoding = this.decoded.get(file.name);
      if (!decoding) {
        decoding = decodeImage(file.name, new Uint8Array(file.bytes), maxPixels);
        this.decoded.set(file.name, decoding);
      }
      return decoding;
    };
  }

  /** The view starts from the first overlays where the page explains the same class, until it draws its own. */
  private showFirstInView(): void {
    const { first, view } = this;
    if (!first || !view || this.targets) return;
    for (const { overlay: shown, picture } of first.pictures) {
      const b = this.images.findIndex((image) => image.name === shown.name);
      if (b < 0 || this.images[b].classIndex !== shown.classIndex || this.layer !== first.overlays.layer) continue;
      view.showExplanation(b, picture, {
        method: first.overlays.method,
        layer: first.overlays.layer,
        classIndex: shown.classIndex,
        score: shown.score,
      });
    }
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

  /** For a segmentation or detection model, each image's picker of classes or detections, its first one chosen. */
  private makePickers(): void {
    const { targets, input } = this;
    this.choices = [];
    this.pickers = [];
    if (!targets || !input) return;
    this.images.forEach((image, index) => {
      const picker = targetPicker(
        targets,
        { name: image.name, index, pixels: image.pixels, input: { width: input.shape[2], height: input.shape[1] } },
        (choice) => {
          this.choices[index] = choice;
          picker.markChosen(choice);
          this.rerender();
        },
      );
      this.choices[index] = firstChoice(targets, index);
      picker.markChosen(this.choices[index]);
      this.pickers[index] = picker;
    });
  }

  private release(): void {
    this.targets = undefined;
    this.opened?.model.dispose();
    this.opened = undefined;
    this.input?.dispose();
    this.input = undefined;
  }

  /** Tries the common preprocessings on the first image when its predictions look uncertain, and offers a better one. */
  private async offerSuggestion(model: OpenedModel): Promise<void> {
    this.suggestion = undefined;
    const image = this.images[0];
    // Segmentation and detection outputs are not class probabilities: nothing to judge them by.
    if (!image || model !== this.opened || this.targets || image.predictions[0].probability >= UNCERTAIN_BELOW) return;
    // The overlays first: the forward passes below hold the page, which paints only between tasks.
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    const { input: resolved, labels } = model;
    try {
      this.suggestion = await suggestPreprocessing(model.model, image.pixels, resolved.preprocessing, {
        labels: labels?.names,
        detected: resolved.detected,
        currentTop: image.predictions[0],
      });
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
    this.view?.setMethod(this.settings.method);
    this.showChecks();
    this.running = this.running.then(() => (token.cancelled ? undefined : this.render(token)));
  }

  /** Runs `work` after what runs now, with its own token: the one VS Code's Cancel and the panel's cancel. */
  private queue(work: (token: { cancelled: boolean }) => Promise<void>): void {
    this.running = this.running.then(() => {
      const token = { cancelled: false };
      this.token = token;
      return work(token);
    });
  }

  /** What a check depends on besides the model: the image, method, class, layer and smoothing. */
  private checkKey(imageIndex: number): string {
    const { method, augSmooth, eigenSmooth } = this.settings;
    const layer = usesTargetLayer(method) ? this.layer : undefined;
    return JSON.stringify([imageIndex, method, this.images[imageIndex].classIndex, layer, Boolean(augSmooth), Boolean(eigenSmooth)]);
  }

  /** Each card shows the check of what it shows now, if it was done. */
  private showChecks(): void {
    this.images.forEach((_, i) => this.showCheck(i));
  }

  private showCheck(imageIndex: number): void {
    const check = this.checks.get(this.checkKey(imageIndex));
    this.view?.showCheck(
      imageIndex,
      check ? checkResults(check, { description: this.checked(imageIndex), colormap: this.settings.colormap }) : undefined,
    );
  }

  /** "Grad-CAM for “tabby” (class 281) at fire9/concat" */
  private checked(imageIndex: number): string {
    const { method } = this.settings;
    const image = this.images[imageIndex];
    const label = image.predictions.find((p) => p.index === image.classIndex)?.label ?? `class ${image.classIndex}`;
    const layer = usesTargetLayer(method) && this.layer ? ` at ${this.layer}` : '';
    return `${METHOD_LABELS[method]} for “${label}” (class ${image.classIndex})${layer}`;
  }

  /** "Check this explanation": the metrics and the randomisation strip of the image's current map. */
  private async check(imageIndex: number, token: { cancelled: boolean }): Promise<void> {
    const { opened, input, view, settings } = this;
    if (!opened || !input || !view || token.cancelled) return;
    const key = this.checkKey(imageIndex);
    if (this.checks.has(key)) return this.showCheck(imageIndex);
    const description = this.checked(imageIndex);
    const title = `ConvLens: checking ${METHOD_LABELS[settings.method]} on ${this.images[imageIndex].name}`;
    this.checking = imageIndex;
    view.setChecking(imageIndex, true, `Checking ${description}…`);
    const image = tf.slice(input, imageIndex, 1) as tf.Tensor4D;
    try {
      const result = await checkExplanation(
        opened.model,
        image,
        {
          method: settings.method,
          classIndex: this.images[imageIndex].classIndex,
          layer: usesTargetLayer(settings.method) ? this.layer : undefined,
          augSmooth: settings.augSmooth,
          eigenSmooth: settings.eigenSmooth,
          batchSize: this.backend === 'webgl' ? 32 : undefined,
        },
        { progress: { token, report: progressReports((done, total) => this.host.postToHost({ type: 'progress', title, done, total })) } },
      );
      this.checks.set(key, result);
      view.setChecking(imageIndex, false);
      this.showCheck(imageIndex);
      this.host.postToHost({ type: 'checked', image: this.images[imageIndex].name, method: settings.method });
    } catch (error) {
      const message =
        error instanceof ExplanationCancelled
          ? 'The check was cancelled.'
          : `The check failed: ${error instanceof Error ? error.message : String(error)}.`;
      view.setChecking(imageIndex, false, message);
      if (!(error instanceof ExplanationCancelled))
        this.host.postToHost({ type: 'error', message: `${opened.source.fileName}: ${message}` });
    } finally {
      image.dispose();
      this.checking = undefined;
      this.host.postToHost({ type: 'progressEnd' });
    }
  }

  /** The method report: every ticked method on every image, for the class chosen for each. */
  private async report(methods: Method[], token: { cancelled: boolean }): Promise<void> {
    const { opened, input, view, settings } = this;
    if (!opened || !input || !view || token.cancelled) return;
    const title = `ConvLens: method report, ${methods.length} methods on ${this.images.length} images`;
    view.report.setRunning(`Measuring ${methods.length} methods on ${this.images.length} images…`);
    try {
      const report = await methodReport(
        opened.model,
        input,
        this.images.map((image) => image.classIndex),
        methods,
        {
          layer: this.layer,
          batchSize: this.backend === 'webgl' ? 32 : undefined,
          progress: { token, report: progressReports((done, total) => this.host.postToHost({ type: 'progress', title, done, total })) },
        },
      );
      view.report.setRunning(undefined);
      view.report.show(
        { report, images: this.images.map((i) => i.name), height: input.shape[1], width: input.shape[2], colormap: settings.colormap },
        this.settings.method,
      );
      view.report.setNote(
        `${report.rows.length} methods on ${this.images.length} images, mean ± standard error; ROAD at 10–90 % of the pixels, ` +
          'on the probability of the chosen class; the last column is the rank correlation with the map of the model with every layer ' +
          'randomised (low: the map depends on what the model learnt). ★ marks the most faithful in each column; click a heading to sort, a row to show that method.',
      );
      this.host.postToHost({ type: 'reported', methods: report.rows.map((r) => r.method) });
    } catch (error) {
      view.report.setRunning(undefined);
      view.report.setNote(
        error instanceof ExplanationCancelled
          ? 'The report was cancelled.'
          : `The report failed: ${error instanceof Error ? error.message : String(error)}.`,
      );
    } finally {
      this.host.postToHost({ type: 'progressEnd' });
    }
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
      const classIndex: number[] = [];
      let layer: string | undefined;
      for (const request of this.requests()) {
        // A target chosen per image is explained on that image alone.
        const batch = request.images.length === this.images.length ? input : (tf.gather(input, request.images) as tf.Tensor4D);
        const result = await explain(opened.model, batch, {
          method,
          layer: usesTargetLayer(method) ? this.layer : undefined,
          classIndex: request.images.map((b) => this.images[b].classIndex),
          target: request.target,
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
        }).finally(() => (batch === input ? undefined : batch.dispose()));
        const [, height, width] = result.maps.shape;
        const maps = await result.maps.data();
        result.maps.dispose();
        layer = result.layer;
        request.images.forEach((b, row) => {
          const map = maps.subarray(row * height * width, (row + 1) * height * width);
          if (method === settings.method) this.mainMaps.set(b, { method, width, height, data: map.slice() as Float32Array });
          const picture = overlay(this.images[b].pixels, map, width, height, settings.colormap, settings.alpha);
          const subject = this.targets ? describeChoice(this.targets, b, this.choices[b]) : undefined;
          classIndex[b] = result.classIndex[row];
          view.showExplanation(b, picture, { method, layer, classIndex: result.classIndex[row], score: result.score[row], subject });
        });
      }
      this.host.postToHost({ type: 'rendered', method, layer, classIndex, backend: this.backend });
      // When the overlays reach the screen (the next frame), for timing from outside: work that follows
      // (the preprocessing suggestion) can keep the page too busy to be asked at once.
      const detail: OverlayPainted = { from: 'page', classIndex };
      if (method === settings.method) requestAnimationFrame(() => performance.mark(OVERLAY_PAINTED, { detail }));
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

  /** What each explain call covers: every image for its class, or, on a target page, each image for its own choice. */
  private requests(): { images: number[]; target?: Target }[] {
    const { targets } = this;
    if (!targets) return [{ images: this.images.map((_, b) => b) }];
    return this.images.map((_, b) => ({ images: [b], target: targetOf(targets, b, this.choices[b]) }));
  }

  /**
   * The object cut out of the image by a graph cut seeded by its current map (engine/segmentation), its
   * outline drawn over the image; the mask can be saved as a PNG.
   */
  private segment(imageIndex: number): void {
    const image = this.images[imageIndex];
    const map = this.mainMaps.get(imageIndex);
    if (!this.view || !image) return;
    if (!map) return this.view.showProblem('Segment object needs the map of this image: wait until it is drawn.');
    const { mask, width, height, summary } = segmentObject(image.pixels, map);
    const outline = maskOutline(mask, width, height);
    const picture = { width, height, data: Uint8ClampedArray.from(image.pixels.data) };
    for (let p = 0; p < outline.length; p++) if (outline[p]) picture.data.set([0, 255, 255, 255], 4 * p);
    const { box } = summary;
    const text = box
      ? `The object as ${METHOD_LABELS[map.method]} seeds it: ${(100 * summary.share).toFixed(1)}% of the image, x ${box.left}–${box.right}, y ${box.top}–${box.bottom}.`
      : `${METHOD_LABELS[map.method]} marks no object in this image.`;
    this.view.showSegmentation(imageIndex, picture, text, maskImage(mask, width, height));
    this.host.postToHost({ type: 'segmented', image: image.name, share: summary.share });
  }

  private async exportPng(imageIndex: number, method: Method | 'mask', canvas: HTMLCanvasElement): Promise<void> {
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
