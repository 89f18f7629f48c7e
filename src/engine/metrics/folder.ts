/**
 * The faithfulness metrics of several explanation methods over a sample of images, each averaged with
 * its standard error: what the Analyze panel's Faithfulness tab shows. Each image's class (its top
 * prediction unless given) and unperturbed score come from one forward pass that all methods share;
 * then, per method, its map, ROAD, deletion, insertion and the confidence change.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph } from '../execute';
import type { RunnableModel } from '../graph';
import { explain } from '../explain';
import type { Method } from '../explain/methods';
import { scoreNode } from '../explain/scores';
import { seededRandom } from '../dataset/random';
import { checkpoint, type Progress } from '../progress';
import { confidenceChange } from './confidence';
import { deletionInsertion } from './curves';
import { DEFAULT_ROAD_NOISE, road } from './road';
import { type ScoreKind, scoresOf } from './scoring';

export type FaithfulnessColumn =
  'roadCombined' | 'roadMorf' | 'roadLerf' | 'deletionAuc' | 'insertionAuc' | 'averageDrop' | 'increaseInConfidence';

/** The columns in the order the table shows them, with which way is more faithful. */
export const FAITHFULNESS_COLUMNS: readonly { key: FaithfulnessColumn; label: string; better: 'higher' | 'lower' }[] = [
  { key: 'roadCombined', label: 'ROAD combined', better: 'higher' },
  { key: 'roadMorf', label: 'ROAD MoRF', better: 'lower' },
  { key: 'roadLerf', label: 'ROAD LeRF', better: 'higher' },
  { key: 'deletionAuc', label: 'Deletion AUC', better: 'lower' },
  { key: 'insertionAuc', label: 'Insertion AUC', better: 'higher' },
  { key: 'averageDrop', label: 'Average drop %', better: 'lower' },
  { key: 'increaseInConfidence', label: 'Increase in confidence %', better: 'higher' },
];

/** ROAD's percentiles where a quick overview is wanted: 10 images through the network per map. */
export const QUICK_PERCENTILES: readonly number[] = [10, 30, 50, 70, 90];

export interface FaithfulnessOptions {
  /** One class per image; each image's top prediction by default. */
  classes?: readonly number[];
  /** ROAD's percentiles: 10, 20, …, 90 by default. */
  percentiles?: readonly number[];
  roadNoise?: number;
  seed?: number;
  score?: ScoreKind;
  /** Target layer of the CAM family. */
  layer?: string;
  batchSize?: number;
  /** Keep each method's map of each image (`maps`); off by default. */
  keepMaps?: boolean;
  /** In hundredths of an (image, method) pair. */
  progress?: Progress;
}

export interface Estimate {
  mean: number;
  /** The sample standard deviation over √n; NaN for fewer than two images. */
  standardError: number;
}

export interface MethodFaithfulness {
  method: Method;
  /** Per column, one value per image (in the order of the images). */
  values: Record<FaithfulnessColumn, number[]>;
  summary: Record<FaithfulnessColumn, Estimate>;
  /** With `keepMaps`: per image, the map ([H·W], row-major). */
  maps?: Float32Array[];
}

/**
 * Each method's metrics over the images of `images` ([n, H, W, C], the model's preprocessed input),
 * one image at a time so that memory stays that of one image's work.
 */
export async function folderFaithfulness(
  model: RunnableModel,
  images: tf.Tensor4D,
  methods: readonly Method[],
  options: FaithfulnessOptions = {},
): Promise<MethodFaithfulness[]> {
  const count = images.shape[0];
  if (options.classes && options.classes.length !== count) throw new Error(`${options.classes.length} classes for ${count} images`);
  const inputId = model.inputs[0].id;
  const score = options.score ?? 'probability';
  const values = methods.map(() => emptyColumns());
  const kept = methods.map((): Float32Array[] => []);
  const total = count * methods.length * 100;
  let pair = 0;
  // A pair's own work reports into its share of the whole: map 10 %, ROAD 40 %, curves 40 %, confidence 10 %.
  const within = (from: number, to: number): Progress => ({
    token: options.progress?.token,
    report: (done, of) => options.progress?.report?.(Math.round(pair * 100 + from + ((to - from) * done) / Math.max(1, of)), total),
  });
  for (let i = 0; i < count; i++) {
    const x = tf.slice(images, i, 1) as tf.Tensor4D;
    try {
      const { classIndex, base } = await classAndScore(model, inputId, x, options.classes?.[i], score);
      for (const [m, method] of methods.entries()) {
        const { maps } = await explain(model, x, {
          method,
          classIndex: [classIndex],
          layer: options.layer,
          batchSize: options.batchSize,
          progress: within(0, 10),
        });
        try {
          if (options.keepMaps) kept[m].push(Float32Array.from(await maps.data()));
          const classes = [classIndex];
          const roadResult = await road(model, inputId, x, maps, classes, {
            percentiles: options.percentiles,
            noise: options.roadNoise ?? DEFAULT_ROAD_NOISE,
            seed: options.seed,
            score,
            baseScores: [base],
            batchSize: options.batchSize,
            progress: within(10, 50),
          });
          const deletion = await deletionInsertion(model, inputId, 'deletion', x, maps, classes, {
            score,
            batchSize: options.batchSize,
            progress: within(50, 70),
          });
          const insertion = await deletionInsertion(model, inputId, 'insertion', x, maps, classes, {
            score,
            batchSize: options.batchSize,
            progress: within(70, 90),
          });
          const confidence = await confidenceChange(model, inputId, x, maps, classes, { score, baseScores: [base] });
          const row = values[m];
          row.roadCombined.push(roadResult.combined[0]);
          row.roadMorf.push(roadResult.morf[0]);
          row.roadLerf.push(roadResult.lerf[0]);
          row.deletionAuc.push(deletion.auc[0]);
          row.insertionAuc.push(insertion.auc[0]);
          row.averageDrop.push(confidence.drop[0]);
          row.increaseInConfidence.push(confidence.after[0] > confidence.before[0] ? 100 : 0);
        } finally {
          maps.dispose();
        }
        pair++;
        await checkpoint(options.progress, pair * 100, total);
      }
    } finally {
      x.dispose();
    }
  }
  return methods.map((method, m) => ({
    method,
    values: values[m],
    ...(options.keepMaps ? { maps: kept[m] } : {}),
    summary: Object.fromEntries(Object.entries(values[m]).map(([key, column]) => [key, estimate(column)])) as Record<
      FaithfulnessColumn,
      Estimate
    >,
  }));
}

