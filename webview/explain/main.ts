/**
 * The Explain panel: loads the model in the webview, shows each image's top-5 predictions, and
 * overlays the chosen explanation; clicking a prediction explains that class. Long methods report
 * progress to VS Code and stop when the user cancels there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { singleInput, predict } from '../../src/engine/execute';
import { explain } from '../../src/engine/explain';
import { isCamMethod, LONG_METHODS, METHOD_LABELS, type Method } from '../../src/engine/explain/methods';
import { ExplanationCancelled } from '../../src/engine/progress';
import { camTargetLayers, defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { topPredictions, type Prediction } from '../../src/engine/predictions';
import { describePreprocessing, imageToInput, type RgbaImage } from '../../src/engine/preprocess';
import { scalingWords } from '../../src/engine/preprocessDefaults';
import { suggestPreprocessing, UNCERTAIN_BELOW, type PreprocessingSuggestion } from '../../src/engine/preprocessSuggestion';
import { sidecarName } from '../../src/engine/modelInput';
import { overlay } from '../../src/engine/render/overlay';
import type { ExplainHostMessage, ExplainImage, ExplainProtocol, ExplainSettings } from '../../src/shared/explainProtocol';
import { h } from '../common/dom';
import { BACKEND_LABELS, backendTitle, initBackend, type BackendName } from '../common/tfBackend';
import { connectToHost } from '../common/channel';
import { canvasPng, decodeImage } from '../common/images';
import { createExplainView, type ExplainView } from './view';
import { safely } from '../common/safely';
import { limitsOf } from '../../src/engine/limits';

const { postToHost, onHostMessage, hostModelSource } = connectToHost<ExplainProtocol>();

interface LoadedImage {
  name: string;
  pixels: RgbaImage;
  predictions: Prediction[];
  classIndex: number;
}

const app = document.getElementById('app')!;
let opened: OpenedModel | undefined;
let images: LoadedImage[] = [];
let input: tf.Tensor4D | undefined;
let view: ExplainView | undefined;
let settings: ExplainSettings;
/** Methods shown beside the main one, for comparison. */
let compared: Method[] = [];
let layer: string | undefined;
let backend: BackendName = 'cpu';
let cancelToken = { cancelled: false };
/** Explanations run one at a time; a newer request supersedes a waiting one. */
let running: Promise<void> = Promise.resolve();
/** The preprocessing offered to the user, when the first image's predictions look uncertain under the current one. */
let suggestion: PreprocessingSuggestion | undefined;

async function start(message: Extract<ExplainHostMessage, { type: 'explain' }>): Promise<void> {
  // Sent again after the user took a suggested preprocessing: start over with the model reopened.
  cancelToken.cancelled = true;
  await running;
  opened?.model.dispose();
  opened = undefined;
  input?.dispose();
  input = undefined;
  settings = message.settings;
  let problems: string[] = [];
  const choice = await initBackend(message.backend);
  backend = choice.backend;
  try {
    opened = await openModel(hostModelSource(message.modelFileName, message.limits));
    ({ loaded: images, problems } = await loadImages(message.images, opened));
  } catch (error) {
    // The panel shows only the error now: free the model's weights.
    opened?.model.dispose();
    opened = undefined;
    return fail(error);
  }
  const { model, input: resolved, labels } = opened;
  layer = safely(() => defaultTargetLayer(model));
  view = createExplainView({
    modelName: model.summary.name,
    modelFileName: message.modelFileName,
    preprocessing: `${describePreprocessing(resolved.preprocessing)}${resolved.sidecar ? ` (from ${resolved.sidecar})` : ''}`,
    preprocessingReason: resolved.sidecar
      ? `The model's own default: ${describePreprocessing(resolved.detected)} — ${resolved.reason}.`
      : `Why: ${resolved.reason}.`,
    labelsOrigin: labels?.origin,
    backend: BACKEND_LABELS[choice.backend],
    backendNotice: choice.fallback ? choice.reason : undefined,
    layers: camTargetLayers(model),
    layer,
    settings,
    images: images.map(({ name, predictions, classIndex }) => ({ name, predictions, classIndex })),
    leftOut: problems,
    onMethod: (method) => {
      settings = { ...settings, method };
      rerender();
    },
    onLayer: (id) => {
      layer = id;
      rerender();
    },
    onColormap: (colormap) => {
      settings = { ...settings, colormap };
      rerender();
    },
    onAlpha: (alpha) => {
      settings = { ...settings, alpha };
      rerender();
    },
    onClass: (imageIndex, classIndex) => {
      images[imageIndex].classIndex = classIndex;
      rerender();
    },
    onCompare: (methods) => {
      compared = methods;
      rerender();
    },
    onExport: (imageIndex, method, canvas) => void exportPng(imageIndex, method, canvas),
    onCopy: (canvas) => void copyPicture(canvas),
    onUseSuggestion: () => {
      if (suggestion)
        postToHost({
          type: 'usePreprocessing',
          settings: { scale: suggestion.preprocessing.scale, channels: suggestion.preprocessing.channels },
        });
    },
  });
  view.element.querySelector('#backend')?.setAttribute('title', backendTitle(choice));
  app.replaceChildren(view.element);
  for (const problem of problems) postToHost({ type: 'error', message: problem });
  rerender();
  const first = opened;
  running = running.then(() => offerSuggestion(first));
}

