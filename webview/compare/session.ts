/**
 * One Compare page's work: the two models with the images as each takes them, the predictions under
 * both, and the maps, computed one request at a time; a newer request cancels a running long one at its
 * next batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { differencePicture, largestDifference, mapDifference } from '../../src/engine/compare/mapDifference';
import { changedSummary, predictionChanges, type PredictionChange } from '../../src/engine/compare/predictionChanges';
import { weightChanges, type WeightComparison } from '../../src/engine/compare/weightChanges';
import { explain, type Explanation } from '../../src/engine/explain';
import { isLongRequest, METHOD_LABELS, usesTargetLayer, type Method } from '../../src/engine/explain/methods';
import { defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import { limitsOf } from '../../src/engine/limits';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { imageToInput, type RgbaImage } from '../../src/engine/preprocess';
import { ExplanationCancelled } from '../../src/engine/progress';
import type { Colormap } from '../../src/engine/render/colormaps';
import { overlay } from '../../src/engine/render/overlay';
import type { CompareHostMessage, CompareProtocol } from '../../src/shared/compareProtocol';
import type { ExplainImage } from '../../src/shared/explainProtocol';
import type { HostChannel } from '../common/channel';
import type { HostFiles } from '../common/hostFiles';
import { decodeImage } from '../common/images';
import { safely } from '../common/safely';
import { BACKEND_LABELS, backendTitle, initBackend, type BackendName } from '../common/tfBackend';
import { imagesGrid, type ImagesGrid } from './imagesGrid';
import { createCompareView, type CompareView, type ExplainedClass } from './view';
import { weightsTable } from './weightsTable';

/** One of the two models with the images as it takes them. */
interface Side {
  opened: OpenedModel;
  input: tf.Tensor4D;
  layer?: string;
}

interface Picture {
  name: string;
  pixels: RgbaImage;
}

const OVERLAY_ALPHA = 0.5;

