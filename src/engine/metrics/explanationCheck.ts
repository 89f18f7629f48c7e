/**
 * "Check this explanation" and the method report: the metrics of `docs/explanations.md` ("Metrics") for
 * maps of images already in memory. One image, one method: its deletion and insertion curves, ROAD, the
 * confidence change, and the map as the model's layers are randomised from the output down (a strip of
 * a few steps of the cascade). Several methods on a few images: `folderFaithfulness`'s table with each
 * method's maps and the rank correlation left after randomising every layer.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { explain, type ExplainRequest } from '../explain';
import type { Method } from '../explain/methods';
import type { RunnableModel } from '../graph';
import { checkpoint, ExplanationCancelled, type Progress } from '../progress';
import { confidenceChange } from './confidence';
import { deletionInsertion } from './curves';
import {
  estimate,
  FAITHFULNESS_COLUMNS,
  folderFaithfulness,
  QUICK_PERCENTILES,
  type Estimate,
  type FaithfulnessColumn,
  type MethodFaithfulness,
} from './folder';
import { cascadingRandomisation, layersWithWeights } from './randomisation';
import { DEFAULT_ROAD_NOISE, road } from './road';

/** What the map explains and how it is computed: the same for the map checked and its randomised copies. */
export interface MapRequest {
  method: Method;
  classIndex: number;
  layer?: string;
  augSmooth?: boolean;
  eigenSmooth?: boolean;
  batchSize?: number;
}

export interface CheckOptions {
  /** Steps of the randomisation strip (6): evenly spread over the cascade, the last with every layer randomised. */
  stripSteps?: number;
  seed?: number;
  /** In hundredths of the whole check. */
  progress?: Progress;
}

export interface CurveSummary {
  /** The class probability after 0, 1, …, n steps. */
  curve: number[];
  auc: number;
}

export interface RandomisationStep {
  /** How many layers with weights were randomised, from the output down, and the last of them. */
  randomised: number;
  layer: string;
  spearman: number;
  ssim: number;
  /** The map of the randomised model ([H·W]). */
  map: Float32Array;
}

export interface ExplanationCheck {
  height: number;
  width: number;
  /** The map checked ([H·W], in [0, 1]). */
  map: Float32Array;
  deletion: CurveSummary;
  insertion: CurveSummary;
  road: { percentiles: number[]; morf: number; lerf: number; combined: number };
  /** Score of the image and of the image times its map (class probability); the drop in % of the first. */
  confidence: { before: number; after: number; drop: number };
  /** Every layer with weights, from the output down: the order of the cascade. */
  layers: string[];
  strip: RandomisationStep[];
  /** Layers whose randomisation did not change the output. */
  unchanged: string[];
}

/** `count` steps spread over a cascade of `layerCount` layers: 1…layerCount when there are few, ending with all. */
export function stripSteps(layerCount: number, count = 6): number[] {
  if (layerCount <= count) return Array.from({ length: layerCount }, (_, i) => i + 1);
  return [...new Set(Array.from({ length: count }, (_, i) => Math.max(1, Math.round(((i + 1) * layerCount) / count))))];
}

function mapsOf(model: RunnableModel, input: tf.Tensor4D, request: Omit<MapRequest, 'classIndex'>, classes: number[]) {
  const explainRequest: ExplainRequest = {
    method: request.method,
    classIndex: classes,
    layer: request.layer,
    augSmooth: request.augSmooth,
    eigenSmooth: request.eigenSmooth,
    batchSize: request.batchSize,
  };
  return async () => (await explain(model, input, explainRequest)).maps;
}

/** A progress that reports `from`–`to` hundredths of the whole into `progress`. */
function share(progress: Progress | undefined, from: number, to: number): Progress {
  return {
    token: progress?.token,
    report: (done, total) => progress?.report?.(Math.round(from + ((to - from) * done) / Math.max(1, total)), 100),
  };
}

/** The check of one image's map (`image`: [1, H, W, C], the model's preprocessed input). */
export async function checkExplanation(
  model: RunnableModel,
  image: tf.Tensor4D,
  request: MapRequest,
  options: CheckOptions = {},
): Promise<ExplanationCheck> {
  if (image.shape[0] !== 1) throw new Error(`one image to check, not ${image.shape[0]}`);
  const [, height, width] = image.shape;
  const inputId = model.inputs[0].id;
  const classes = [request.classIndex];
  const progress = options.progress;
  const maps = await mapsOf(model, image, request, classes)();
  try {
    await checkpoint(progress, 5, 100);
    const roadResult = await road(model, inputId, image, maps, classes, {
      percentiles: QUICK_PERCENTILES,
      noise: DEFAULT_ROAD_NOISE,
      seed: options.seed,
      batchSize: request.batchSize,
      progress: share(progress, 5, 25),
    });
    const deletion = await deletionInsertion(model, inputId, 'deletion', image, maps, classes, {
      batchSize: request.batchSize,
      progress: share(progress, 25, 45),
    });
    const insertion = await deletionInsertion(model, inputId, 'insertion', image, maps, classes, {
      batchSize: request.batchSize,
      progress: share(progress, 45, 65),
    });
    const confidence = await confidenceChange(model, inputId, image, maps, classes);
    const layers = layersWithWeights(model);
    const randomised = await cascadingRandomisation(
      model,
      image,
      { map: mapsOf(model, image, request, classes) },
      {
        seed: options.seed,
        keepMaps: true,
        measureAfter: stripSteps(layers.length, options.stripSteps),
        progress: share(progress, 65, 100),
      },
    );
    const { steps, maps: stripMaps } = randomised.methods.map;
    return {
      height,
      width,
      map: Float32Array.from(await maps.data()),
      deletion: { curve: deletion.curves[0], auc: deletion.auc[0] },
      insertion: { curve: insertion.curves[0], auc: insertion.auc[0] },
      road: { percentiles: roadResult.percentiles, morf: roadResult.morf[0], lerf: roadResult.lerf[0], combined: roadResult.combined[0] },
      confidence: { before: confidence.before[0], after: confidence.after[0], drop: confidence.drop[0] },
      layers,
      strip: randomised.randomised.map((count, i) => ({
        randomised: count,
        layer: layers[count - 1],
        spearman: steps[i].spearman[0],
        ssim: steps[i].ssim[0],
        map: stripMaps![i][0],
      })),
      unchanged: randomised.unchanged,
    };
  } finally {
    maps.dispose();
  }
}

