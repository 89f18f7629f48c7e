/**
 * The folder pass run by the extension host on its native runtime (src/panels/analyze/nativePass.ts),
 * where it offers one: asked once whether it can run the model, then for each batch's summary, the
 * next batches asked for ahead so that the host reads and decodes them while it runs this one.
 */
import { askingAhead } from '../../src/engine/dataset/askingAhead';
import type { BatchSummary } from '../../src/engine/dataset/features';
import type { Preprocessing } from '../../src/engine/preprocess';
import type { HostBatch } from '../../src/shared/analyzeProtocol';
import { openNativePass, summariseNatively } from './channel';

/** Batches asked for beyond the one the pass waits for. */
const AHEAD = 2;

export interface NativePassRequest {
  count: number;
  preprocessing: Preprocessing;
  featureLayer: string;
  peakLayer?: string;
  /** Where each image left out (path → reason) is noted. */
  problems: Map<string, string>;
}

export class HostNativePass {
  private opening: Promise<boolean> | undefined;
  /** Why the host does not run the pass, once known. */
  declined: string | undefined;

  constructor(
    /** Whether the host offered to run the passes (it may still decline this model). */
    readonly offered: boolean,
  ) {}

  /** Whether the host runs this panel's passes (asked once). */
  ready(): Promise<boolean> {
    this.opening ??= this.offered
      ? openNativePass().then(
          ({ declined }) => ((this.declined = declined), declined === undefined),
          (error: Error) => ((this.declined = error.message), false),
        )
      : Promise.resolve(false);
    return this.opening;
  }

  /** After a pass on the host failed: the page runs the passes from now on. */
  stop(reason: string): void {
    this.declined = reason;
    this.opening = Promise.resolve(false);
  }

  /** The batch summaries of one pass, for analyseFolder's `summarise`: the batches it asks for, and the next ones ahead. */
  summariser({ count, problems, ...what }: NativePassRequest): (start: number, end: number) => Promise<BatchSummary> {
    const batches = askingAhead(count, AHEAD, (start, end) => summariseNatively({ start, end, ...what }));
    return async (start, end) => {
      const batch = await batches(start, end);
      for (const [path, reason] of batch.problems) problems.set(path, reason);
      return summaryOf(batch);
    };
  }
}

function summaryOf(batch: HostBatch): BatchSummary {
  return {
    features: new Float32Array(batch.features),
    dim: batch.dim,
    scores: new Float32Array(batch.scores),
    classCount: batch.classCount,
    ...(batch.peaks
      ? { peaks: { ...batch.peaks, values: new Float32Array(batch.peaks.values), positions: new Int32Array(batch.peaks.positions) } }
      : {}),
  };
}
