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
 * image share); the imputations (`imputation.ts`) run on a second thread where the platform has one,
 * while the network scores those already made (`perturbations.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../graph';
import { checkpoint, type Progress } from '../progress';
import { percentile } from './imputation';
import { makePerturbations, type PerturbationJob, perturbationCount, pixelsBelow } from './perturbations';
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
  const [batch, height, width, channels] = input.shape;
  const images = (await input.data()) as Float32Array;
  const kind = options.score ?? 'probability';
  const batchSize = options.batchSize ?? defaultBatchSize(height * width);
  const base = options.baseScores;
  if (base !== undefined && base.length !== batch) throw new Error(`${base.length} base scores for ${batch} images`);
  const job: PerturbationJob = {
    images,
    maps: (await maps.data()) as Float32Array,
    batch,
    height,
    width,
    channels,
    percentiles,
    noise,
    seed: options.seed ?? 0,
  };
  const count = perturbationCount(job);
  // Progress in steps: each imputation, then each image through the network.
  const counter = { done: 0, total: 2 * count + (base ? 0 : batch) };
  const shape: [number, number, number] = [height, width, channels];

  // The unperturbed images (unless their scores are given) go first, with the first imputed ones.
  const unperturbed = base ? [] : splitImages(images, batch);
  const first = unperturbed.length;
  const classOf = (i: number) => classes[i < first ? i : Math.floor((i - first) / (2 * percentiles.length))];
  const scores = new Float32Array(first + count);
  const perturbations = makePerturbations(job);
  try {
    for (let scored = 0; scored < scores.length;) {
      // As many as are ready (at least one): the network never waits for a full batch.
      const ready = unperturbed.splice(0, batchSize);
      if (ready.length < batchSize && scored + ready.length < scores.length) {
        const imputed = await perturbations.take(batchSize - ready.length);
        counter.done += imputed.length;
        await checkpoint(options.progress, counter.done, counter.total);
        ready.push(...imputed);
      }
      if (ready.length === 0) throw new Error(`ROAD's imputations ended after ${scored - first} of ${count} images`);
      const classesOf = ready.map((_, i) => classOf(scored + i));
      scores.set(await scoreMany(model, inputId, ready, classesOf, shape, kind, batchSize, options.progress, counter), scored);
      scored += ready.length;
    }
  } finally {
    perturbations.close();
  }
  const before = base ? Float32Array.from(base) : scores.subarray(0, first);

  const result: RoadResult = { percentiles, morf: [], lerf: [], combined: [], morfByPercentile: [], lerfByPercentile: [] };
  const perImage = percentiles.length;
  for (let b = 0; b < batch; b++) {
    // As the library: float32 scores, float32 differences, float32 mean.
    const change = (i: number) => Math.fround(scores[first + 2 * perImage * b + i] - before[b]);
    const morf = percentiles.map((_, i) => change(i));
    const lerf = percentiles.map((_, i) => change(perImage + i));
    const mean = (xs: number[]) => Math.fround(xs.reduce((s, x) => s + x, 0) / xs.length);
    result.morfByPercentile.push(morf);
    result.lerfByPercentile.push(lerf);
    result.morf.push(mean(morf));
    result.lerf.push(mean(lerf));
    result.combined.push((mean(lerf) - mean(morf)) / 2);
  }
  return result;
}

function splitImages(images: Float32Array, batch: number): Float32Array[] {
  const size = images.length / batch;
  return Array.from({ length: batch }, (_, b) => images.subarray(b * size, (b + 1) * size));
}
