/** The score each explanation differentiates or compares: one class's output per image. */
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../graph';

/** The node whose output is explained: the logits where the model ends in softmax/sigmoid. */
export function scoreNode(model: RunnableModel): string {
  return model.logits ?? model.outputs[0];
}

/** [batch] scores of class `classes[b]` for each row b of `output` (any output rank). */
export function classScores(output: tf.Tensor, classes: readonly number[]): tf.Tensor1D {
  return tf.tidy(() => {
    const batch = output.shape[0]!;
    const flat = tf.reshape(output, [batch, -1]);
    const repeated = classes.length === batch ? classes : Array.from({ length: batch }, (_, i) => classes[i % classes.length]);
    const mask = tf.oneHot(tf.tensor1d([...repeated], 'int32'), flat.shape[1]!);
    return tf.sum(tf.mul(flat, mask), 1) as tf.Tensor1D;
  });
}
