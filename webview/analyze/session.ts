/**
 * One analysis of a folder: the opened model, the folder's images and labels, and what the feature
 * pass computed (features at a layer, predictions, channel peaks). Views read it; only it runs passes,
 * and it holds the one cancellation token that VS Code's Cancel button reaches.
 */
import { analyseFolder, folderBatchSize, type AnalyseOptions, type FolderFeatures } from '../../src/engine/dataset/features';
import { unitRows } from '../../src/engine/dataset/neighbours';
import type { ChannelPeaks } from '../../src/engine/dataset/topPatches';
import { defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import type { OpenedModel } from '../../src/engine/openModel';
import { describePreprocessing } from '../../src/engine/preprocess';
import { ExplanationCancelled } from '../../src/engine/progress';
import type { CachedFeatures, FolderEntry } from '../../src/shared/analyzeProtocol';
import type { BackendName } from '../common/tfBackend';
import { progressReports } from '../common/progressReports';
import { safely } from '../common/safely';
import { lookupCache, postToHost } from './channel';
import type { FolderImages } from './folderImages';
import type { HostNativePass } from './nativePass';

/** Where the session tells the user what it is doing. */
export interface SessionReports {
  status(text: string): void;
  /** A problem worth a notice in the panel and an error message from VS Code. */
  problem(text: string): void;
  /** The images left out because they could not be decoded changed. */
  leftOut(reasons: readonly string[]): void;
}

/** Set `cancelled` to stop the work that holds it at its next batch. */
export interface CancelToken {
  cancelled: boolean;
}

export class AnalyzeSession {
  private computed?: { features: FolderFeatures; unit: Float32Array };
  private readonly peaksByLayer = new Map<string, ChannelPeaks>();
  private token: CancelToken = { cancelled: false };

  constructor(
    readonly opened: OpenedModel,
    readonly entries: readonly FolderEntry[],
    readonly folder: FolderImages,
    /** Each image's class index from its subfolder's name, −1 where none matches. */
    readonly truth: Int32Array,
    private readonly backend: BackendName,
    private readonly reports: SessionReports,
    /** The extension host's native pass, which runs the passes where it can. */
    private readonly native: HostNativePass,
  ) {}

  /** The features of the last finished pass, with their rows scaled to unit length; none before. */
  get features(): FolderFeatures | undefined {
    return this.computed?.features;
  }

  get unitFeatures(): Float32Array | undefined {
    return this.computed?.unit;
  }

  /** A fresh token for a new piece of work: VS Code's Cancel button reaches the latest one. */
  claimToken(): CancelToken {
    this.token = { cancelled: false };
    return this.token;
  }

  cancel(): void {
    this.token.cancelled = true;
  }

  /** The feature pass over the folder: from the cache when this layer was computed before, else streamed. True when it finished. */
  async computeFeatures(layer: string): Promise<boolean> {
    this.cancel(); // a pass for another layer is of no use any more
    const mine = this.claimToken();
    const peakLayer = safely(() => defaultTargetLayer(this.opened.model));
    const key = `${describePreprocessing(this.opened.input.preprocessing)}|${layer}|${peakLayer ?? ''}`;
    // The pass's first batches are read (or the host's native pass started) while the cache is looked
    // up: on a miss they arrive just behind the lookup's answer, on a hit they were read for nothing.
    const looking = lookupCache(key);
    const readsBegun = !this.native.offered;
    if (readsBegun) this.folder.beginPass(this.passBatchSize(), false);
    const lookup = await looking;
    const cached = this.fitsFolder(lookup.features);
    let features: FolderFeatures;
    try {
      if (cached) {
        features = {
          count: this.entries.length,
          featureLayer: cached.featureLayer,
          dim: cached.dim,
          features: new Float32Array(cached.features),
          predicted: new Int32Array(cached.predicted),
          confidence: new Float32Array(cached.confidence),
        };
        for (const [path, reason] of cached.problems) this.folder.problems.set(path, reason);
        this.reports.status(`Features of ${layer} for ${this.decodedCount()} images, from the cache.`);
      } else {
        this.folder.setFolderBytes(lookup.imageBytes);
        let natively: boolean;
        ({ features, natively } = await this.streamFolder(layer, peakLayer, mine, readsBegun));
        postToHost({ type: 'storeCache', key, features: cacheEntry(features, [...this.folder.problems]) });
        this.reports.status(`Features of ${layer} for ${this.decodedCount()} images${this.where(natively)}.`);
      }
    } catch (error) {
      if (error instanceof ExplanationCancelled) this.reports.status('Cancelled.');
      else this.reports.problem(`Reading the folder failed: ${(error as Error).message}`);
      return false;
    }
    this.computed = { features, unit: unitRows(features.features, features.dim) };
    this.reports.leftOut([...this.folder.problems.values()]);
    return true;
  }

  /** Channel peaks at a layer: one more pass over the folder unless known, kept for the panel's life. */
  async peaksAt(layer: string): Promise<ChannelPeaks> {
    const known = this.peaksByLayer.get(layer);
    if (known) return known;
    const features = this.requireFeatures();
    const mine = this.claimToken();
    const { features: result } = await this.streamFolder(features.featureLayer, layer, mine, false);
    return result.peaks!;
  }

  /** Images left out of every view: those that could not be decoded. */
  skipped(): Set<number> {
    return new Set(this.entries.flatMap((e, i) => (this.folder.problems.has(e.path) ? [i] : [])));
  }

  /** The feature rows of the images that could be decoded, and which images they are. */
  keptRows(): { rows: Float32Array; images: number[] } {
    const { features, dim } = this.requireFeatures();
    const skip = this.skipped();
    if (skip.size === 0) return { rows: features, images: this.entries.map((_, i) => i) };
    const images = this.entries.map((_, i) => i).filter((i) => !skip.has(i));
    const rows = new Float32Array(images.length * dim);
    images.forEach((image, i) => rows.set(features.subarray(image * dim, (image + 1) * dim), i * dim));
    return { rows, images };
  }

  className(index: number): string {
    return this.opened.labels?.names[index] ?? `class ${index}`;
  }

  /** One line about an image: its path, class folder and prediction. */
  describe(image: number): string {
    const entry = this.entries[image];
    const features = this.features;
    const predicted = features
      ? ` · predicted ${this.className(features.predicted[image])} (${(features.confidence[image] * 100).toFixed(0)}%)`
      : '';
    return `${entry.path}${entry.label ? ` · ${entry.label}` : ''}${predicted}`;
  }

  requireFeatures(): FolderFeatures {
    if (!this.features) throw new Error('the folder has not been read yet');
    return this.features;
  }

  /** Where the pass ran, when the host offered its native runtime: there, or here and why not there. */
  private where(natively: boolean): string {
    if (natively) return ' (ONNX Runtime in the extension host)';
    const declined = this.native.declined;
    return declined ? ` (in this view: the extension host's ONNX Runtime did not run it: ${declined})` : '';
  }

  private decodedCount(): number {
    return this.entries.length - this.folder.problems.size;
  }

  private passBatchSize(): number {
    return folderBatchSize(this.backend, this.pixels());
  }

  private pixels(): number {
    const { width, height } = this.opened.input.preprocessing;
    return width * height;
  }

  /** Cached features are used only when they have one row per image of the folder (else: computed afresh). */
  private fitsFolder(cached: CachedFeatures | undefined): CachedFeatures | undefined {
    const count = this.entries.length;
    return cached &&
      cached.dim > 0 &&
      cached.features.byteLength === count * cached.dim * 4 &&
      cached.predicted.byteLength === count * 4 &&
      cached.confidence.byteLength === count * 4
      ? cached
      : undefined;
  }

  /**
   * One pass over the folder: on the host's native runtime where it runs them (a pass that fails there
   * runs again here, and so do the later ones), else here, on reads begun already or begun now.
   */
  private async streamFolder(
    layer: string,
    peakLayer: string | undefined,
    token: CancelToken,
    readsBegun: boolean,
  ): Promise<{ features: FolderFeatures; natively: boolean }> {
    if (await this.native.ready()) {
      try {
        const summarise = this.native.summariser({
          count: this.entries.length,
          preprocessing: this.opened.input.preprocessing,
          featureLayer: layer,
          peakLayer,
          problems: this.folder.problems,
        });
        const batchSize = folderBatchSize('native', this.pixels());
        return { features: await this.runPass(layer, peakLayer, token, { summarise, batchSize }), natively: true };
      } catch (error) {
        if (error instanceof ExplanationCancelled) throw error;
        this.native.stop((error as Error).message);
        readsBegun = false;
      }
    }
    if (!readsBegun) this.folder.beginPass(this.passBatchSize());
    const loadBatch = async (start: number, end: number) => {
      const asked = performance.now();
      try {
        return await this.folder.batch(start, end);
      } finally {
        performance.measure('ConvLens folder batch load', { start: asked });
      }
    };
    return { features: await this.runPass(layer, peakLayer, token, { loadBatch, batchSize: this.passBatchSize() }), natively: false };
  }

  private async runPass(
    layer: string,
    peakLayer: string | undefined,
    token: CancelToken,
    batches: Pick<AnalyseOptions, 'loadBatch' | 'summarise' | 'batchSize'>,
  ): Promise<FolderFeatures> {
    const count = this.entries.length;
    const title = `ConvLens: reading ${count} images`;
    this.reports.status(`Computing features of ${layer}…`);
    // User Timing: the pass shows in DevTools' performance panel, and bench/analyzeWebview.ts reads it.
    performance.mark('ConvLens folder pass start');
    try {
      const result = await analyseFolder(this.opened.model, {
        count,
        ...batches,
        featureLayer: layer,
        peakLayer,
        progress: { token, report: progressReports((done, total) => postToHost({ type: 'progress', title, done, total })) },
      } as AnalyseOptions);
      if (result.peaks && peakLayer) this.peaksByLayer.set(peakLayer, result.peaks);
      performance.measure('ConvLens folder pass', 'ConvLens folder pass start');
      return result;
    } finally {
      postToHost({ type: 'progressEnd' });
    }
  }
}

/** What the host stores for a finished pass: copies, since the buffers are transferred. */
function cacheEntry(features: FolderFeatures, problems: [string, string][]): CachedFeatures {
  return {
    featureLayer: features.featureLayer,
    dim: features.dim,
    features: features.features.slice().buffer,
    predicted: features.predicted.slice().buffer,
    confidence: features.confidence.slice().buffer,
    problems,
  };
}
