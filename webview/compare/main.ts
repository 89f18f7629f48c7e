/**
 * The Compare Models panel: loads two checkpoints of a model in the webview, shows how far each
 * layer's weights moved, which images changed prediction, and for each image the chosen method's map
 * under both models with their difference. Long methods report progress to VS Code and stop when the
 * user cancels there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { differencePicture, largestDifference, mapDifference } from '../../src/engine/compare/mapDifference';
import { changedSummary, predictionChanges, type PredictionChange } from '../../src/engine/compare/predictionChanges';
import { weightChanges, type WeightComparison } from '../../src/engine/compare/weightChanges';
import { explain, type Explanation } from '../../src/engine/explain';
import { isCamMethod, LONG_METHODS, METHOD_LABELS, type Method } from '../../src/engine/explain/methods';
import { defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import { limitsOf } from '../../src/engine/limits';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { imageToInput, type RgbaImage } from '../../src/engine/preprocess';
import { ExplanationCancelled } from '../../src/engine/progress';
import { overlay } from '../../src/engine/render/overlay';
import type { Colormap } from '../../src/engine/render/colormaps';
import type { CompareHostMessage, CompareProtocol } from '../../src/shared/compareProtocol';
import type { ExplainImage } from '../../src/shared/explainProtocol';
import { connectToHost } from '../common/channel';
import { h } from '../common/dom';
import { hostFiles } from '../common/hostFiles';
import { decodeImage } from '../common/images';
import { safely } from '../common/safely';
import { BACKEND_LABELS, backendTitle, initBackend, type BackendName } from '../common/tfBackend';
import { imagesGrid, type ImagesGrid } from './imagesGrid';
import { createCompareView, type CompareView, type ExplainedClass } from './view';
import { weightsTable } from './weightsTable';

const { postToHost, onHostMessage, hostModelSource, request } = connectToHost<CompareProtocol>();
const filesOfB = hostFiles((file) => request('readFileB', file));

/** One of the two models with the images as it takes them. */
interface Side {
  opened: OpenedModel;
  input: tf.Tensor4D;
  layer?: string;
}

const OVERLAY_ALPHA = 0.5;
const app = document.getElementById('app')!;
let sides: [Side, Side] | undefined;
let pictures: { name: string; pixels: RgbaImage }[] = [];
let changes: PredictionChange[] = [];
let method: Method = 'gradcam';
let colormap: Colormap = 'jet';
let explained: ExplainedClass = 'a';
let backend: BackendName = 'cpu';
let view: CompareView | undefined;
let grid: ImagesGrid | undefined;
let cancelToken = { cancelled: false };
/** Explanations run one at a time; a newer request supersedes a waiting one. */
let running: Promise<void> = Promise.resolve();

async function start(message: Extract<CompareHostMessage, { type: 'compare' }>): Promise<void> {
  cancelToken.cancelled = true;
  await running;
  release();
  ({ method, colormap } = message);
  const choice = await initBackend(message.backend);
  backend = choice.backend;
  let problems: string[] = [];
  const opened: OpenedModel[] = [];
  try {
    opened.push(await openModel(hostModelSource(message.a.fileName, message.limits)));
    opened.push(await openModel(filesOfB.modelSource(message.b.fileName, message.limits)));
    let decoded: typeof pictures;
    ({ decoded, problems } = await decodeAll(message.images, limitsOf(opened[0].source).imagePixels));
    pictures = decoded;
    sides = [side(opened[0]), side(opened[1])];
  } catch (error) {
    for (const model of opened) model.model.dispose();
    return fail(error);
  }
  const [a, b] = sides;
  let comparison: WeightComparison;
  try {
    comparison = await weightChanges(a.opened.model, b.opened.model);
    changes = await predictionChanges(
      { model: a.opened.model, input: a.input, labels: a.opened.labels?.names },
      { model: b.opened.model, input: b.input, labels: b.opened.labels?.names },
      3,
    );
  } catch (error) {
    release();
    return fail(new Error(`${message.a.path} and ${message.b.path} cannot be run side by side: ${messageOf(error)}.`));
  }
  const summary = changedSummary(changes);
  grid = imagesGrid(pictures.map((p, i) => ({ name: p.name, change: changes[i] })));
  view = createCompareView({
    a: { ...message.a, name: a.opened.model.summary.name },
    b: { ...message.b, name: b.opened.model.summary.name },
    backend: BACKEND_LABELS[choice.backend],
    backendNotice: choice.fallback ? choice.reason : undefined,
    summary: summary.sentence,
    method,
    leftOut: problems,
    weights: weightsTable(comparison),
    images: grid.element,
    onMethod: (chosen) => {
      method = chosen;
      rerender();
    },
    onExplainedClass: (which) => {
      explained = which;
      rerender();
    },
  });
  view.element.querySelector('#backend')?.setAttribute('title', backendTitle(choice));
  app.replaceChildren(view.element);
  for (const problem of problems) postToHost({ type: 'error', message: problem });
  postToHost({ type: 'compared', layers: comparison.layers.length, images: changes.length, changed: summary.changed, method });
  rerender();
}

