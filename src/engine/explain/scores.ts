/** The score each explanation differentiates or compares: one class's output per image. */
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../graph';

/** The node whose output is explained: the logits where the model ends in softmax/sigmoid. */
export function scoreNode(model: RunnableModel): string {
  return model.logits ?? model.outputs[0];
}

/**
 * [batch, classes]: the output's rows, where one unit (a binary classifier's logit z, or its
 * probability) stands for two classes scored −z and z, so that class 0 can be explained too.
 */
export function scoreRows(output: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const flat = tf.reshape(output, [output.shape[0]!, -1]) as tf.Tensor2D;
    return flat.shape[1] === 1 ? tf.concat([tf.neg(flat), flat], 1) : flat;
  });
}

/** [batch] scores of class `classes[b]` for each row b of `output` (any output rank). */
export function classScores(output: tf.Tensor, classes: readonly number[]): tf.Tensor1D {
  return tf.tidy(() => {
    const batch = output.shape[0]!;
    const flat = scoreRows(output);
    const repeated = classes.length === batch ? classes : Array.from({ length: batch }, (_, i) => classes[i % classes.length]);
    const mask = tf.oneHot(tf.tensor1d([...repeated], 'int32'), flat.shape[1]!);
    return tf.sum(tf.mul(flat, mask), 1) as tf.Tensor1D;
  });
}

export type RequestedClasses = number | readonly number[] | undefined;

/** The requested classes, one per image, checked against the model's class count. */
function requestedClasses(requested: number | readonly number[], batch: number, classCount: number): number[] {
  const classIndex = typeof requested === 'number' ? new Array<number>(batch).fill(requested) : [...requested];
  if (classIndex.length !== batch) throw new Error(`${classIndex.length} classes given for ${batch} images`);
  const bad = classIndex.find((c) => !Number.isInteger(c) || c < 0 || c >= classCount);
  if (bad !== undefined) throw new Error(`class ${bad} does not exist: the model has classes 0 to ${classCount - 1}`);
  return classIndex;
}

/** The classes to explain — the requested ones, or each image's top prediction — and their scores. */
export async function resolveClasses(output: tf.Tensor, requested: RequestedClasses): Promise<{ classIndex: number[]; score: number[] }> {
  const batch = output.shape[0]!;
  const flat = scoreRows(output);
  try {
    const classCount = flat.shape[1]!;
    let classIndex: number[];
    if (requested === undefined) {
      const top = tf.argMax(flat, 1);
      classIndex = Array.from(await top.data());
      top.dispose();
    } else {
      classIndex = requestedClasses(requested, batch, classCount);
    }
    const scores = classScores(flat, classIndex);
    const score = Array.from(await scores.data());
    scores.dispose();
    return { classIndex, score };
  } finally {
    flat.dispose();
  }
}

/**
 * Within a differentiated function: the summed scores of the requested classes, or of each image's top
 * class picked from this same output (so the explained class costs no forward pass of its own). The
 * chosen classes and their scores are kept for `readTargets` (the caller disposes them through it).
 */
export function targetScoreSum(output: tf.Tensor, requested: RequestedClasses): { sum: tf.Scalar; targets: KeptTargets } {
  const flat = scoreRows(output);
  const [batch, classCount] = flat.shape;
  const classes =
    requested === undefined ? (tf.argMax(flat, 1) as tf.Tensor1D) : tf.tensor1d(requestedClasses(requested, batch, classCount), 'int32');
  const scores = tf.sum(tf.mul(flat, tf.oneHot(classes, classCount)), 1) as tf.Tensor1D;
  return { sum: tf.sum(scores), targets: { classes: tf.keep(classes), scores: tf.keep(tf.clone(scores)) } };
}

export interface KeptTargets {
  classes: tf.Tensor1D;
  scores: tf.Tensor1D;
}

/** The classes and scores `targetScoreSum` chose, as numbers; frees their tensors. */
export async function readTargets(targets: KeptTargets): Promise<{ classIndex: number[]; score: number[] }> {
  try {
    return { classIndex: Array.from(await targets.classes.data()), score: Array.from(await targets.scores.data()) };
  } finally {
    tf.dispose([targets.classes, targets.scores]);
  }
}
