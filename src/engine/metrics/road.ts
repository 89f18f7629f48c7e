/**
 * ROAD (RemOve And Debias; Rong et al., ICML 2022) as pytorch-grad-cam's `metrics/road.py` and
 * `metrics/perturbation_confidence.py` define it: for a percentile p, `RemoveMostRelevantFirst` keeps
 * the pixels whose map value is below the map's p-th percentile (`np.percentile`, linear) and imputes the
 * others (`NoisyLinearImputer`); `RemoveLeastRelevantFirst` does the same with 1 − map. The score is the
 * class score after imputation minus before (`PerturbationConfidenceMetric`, `return_diff=True`), and
 * `ROADMostRelevantFirstAverage` / `ROADLeastRelevantFirstAverage` average it over the percentiles
 * (10, 20, …, 90 by default); `ROADCombined` is (LeRF − MoRF) / 2. A faithful map gives a low (very
 * negative) MoRF and a LeRF near 0, hence a high combined score.
 *
 * Cost: 2 × percentiles images through the network per image and map (10 at 5 percentiles), in batches,
 * plus one for the unperturbed score unless the caller gives it (`baseScores`, which several maps of one
 * image share); the imputations run on the CPU between them (`imputation.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../graph';
import { checkpoint, type Progress } from '../progress';
import { seededRandom } from '../dataset/random';
import { noisyLinearImpute, normalFrom, percentile, percentileOfSorted } from './imputation';
import { type ScoreKind, scoreMany } from './scoring';

export const DEFAULT_PERCENTILES: readonly number[] = [10, 20, 30, 40, 50, 60, 70, 80, 90];
export const DEFAULT_ROAD_NOISE = 0.01;

export interface RoadOptions {
  percentiles?: readonly number[];
  /** Standard deviation of the noise added to imputed values; 0 makes ROAD deterministic. */
  noise?: number;
  /** Seeds the noise. */
  seed?: number;
  score?: ScoreKind;
  /** Each image's score (of `classes[b]`, of the kind `score` names) when the caller has it already. */
  baseScores?: readonly number[];
  /** Images per network run; by default as many as `BATCH_PIXELS` allows. */
  batchSize?: number;
  progress?: Progress;
}

/**
 * The most input pixels per network run by default: four 224 × 224 images. On the WebAssembly backend a
 * ResNet-18 took the same time per image in batches of 1 to 19, while its peak tensor memory grew from
 * 79 MB in batches of 4 to 198 MB in one batch of 19; small images still go through in one run.
 */
export const BATCH_PIXELS = 4 * 224 * 224;

function defaultBatchSize(pixels: number): number {
  return Math.max(1, Math.min(32, Math.floor(BATCH_PIXELS / pixels)));
}

export interface RoadResult {
  percentiles: number[];
  /** Per image: the score change averaged over the percentiles. */
  morf: number[];
  lerf: number[];
  /** (lerf − morf) / 2 per image. */
  combined: number[];
  /** Per image, per percentile: the score change. */
  morfByPercentile: number[][];
  lerfByPercentile: number[][];
}

/** Which pixels `RemoveMostRelevantFirst` keeps (1) at a percentile of `values` (the map, or 1 − map). */
export function keptPixels(values: Float32Array, percent: number): Uint8Array {
  return pixelsBelow(values, percentile(values, percent));
}

function pixelsBelow(values: Float32Array, threshold: number): Uint8Array {
  const keep = new Uint8Array(values.length);
  for (let p = 0; p < values.length; p++) keep[p] = values[p] < threshold ? 1 : 0;
  return keep;
}

/**
 * ROAD scores for each image of `input` ([batch, H, W, C], the model's preprocessed input) and its map
 * (`maps`, [batch, H, W]) for the class `classes[b]`.
 */
export async function road(
  model: RunnableModel,
  inputId: string,
  input: tf.Tensor4D,
  maps: tf.Tensor3D,
  classes: readonly number[],
  options: RoadOptions = {},
): Promise<RoadResult> {
  const percentiles = [...(options.percentiles ?? DEFAULT_PERCENTILES)];
  const bad = percentiles.find((p) => !(p >= 0 && p <= 100));
  if (bad !== undefined) throw new Error(`percentile ${bad} is not between 0 and 100`);
  const noise = options.noise ?? DEFAULT_ROAD_NOISE;
  const normal = normalFrom(seededRandom(options.seed ?? 0));
  const [batch, height, width, channels] = input.shape;
  const pixels = height * width;
  const images = (await input.data()) as Float32Array;
  const mapValues = (await maps.data()) as Float32Array;
  const kind = options.score ?? 'probability';
  const batchSize = options.batchSize ?? defaultBatchSize(height * width);
  const base = options.baseScores;
  if (base !== undefined && base.length !== batch) throw new Error(`${base.length} base scores for ${batch} images`);
  // Progress in steps: each imputation, then each image through the network.
  const counter = { done: 0, total: batch * (4 * percentiles.length + (base ? 0 : 1)) };

  let lastYield = Date.now();
  const result: RoadResult = { percentiles, morf: [], lerf: [], combined: [], morfByPercentile: [], lerfByPercentile: [] };
  for (let b = 0; b < batch; b++) {
    const image = images.slice(b * pixels * channels, (b + 1) * pixels * channels);
    const map = mapValues.slice(b * pixels, (b + 1) * pixels);
    const inverse = Float32Array.from(map, (v) => 1 - v);
    const perturbed: Float32Array[] = base ? [] : [image];
    for (const values of [map, inverse]) {
      const sorted = Float64Array.from(values).sort();
      for (const p of percentiles) {
        const keep = pixelsBelow(values, percentileOfSorted(sorted, p));
        perturbed.push(noisyLinearImpute(image, keep, height, width, channels, noise, normal));
        counter.done++;
        // Small images impute in a millisecond: let the event loop run (and a cancel arrive) every 20 ms or so.
        if (Date.now() - lastYield > 20) {
          await checkpoint(options.progress, counter.done, counter.total);
          lastYield = Date.now();
        } else {
          options.progress?.report?.(counter.done, counter.total);
        }
      }
    }
    const classesOf = new Array<number>(perturbed.length).fill(classes[b]);
    const scores = await scoreMany(
      model,
      inputId,
      perturbed,
      classesOf,
      [height, width, channels],
      kind,
      batchSize,
      options.progress,
      counter,
    );
    // As the library: float32 scores, float32 differences, float32 mean.
    const first = base ? 0 : 1;
    const before = base ? Math.fround(base[b]) : scores[0];
    const change = (i: number) => Math.fround(scores[first + i] - before);
    const count = percentiles.length;
    const morf = percentiles.map((_, i) => change(i));
    const lerf = percentiles.map((_, i) => change(count + i));
    const mean = (xs: number[]) => Math.fround(xs.reduce((s, x) => s + x, 0) / xs.length);
    result.morfByPercentile.push(morf);
    result.lerfByPercentile.push(lerf);
    result.morf.push(mean(morf));
    result.lerf.push(mean(lerf));
    result.combined.push((mean(lerf) - mean(morf)) / 2);
  }
  return result;
}