/** The images as this model takes them (its own preprocessing), and its default target layer. */
function side(opened: OpenedModel): Side {
  const input = tf.tidy(() => tf.concat(pictures.map((p) => imageToInput(p.pixels, opened.input.preprocessing))) as tf.Tensor4D);
  return { opened, input, layer: safely(() => defaultTargetLayer(opened.model)) };
}

/** Decodes the images; one that cannot be decoded is left out and named in `problems`. */
async function decodeAll(files: ExplainImage[], maxPixels: number): Promise<{ decoded: typeof pictures; problems: string[] }> {
  const results = await Promise.allSettled(files.map((file) => decodeImage(file.name, new Uint8Array(file.bytes), maxPixels)));
  const problems = results.flatMap((r) => (r.status === 'rejected' ? [messageOf(r.reason)] : []));
  const decoded = files.flatMap((file, i) => {
    const result = results[i];
    return result.status === 'fulfilled' ? [{ name: file.name, pixels: result.value }] : [];
  });
  if (decoded.length === 0) throw new Error(problems.join(' ') || 'No images to compare the models on.');
  return { decoded, problems };
}

function rerender(): void {
  cancelToken.cancelled = true; // a running long method stops at its next batch
  const token = { cancelled: false };
  cancelToken = token;
  running = running.then(() => (token.cancelled ? undefined : render(token)));
}

/** Explains every image under both models, the same class for both, and shows the maps and their difference. */
async function render(token: { cancelled: boolean }): Promise<void> {
  if (!sides || !view || !grid) return;
  const long = LONG_METHODS.includes(method);
  const label = METHOD_LABELS[method];
  const classIndex = changes.map((c) => (explained === 'a' ? c.a[0].index : c.b[0].index));
  const results: Explanation[] = [];
  try {
    for (const [i, s] of sides.entries()) {
      view.setBusy(`Computing ${label} under model ${i === 0 ? 'A' : 'B'}…`);
      results.push(
        await explain(s.opened.model, s.input, {
          method,
          layer: isCamMethod(method) ? s.layer : undefined,
          classIndex,
          batchSize: backend === 'webgl' ? 32 : undefined,
          progress: {
            token,
            report: long
              ? (done, total) =>
                  postToHost({ type: 'progress', title: `ConvLens: ${label} under model ${i === 0 ? 'A' : 'B'}`, done, total })
              : undefined,
          },
        }),
      );
    }
    const [mapsA, mapsB] = await Promise.all(results.map((r) => r.maps.data()));
    const [, height, width] = results[0].maps.shape;
    const [, heightB, widthB] = results[1].maps.shape;
    if (height !== heightB || width !== widthB)
      throw new Error(`the two models' maps differ in size (${width}×${height}, ${widthB}×${heightB})`);
    const size = height * width;
    for (const [index, picture] of pictures.entries()) {
      const a = mapsA.subarray(index * size, (index + 1) * size);
      const b = mapsB.subarray(index * size, (index + 1) * size);
      const difference = mapDifference(a, b);
      const className = (explained === 'a' ? changes[index].a[0] : changes[index].b[0]).label;
      const at = (r: Explanation) => (r.layer ? ` at ${r.layer}` : '');
      grid.showMaps(index, {
        a: overlay(picture.pixels, a, width, height, colormap, OVERLAY_ALPHA),
        b: overlay(picture.pixels, b, width, height, colormap, OVERLAY_ALPHA),
        difference: differencePicture(difference, width, height),
        captionA: `A: ${label} for “${className}”${at(results[0])}`,
        captionB: `B: ${label} for “${className}”${at(results[1])}`,
        captionDifference: `B − A: red where B looks more, blue less (largest ${largestDifference(difference).toFixed(2)})`,
      });
    }
    view.setBusy(undefined);
  } catch (error) {
    if (error instanceof ExplanationCancelled) {
      view.setBusy(token === cancelToken ? `${label} was cancelled.` : undefined);
      return;
    }
    const message = `${label} failed: ${messageOf(error)}.`;
    view.setBusy(undefined);
    view.showProblem(message);
    postToHost({ type: 'error', message });
  } finally {
    for (const r of results) r.maps.dispose();
    if (long) postToHost({ type: 'progressEnd' });
  }
}

/** Frees both models and their inputs. */
function release(): void {
  for (const s of sides ?? []) {
    s.opened.model.dispose();
    s.input.dispose();
  }
  sides = undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function fail(error: unknown): void {
  const message = messageOf(error);
  app.replaceChildren(
    h('div', { class: 'error', id: 'compare-error', role: 'alert' }, h('h1', {}, 'These models cannot be compared'), h('p', {}, message)),
  );
  postToHost({ type: 'error', message });
}

onHostMessage((message) => {
  if (message.type === 'compare') void start(message);
  else if (message.type === 'cancel') cancelToken.cancelled = true;
});
postToHost({ type: 'ready' });
