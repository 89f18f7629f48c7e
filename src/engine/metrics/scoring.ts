/** The score the faithfulness metrics compare: each image's class probability (default) or logit. */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph } from '../execute';
import type { RunnableModel } from '../graph';
import { classScores, scoreNode } from '../explain/scores';
import { batches, checkpoint, type Progress } from '../progress';

/**
 * `probability`: the softmax of the logits (for a one-unit binary classifier, the sigmoid of its logit
 * for class 1 and one minus it for class 0), as RISE's deletion/insertion and pytorch-grad-cam's
 * `ClassifierOutputSoftmaxTarget`; `logit`: the pre-softmax score (`ClassifierOutputTarget`).
 */
export type ScoreKind = 'probability' | 'logit';

/** [n] scores of `classes[i]` for the n images of `images`; the caller disposes. */
export function scoreTensor(
  model: RunnableModel,
  inputId: string,
  images: tf.Tensor4D,
  classes: readonly number[],
  kind: ScoreKind,
): tf.Tensor1D {
  return tf.tidy(() => {
    const [output] = runGraph(model, new Map([[inputId, images]]), [scoreNode(model)]);
    return scoresOf(output, classes, kind);
  });
}

/** [n] scores of `classes[i]` from the n rows of the score node's output; the caller disposes. */
export function scoresOf(output: tf.Tensor, classes: readonly number[], kind: ScoreKind): tf.Tensor1D {
  return tf.tidy(() => {
    if (kind === 'logit') return classScores(output, classes);
    const flat = tf.reshape(output, [output.shape[0]!, -1]) as tf.Tensor2D;
    const rows = flat.shape[1] === 1 ? tf.concat([tf.sub(1, tf.sigmoid(flat)), tf.sigmoid(flat)], 1) : tf.softmax(flat);
    const mask = tf.oneHot(tf.tensor1d([...classes], 'int32'), rows.shape[1]!);
    return tf.sum(tf.mul(rows, mask), 1) as tf.Tensor1D;
  });
}

/**
 * Scores many images given as HWC float arrays of one size, `batchSize` at a time; reports progress
 * after each batch in units of images (offset by `done`, out of `total`).
 */
export async function scoreMany(
  model: RunnableModel,
  inputId: string,
  images: readonly Float32Array[],
  classes: readonly number[],
  shape: [number, number, number],
  kind: ScoreKind,
  batchSize: number,
  progress: Progress | undefined,
  counter: { done: number; total: number },
): Promise<Float32Array> {
  const result = new Float32Array(images.length);
  const size = shape[0] * shape[1] * shape[2];
  for (const [start, end] of batches(images.length, batchSize)) {
    const data = new Float32Array((end - start) * size);
    for (let i = start; i < end; i++) data.set(images[i], (i - start) * size);
    const scores = tf.tidy(() => scoreTensor(model, inputId, tf.tensor4d(data, [end - start, ...shape]), classes.slice(start, end), kind));
    result.set(await scores.data(), start);
    scores.dispose();
    counter.done += end - start;
    await checkpoint(progress, counter.done, counter.total);
  }
  return result;
}
