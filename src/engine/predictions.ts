/** Turning a classifier's output into ranked predictions with class names. */
import * as tf from '@tensorflow/tfjs-core';

export interface Prediction {
  index: number;
  label: string;
  /** The model's own output for the class. */
  score: number;
  /** The class probability: the output itself when it already is a distribution, its softmax otherwise. */
  probability: number;
}

/** Ranked predictions for each image of a batch (the output's first axis). */
export async function topPredictions(output: tf.Tensor, k: number, labels?: readonly string[]): Promise<Prediction[][]> {
  const batch = output.shape[0] ?? 1;
  const scores = (await output.data()) as Float32Array;
  const classCount = scores.length / batch;
  const result: Prediction[][] = [];
  for (let b = 0; b < batch; b++) {
    const row = Array.from(scores.subarray(b * classCount, (b + 1) * classCount));
    const probabilities = classCount === 1 ? row : isDistribution(row) ? row : softmax(row);
    result.push(
      row
        .map((score, index) => ({ index, label: labels?.[index] ?? `class ${index}`, score, probability: probabilities[index] }))
        .sort((a, b) => b.score - a.score)
        .slice(0, Math.max(1, k)),
    );
  }
  return result;
}

function isDistribution(values: number[]): boolean {
  const sum = values.reduce((s, v) => s + v, 0);
  return values.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-3;
}

function softmax(values: number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((s, v) => s + v, 0);
  return exps.map((v) => v / sum);
}