/** The mean and its standard error. */
export function estimate(values: readonly number[]): Estimate {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, standardError: NaN };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { mean, standardError: Math.sqrt(variance / n) };
}

/** For each column, the index of the most faithful method's row (the first among equals). */
export function bestRows(results: readonly MethodFaithfulness[]): Record<FaithfulnessColumn, number> {
  const best = {} as Record<FaithfulnessColumn, number>;
  for (const { key, better } of FAITHFULNESS_COLUMNS) {
    let choice = -1;
    results.forEach(({ summary }, i) => {
      const value = summary[key].mean;
      if (!Number.isFinite(value)) return;
      const current = choice >= 0 ? results[choice].summary[key].mean : undefined;
      if (current === undefined || (better === 'higher' ? value > current : value < current)) choice = i;
    });
    best[key] = choice;
  }
  return best;
}

/**
 * Up to `count` of the images, spread over the classes: the labelled ones (truth ≥ 0) taken a class at
 * a time in turn, each class's order shuffled by `seed`, then unlabelled ones if too few. Indices in
 * `skip` (images that cannot be read) are never chosen. Returned in increasing order.
 */
export function spreadSample(truth: ArrayLike<number>, count: number, seed: number, skip: ReadonlySet<number> = new Set()): number[] {
  const random = seededRandom(seed);
  const shuffled = (indices: number[]) => {
    for (let i = indices.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [indices[i], indices[j]] = [indices[j], indices[i]];
    }
    return indices;
  };
  const byClass = new Map<number, number[]>();
  const unlabelled: number[] = [];
  for (let i = 0; i < truth.length; i++) {
    if (skip.has(i)) continue;
    if (truth[i] >= 0) byClass.set(truth[i], [...(byClass.get(truth[i]) ?? []), i]);
    else unlabelled.push(i);
  }
  const queues = [...byClass.keys()].sort((a, b) => a - b).map((c) => shuffled(byClass.get(c)!));
  const chosen: number[] = [];
  for (let round = 0; chosen.length < count && queues.some((q) => round < q.length); round++) {
    for (const queue of queues) if (round < queue.length && chosen.length < count) chosen.push(queue[round]);
  }
  chosen.push(...shuffled(unlabelled).slice(0, Math.max(0, count - chosen.length)));
  return chosen.sort((a, b) => a - b);
}

function emptyColumns(): Record<FaithfulnessColumn, number[]> {
  return {
    roadCombined: [],
    roadMorf: [],
    roadLerf: [],
    deletionAuc: [],
    insertionAuc: [],
    averageDrop: [],
    increaseInConfidence: [],
  };
}

/** The image's class (the given one, else its top prediction) and its score, from one forward pass. */
async function classAndScore(
  model: RunnableModel,
  inputId: string,
  x: tf.Tensor4D,
  given: number | undefined,
  kind: ScoreKind,
): Promise<{ classIndex: number; base: number }> {
  const [output] = runGraph(model, new Map([[inputId, x]]), [scoreNode(model)]);
  try {
    let classIndex = given;
    if (classIndex === undefined) {
      // One unit (a sigmoid's logit): class 1 where it is positive, as [−logit, logit] puts it.
      const top = tf.tidy(() => {
        const rows = tf.reshape(output, [1, -1]);
        return tf.argMax(rows.shape[1] === 1 ? tf.concat([tf.neg(rows), rows], 1) : rows, 1);
      });
      classIndex = (await top.data())[0];
      top.dispose();
    }
    const scores = scoresOf(output, [classIndex], kind);
    const base = (await scores.data())[0];
    scores.dispose();
    return { classIndex, base };
  } finally {
    output.dispose();
  }
}