export type ReportColumn = FaithfulnessColumn | 'randomisedSpearman';

/** The report's columns: the faithfulness table's, then the rank correlation left after randomising every layer. */
export const REPORT_COLUMNS: readonly { key: ReportColumn; label: string; better: 'higher' | 'lower' }[] = [
  ...FAITHFULNESS_COLUMNS,
  { key: 'randomisedSpearman', label: 'Spearman, all layers randomised', better: 'lower' },
];

export interface MethodReportRow {
  method: Method;
  /** Per image, the map ([H·W]). */
  maps: Float32Array[];
  values: Record<ReportColumn, number[]>;
  summary: Record<ReportColumn, Estimate>;
}

export interface MethodReport {
  rows: MethodReportRow[];
  /** Methods that cannot explain this model, and why. */
  failed: { method: Method; reason: string }[];
}

export interface ReportOptions {
  layer?: string;
  batchSize?: number;
  seed?: number;
  /** In hundredths of the whole report. */
  progress?: Progress;
}

/**
 * Every method in `methods` on the images of `images` ([n, H, W, C]), each explaining `classes[i]`:
 * the faithfulness metrics (ROAD at the quick percentiles), the maps, and the Spearman correlation of
 * each map with the map of the fully randomised model.
 */
export async function methodReport(
  model: RunnableModel,
  images: tf.Tensor4D,
  classes: readonly number[],
  methods: readonly Method[],
  options: ReportOptions = {},
): Promise<MethodReport> {
  const rows: MethodReport['rows'] = [];
  const failed: MethodReport['failed'] = [];
  // One method at a time, so that one that cannot explain this model (CAM without global pooling…) is
  // named and the others still compared.
  const measured: MethodFaithfulness[] = [];
  for (const [m, method] of methods.entries()) {
    try {
      const [result] = await folderFaithfulness(model, images, [method], {
        classes,
        percentiles: QUICK_PERCENTILES,
        seed: options.seed,
        layer: options.layer,
        batchSize: options.batchSize,
        keepMaps: true,
        progress: share(options.progress, (70 * m) / methods.length, (70 * (m + 1)) / methods.length),
      });
      measured.push(result);
    } catch (error) {
      if (error instanceof ExplanationCancelled) throw error;
      failed.push({ method, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  if (measured.length === 0) return { rows, failed };
  const layers = layersWithWeights(model);
  const producers = Object.fromEntries(
    measured.map(({ method }) => [
      method,
      mapsOf(model, images, { method, layer: options.layer, batchSize: options.batchSize }, [...classes]),
    ]),
  );
  const randomised = await cascadingRandomisation(model, images, producers, {
    seed: options.seed,
    measureAfter: [layers.length],
    progress: share(options.progress, 70, 100),
  });
  for (const { method, values, summary, maps } of measured) {
    const spearman = randomised.methods[method].steps[0].spearman;
    rows.push({
      method,
      maps: maps!,
      values: { ...values, randomisedSpearman: spearman },
      summary: { ...summary, randomisedSpearman: estimate(spearman) },
    });
  }
  return { rows, failed };
}

/**
 * For each column, the index of the most faithful row (the first among equals); −1 where no value is
 * finite or all are equal (no method is better there).
 */
export function bestReportRows(rows: readonly MethodReportRow[]): Record<ReportColumn, number> {
  const best = {} as Record<ReportColumn, number>;
  for (const { key, better } of REPORT_COLUMNS) {
    let choice = -1;
    rows.forEach(({ summary }, i) => {
      const value = summary[key].mean;
      if (!Number.isFinite(value)) return;
      const current = choice >= 0 ? rows[choice].summary[key].mean : undefined;
      if (current === undefined || (better === 'higher' ? value > current : value < current)) choice = i;
    });
    const values = rows.map((row) => row.summary[key].mean).filter(Number.isFinite);
    best[key] = values.every((v) => v === values[0]) ? -1 : choice;
  }
  return best;
}