/** Tries the common preprocessings on the first image when its predictions look uncertain, and offers a better one. */
async function offerSuggestion(model: OpenedModel): Promise<void> {
  suggestion = undefined;
  const image = images[0];
  if (!image || model !== opened || image.predictions[0].probability >= UNCERTAIN_BELOW) return;
  const { input: resolved, labels } = model;
  try {
    suggestion = await suggestPreprocessing(model.model, image.pixels, resolved.preprocessing, labels?.names, resolved.detected);
  } catch {
    return; // Only an offer: the predictions shown stand.
  }
  if (!suggestion || model !== opened || !view) return;
  const { top, current } = suggestion;
  view.showSuggestion(
    `Predictions look uncertain (“${current.label}” ${percent(current.probability)}). ` +
      `With ${scalingWords(suggestion.preprocessing)} the model says “${top.label}” ${percent(top.probability)}.`,
    `Use ${scalingWords(suggestion.preprocessing)} (saves ${sidecarName(model.source.fileName)})`,
  );
}

function percent(probability: number): string {
  return `${(100 * probability).toFixed(1)}%`;
}

/** Decodes and ranks the images; one that cannot be decoded is left out and named in `problems`. */
async function loadImages(
  files: ExplainImage[],
  { model, input: resolved, labels, source }: OpenedModel,
): Promise<{ loaded: LoadedImage[]; problems: string[] }> {
  const maxPixels = limitsOf(source).imagePixels;
  const decoded = await Promise.allSettled(files.map((file) => decodeImage(file.name, new Uint8Array(file.bytes), maxPixels)));
  const problems = decoded.flatMap((d) =>
    d.status === 'rejected' ? [d.reason instanceof Error ? d.reason.message : String(d.reason)] : [],
  );
  const good = files.flatMap((file, i) =>
    decoded[i].status === 'fulfilled' ? [{ name: file.name, pixels: (decoded[i] as PromiseFulfilledResult<RgbaImage>).value }] : [],
  );
  if (good.length === 0) throw new Error(problems.join(' '));
  input?.dispose();
  input = tf.tidy(() => tf.concat(good.map((g) => imageToInput(g.pixels, resolved.preprocessing))) as tf.Tensor4D);
  const outputs = predict(model, singleInput(model, input));
  const ranked = await topPredictions(outputs[0], 5, labels?.names).finally(() => tf.dispose(outputs));
  return { loaded: good.map((g, i) => ({ ...g, predictions: ranked[i], classIndex: ranked[i][0].index })), problems };
}

