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
function scoreRows(output: tf.Tensor): tf.Tensor2D {
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

/** The classes to explain — the requested ones, or each image's top prediction — and their scores. */
export async function resolveClasses(output: tf.Tensor, requested: number | readonly number[] | undefined): Promise<{ classIndex: number[]; score: number[] }> {
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
      classIndex = typeof requested === 'number' ? new Array(batch).fill(requested) : [...requested];
      if (classIndex.length !== batch) throw new Error(`${classIndex.length} classes given for ${batch} images`);
      const bad = classIndex.find((c) => !Number.isInteger(c) || c < 0 || c >= classCount);
      if (bad !== undefined) throw new Error(`class ${bad} does not exist: the model has classes 0 to ${classCount - 1}`);
    }
    const scores = classScores(flat, classIndex);
    const score = Array.from(await scores.data());
    scores.dispose();
    return { classIndex, score };
  } finally {
    flat.dispose();
  }
}
