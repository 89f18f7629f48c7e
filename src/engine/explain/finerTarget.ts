/**
 * Finer-CAM's score (pytorch-grad-cam's finer_cam.py and FinerWeightedTarget): the explained class
 * against the classes the model finds most similar to it, so that the map shows what tells them apart.
 */
import * as tf from '@tensorflow/tfjs-core';
import { scoreRows } from './scores';

/** pytorch-grad-cam's defaults: comparison_categories = [1, 2, 3] (the three nearest classes), alpha = 1. */
export const FINER_COMPARISONS = 3;
export const FINER_ALPHA = 1;

/**
 * Per image, the classes whose scores are nearest to the explained class's (|y_j − y_c| ascending, ties by
 * class number), the explained class itself left out: at most FINER_COMPARISONS of them.
 */
export async function nearestClasses(output: tf.Tensor, classes: readonly number[]): Promise<number[][]> {
  const rows = scoreRows(output);
  const values = (await rows.array()) as number[][];
  rows.dispose();
  if (values[0].length < 2) throw new Error('Finer-CAM compares classes, and the model has only one');
  return values.map((row, b) => {
    const main = row[classes[b]];
    return row
      .map((score, index) => ({ index, distance: Math.abs(score - main) }))
      .filter(({ index }) => index !== classes[b])
      .sort((p, q) => p.distance - q.distance || p.index - q.index)
      .slice(0, FINER_COMPARISONS)
      .map(({ index }) => index);
  });
}

/**
 * [batch] scores Σ_j p_j (y_c − α y_j) / (Σ_j p_j + 1e-9) over the comparison classes j, p = softmax(y):
 * the probabilities are part of the differentiated function, as in the library.
 */
export function finerScores(output: tf.Tensor, classes: readonly number[], comparisons: readonly (readonly number[])[]): tf.Tensor1D {
  return tf.tidy(() => {
    const rows = scoreRows(output);
    const classCount = rows.shape[1];
    const main = tf.sum(tf.mul(rows, tf.oneHot(tf.tensor1d([...classes], 'int32'), classCount)), 1, true);
    const compared = tf.tensor2d(comparisons.map((list) => Array.from({ length: classCount }, (_, c) => (list.includes(c) ? 1 : 0))));
    const p = tf.mul(tf.softmax(rows), compared);
    const numerator = tf.sum(tf.mul(p, tf.sub(main, tf.mul(rows, FINER_ALPHA))), 1);
    return tf.div(numerator, tf.add(tf.sum(p, 1), 1e-9)) as tf.Tensor1D;
  });
}