function rerender(): void {
  cancelToken.cancelled = true; // a running long method stops at its next batch
  const token = { cancelled: false };
  cancelToken = token;
  running = running.then(() => (token.cancelled ? undefined : render(token)));
}

async function render(token: { cancelled: boolean }): Promise<void> {
  if (!opened || !input || !view) return;
  const methods = [settings.method, ...compared.filter((m) => m !== settings.method)];
  view.setMethods(methods);
  for (const method of methods) {
    if (token.cancelled || !(await renderMethod(method, token))) return;
  }
  view.setBusy(undefined);
}

/** Explains every image with one method and shows the overlays; false when it stopped (cancelled or failed). */
async function renderMethod(method: Method, token: { cancelled: boolean }): Promise<boolean> {
  if (!opened || !input || !view) return false;
  const long = LONG_METHODS.includes(method);
  view.setBusy(`Computing ${METHOD_LABELS[method]}…`);
  try {
    const result = await explain(opened.model, input, {
      method,
      layer: isCamMethod(method) ? layer : undefined,
      classIndex: images.map((image) => image.classIndex),
      // WebGL wants large batches (one program per op, not per image); the others the engine's default.
      batchSize: backend === 'webgl' ? 32 : undefined,
      progress: {
        token,
        report: long
          ? (done, total) => postToHost({ type: 'progress', title: `ConvLens: ${METHOD_LABELS[method]}`, done, total })
          : undefined,
      },
    });
    const [batch, height, width] = result.maps.shape;
    const maps = await result.maps.data();
    result.maps.dispose();
    for (let b = 0; b < batch; b++) {
      const picture = overlay(
        images[b].pixels,
        maps.subarray(b * height * width, (b + 1) * height * width),
        width,
        height,
        settings.colormap,
        settings.alpha,
      );
      view.showExplanation(b, picture, { method, layer: result.layer, classIndex: result.classIndex[b], score: result.score[b] });
    }
    postToHost({ type: 'rendered', method, layer: result.layer, classIndex: result.classIndex, backend });
    return true;
  } catch (error) {
    if (error instanceof ExplanationCancelled) {
      view.setBusy(token === cancelToken ? `${METHOD_LABELS[method]} was cancelled.` : undefined);
      return false;
    }
    const message = `${METHOD_LABELS[method]} failed: ${error instanceof Error ? error.message : String(error)}.`;
    view.setBusy(undefined);
    view.showProblem(message);
    postToHost({ type: 'error', message: `${opened.source.fileName}: ${message}` });
    return false;
  } finally {
    if (long) postToHost({ type: 'progressEnd' });
  }
}

async function exportPng(imageIndex: number, method: Method, canvas: HTMLCanvasElement): Promise<void> {
  const stem = images[imageIndex].name.replace(/\.[^.]+$/, '');
  postToHost({ type: 'exportPng', suggestedName: `${stem}-${method}.png`, bytes: (await canvasPng(canvas)).buffer as ArrayBuffer });
}

async function copyPicture(canvas: HTMLCanvasElement): Promise<void> {
  try {
    const png = await canvasPng(canvas);
    await navigator.clipboard.write([
      new ClipboardItem({ 'image/png': new Blob([png as Uint8Array<ArrayBuffer>], { type: 'image/png' }) }),
    ]);
    view?.announce(`Copied ${canvas.getAttribute('aria-label')} to the clipboard.`);
  } catch (error) {
    view?.showProblem(
      `The clipboard did not take the picture (${error instanceof Error ? error.message : String(error)}); Export PNG saves it instead.`,
    );
  }
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  app.replaceChildren(errorBox(message));
  postToHost({ type: 'error', message });
}

function errorBox(message: string): HTMLElement {
  return h(
    'div',
    { class: 'error', id: 'explain-error', role: 'alert' },
    h('h1', {}, 'These images cannot be explained'),
    h('p', {}, message),
  );
}

onHostMessage((message) => {
  if (message.type === 'explain') void start(message);
  else if (message.type === 'cancel') cancelToken.cancelled = true;
});
postToHost({ type: 'ready' });