export class CompareSession {
  private sides?: [Side, Side];
  private pictures: Picture[] = [];
  private changes: PredictionChange[] = [];
  private method: Method = 'gradcam';
  private colormap: Colormap = 'jet';
  private explained: ExplainedClass = 'a';
  private backend: BackendName = 'cpu';
  private view?: CompareView;
  private grid?: ImagesGrid;
  private token = { cancelled: false };
  /** Explanations run one at a time. */
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: Pick<HostChannel<CompareProtocol>, 'postToHost' | 'hostModelSource'>,
    /** Model B's files, served by the host from B's own folder. */
    private readonly filesOfB: HostFiles,
    private readonly show: (element: HTMLElement) => void,
  ) {}

  /** Opens both models on the images; rejects with a one-sentence reason when they cannot be compared. */
  async start(message: Extract<CompareHostMessage, { type: 'compare' }>): Promise<void> {
    this.cancel();
    await this.running;
    this.release();
    ({ method: this.method, colormap: this.colormap } = message);
    const choice = await initBackend(message.backend);
    this.backend = choice.backend;
    let problems: string[] = [];
    const opened: OpenedModel[] = [];
    try {
      opened.push(await openModel(this.host.hostModelSource(message.a.fileName, message.limits)));
      opened.push(await openModel(this.filesOfB.modelSource(message.b.fileName, message.limits)));
      let decoded: Picture[];
      ({ decoded, problems } = await decodeAll(message.images, limitsOf(opened[0].source).imagePixels));
      this.pictures = decoded;
      this.sides = [this.side(opened[0]), this.side(opened[1])];
    } catch (error) {
      for (const model of opened) model.model.dispose();
      throw error;
    }
    const [a, b] = this.sides;
    let comparison: WeightComparison;
    try {
      comparison = await weightChanges(a.opened.model, b.opened.model);
      this.changes = await predictionChanges(
        { model: a.opened.model, input: a.input, labels: a.opened.labels?.names },
        { model: b.opened.model, input: b.input, labels: b.opened.labels?.names },
        3,
      );
    } catch (error) {
      this.release();
      throw new Error(`${message.a.path} and ${message.b.path} cannot be run side by side: ${messageOf(error)}.`);
    }
    const summary = changedSummary(this.changes);
    this.grid = imagesGrid(this.pictures.map((p, i) => ({ name: p.name, change: this.changes[i] })));
    this.view = createCompareView({
      a: { ...message.a, name: a.opened.model.summary.name },
      b: { ...message.b, name: b.opened.model.summary.name },
      backend: BACKEND_LABELS[choice.backend],
      backendNotice: choice.fallback ? choice.reason : undefined,
      summary: summary.sentence,
      method: this.method,
      leftOut: problems,
      weights: weightsTable(comparison),
      images: this.grid.element,
      onMethod: (chosen) => {
        this.method = chosen;
        this.rerender();
      },
      onExplainedClass: (which) => {
        this.explained = which;
        this.rerender();
      },
    });
    this.view.element.querySelector('#backend')?.setAttribute('title', backendTitle(choice));
    this.show(this.view.element);
    for (const problem of problems) this.host.postToHost({ type: 'error', message: problem });
    this.host.postToHost({
      type: 'compared',
      layers: comparison.layers.length,
      images: this.changes.length,
      changed: summary.changed,
      method: this.method,
    });
    this.rerender();
  }

  /** Stops a running long method at its next batch (VS Code's Cancel button). */
  cancel(): void {
    this.token.cancelled = true;
  }

  /** The images as this model takes them (its own preprocessing), and its default target layer. */
  private side(opened: OpenedModel): Side {
    const input = tf.tidy(() => tf.concat(this.pictures.map((p) => imageToInput(p.pixels, opened.input.preprocessing))) as tf.Tensor4D);
    return { opened, input, layer: safely(() => defaultTargetLayer(opened.model)) };
  }

  private rerender(): void {
    this.cancel();
    const token = { cancelled: false };
    this.token = token;
    this.running = this.running.then(() => (token.cancelled ? undefined : this.render(token)));
  }

  /** Explains every image under both models, the same class for both, and shows the maps and their difference. */
  private async render(token: { cancelled: boolean }): Promise<void> {
    const { sides, view, grid, method, changes } = this;
    if (!sides || !view || !grid) return;
    const long = isLongRequest(method);
    const label = METHOD_LABELS[method];
    const classIndex = changes.map((c) => (this.explained === 'a' ? c.a[0].index : c.b[0].index));
    const results: Explanation[] = [];
    try {
      for (const [i, side] of sides.entries()) {
        const which = i === 0 ? 'A' : 'B';
        view.setBusy(`Computing ${label} under model ${which}…`);
        results.push(
          await explain(side.opened.model, side.input, {
            method,
            layer: usesTargetLayer(method) ? side.layer : undefined,
            classIndex,
            batchSize: this.backend === 'webgl' ? 32 : undefined,
            progress: {
              token,
              report: long
                ? (done, total) => this.host.postToHost({ type: 'progress', title: `ConvLens: ${label} under model ${which}`, done, total })
                : undefined,
            },
          }),
        );
      }
      await this.showMaps(results, label);
      view.setBusy(undefined);
    } catch (error) {
      if (error instanceof ExplanationCancelled) {
        view.setBusy(token === this.token ? `${label} was cancelled.` : undefined);
        return;
      }
      const message = `${label} failed: ${messageOf(error)}.`;
      view.setBusy(undefined);
      view.showProblem(message);
      this.host.postToHost({ type: 'error', message });
    } finally {
      for (const r of results) r.maps.dispose();
      if (long) this.host.postToHost({ type: 'progressEnd' });
    }
  }

  /** Each image's maps under A and B and their difference, drawn in its card. */
  private async showMaps(results: Explanation[], label: string): Promise<void> {
    const [mapsA, mapsB] = await Promise.all(results.map((r) => r.maps.data()));
    const [, height, width] = results[0].maps.shape;
    const [, heightB, widthB] = results[1].maps.shape;
    if (height !== heightB || width !== widthB)
      throw new Error(`the two models' maps differ in size (${width}×${height}, ${widthB}×${heightB})`);
    const size = height * width;
    const at = (r: Explanation) => (r.layer ? ` at ${r.layer}` : '');
    for (const [index, picture] of this.pictures.entries()) {
      const a = mapsA.subarray(index * size, (index + 1) * size);
      const b = mapsB.subarray(index * size, (index + 1) * size);
      const difference = mapDifference(a, b);
      const className = (this.explained === 'a' ? this.changes[index].a[0] : this.changes[index].b[0]).label;
      this.grid!.showMaps(index, {
        a: overlay(picture.pixels, a, width, height, this.colormap, OVERLAY_ALPHA),
        b: overlay(picture.pixels, b, width, height, this.colormap, OVERLAY_ALPHA),
        difference: differencePicture(difference, width, height),
        captionA: `A: ${label} for “${className}”${at(results[0])}`,
        captionB: `B: ${label} for “${className}”${at(results[1])}`,
        captionDifference: `B − A: red where B looks more, blue less (largest ${largestDifference(difference).toFixed(2)})`,
      });
    }
  }

  /** Frees both models and their inputs. */
  private release(): void {
    for (const side of this.sides ?? []) {
      side.opened.model.dispose();
      side.input.dispose();
    }
    this.sides = undefined;
  }
}

/** Decodes the images; one that cannot be decoded is left out and named in `problems`. */
async function decodeAll(files: ExplainImage[], maxPixels: number): Promise<{ decoded: Picture[]; problems: string[] }> {
  const results = await Promise.allSettled(files.map((file) => decodeImage(file.name, new Uint8Array(file.bytes), maxPixels)));
  const problems = results.flatMap((r) => (r.status === 'rejected' ? [messageOf(r.reason)] : []));
  const decoded = files.flatMap((file, i) => {
    const result = results[i];
    return result.status === 'fulfilled' ? [{ name: file.name, pixels: result.value }] : [];
  });
  if (decoded.length === 0) throw new Error(problems.join(' ') || 'No images to compare the models on.');
  return { decoded, problems };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
