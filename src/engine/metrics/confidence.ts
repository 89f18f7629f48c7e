/**
 * Confidence change when the input is multiplied by its map: pytorch-grad-cam's
 * `CamMultImageConfidenceChange` (score of `input · map` minus score of `input`, the map broadcast over
 * the channels of the preprocessed input), with Chattopadhay et al.'s (Grad-CAM++, WACV 2018) average
 * drop, 100 · mean_i max(0, Y_i − O_i) / Y_i, and increase in confidence, 100 · mean_i 1[O_i > Y_i],
 * where Y_i is the score of image i and O_i the score of its explanation map.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../graph';
import { batches, checkpoint, type Progress } from '../progress';
import { type ScoreKind, scoreTensor } from './scoring';

export interface ConfidenceOptions {
  score?: ScoreKind;
  /** Each image's score Y (of `classes[b]`, of the kind `score` names) when the caller has it already. */
  baseScores?: readonly number[];
  batchSize?: number;
  progress?: Progress;
}

export interface ConfidenceResult {
  /** Per image: Y (the input's score) and O (the score of input · map). */
  before: number[];
  after: number[];
  /** O − Y per image (`CamMultImageConfidenceChange`). */
  change: number[];
  /** 100 · max(0, Y − O) / Y per image. */
  drop: number[];
  /** Chattopadhay's average drop (%) over the images. */
  averageDrop: number;
  /** Chattopadhay's increase in confidence: the percentage of images with O > Y. */
  increaseInConfidence: number;
}

export async function confidenceChange(
  model: RunnableModel,
  inputId: string,
  input: tf.Tensor4D,
  maps: tf.Tensor3D,
  classes: readonly number[],
  options: ConfidenceOptions = {},
): Promise<ConfidenceResult> {
  const kind = options.score ?? 'probability';
  const batch = input.shape[0];
  const base = options.baseScores;
  if (base !== undefined && base.length !== batch) throw new Error(`${base.length} base scores for ${batch} images`);
  const chunks = batches(batch, Math.max(1, Math.floor((options.batchSize ?? 32) / 2)));
  const before: number[] = [];
  const after: number[] = [];
  for (const [index, [start, end]] of chunks.entries()) {
    const scores = tf.tidy(() => {
      const x = tf.slice(input, start, end - start);
      const m = tf.expandDims(tf.slice(maps, start, end - start), -1);
      const rows = classes.slice(start, end);
      if (base) return scoreTensor(model, inputId, tf.mul(x, m) as tf.Tensor4D, rows, kind);
      return scoreTensor(model, inputId, tf.concat([x, tf.mul(x, m)]) as tf.Tensor4D, [...rows, ...rows], kind);
    });
    const values = await scores.data();
    scores.dispose();
    const n = end - start;
    if (base) {
      before.push(...base.slice(start, end).map(Math.fround));
      after.push(...values);
    } else {
      before.push(...values.subarray(0, n));
      after.push(...values.subarray(n, 2 * n));
    }
    await checkpoint(options.progress, index + 1, chunks.length);
  }
  const change = after.map((o, i) => Math.fround(o - before[i]));
  const drop = after.map((o, i) => (100 * Math.max(0, before[i] - o)) / before[i]);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    before,
    after,
    change,
    drop,
    averageDrop: mean(drop),
    increaseInConfidence: (100 * after.filter((o, i) => o > before[i]).length) / batch,
  };
}
