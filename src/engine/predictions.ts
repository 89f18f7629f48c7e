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
  return Array.from({ length: batch }, (_, b) => rankScores(scores.subarray(b * classCount, (b + 1) * classCount), k, labels));
}

/** The `k` best classes of one image's scores, best first. */
export function rankScores(scores: ArrayLike<number>, k: number, labels?: readonly string[]): Prediction[] {
  const row = Array.from(scores);
  if (row.length === 1) return binaryPredictions(row[0], labels).slice(0, Math.max(1, k));
  const probabilities = isDistribution(row) ? row : softmax(row);
  return row
    .map((score, index) => ({ index, label: labels?.[index] ?? `class ${index}`, score, probability: probabilities[index] }))
    .sort((a, b) => b.score - a.score)
    .slice(0, Math.max(1, k));
}

/**
 * One output unit is a binary classifier: its value is the probability of class 1 (or its logit, where
 * the model ends before the sigmoid), and class 0 takes the rest. Class 0's score is what the unit says
 * against class 1: 1 − p for a probability, −z for a logit.
 */
function binaryPredictions(value: number, labels?: readonly string[]): Prediction[] {
  const isProbability = value >= 0 && value <= 1;
  const p = isProbability ? value : 1 / (1 + Math.exp(-value));
  const label = (index: number) => labels?.[index] ?? `class ${index}`;
  const positive = { index: 1, label: label(1), score: value, probability: p };
  const negative = { index: 0, label: label(0), score: isProbability ? 1 - value : -value, probability: 1 - p };
  return p >= 0.5 ? [positive, negative] : [negative, positive];
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
