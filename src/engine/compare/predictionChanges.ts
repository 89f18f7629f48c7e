/**
 * Which images two checkpoints of a model classify differently: each image's top classes under A and
 * under B, and whether the top class changed. Each model takes the images prepared its own way
 * (its own preprocessing), in batches, so a folder of images never runs as one huge batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { singleInput } from '../execute';
import type { RunnableModel } from '../graph';
import { topPredictions, type Prediction } from '../predictions';
import { forwardToOutputs } from '../nativeForward';

export interface ModelOnImages {
  model: RunnableModel;
  /** The images as this model takes them, NHWC. */
  input: tf.Tensor4D;
  labels?: readonly string[];
}

export interface PredictionChange {
  /** Best first, `k` of them. */
  a: Prediction[];
  b: Prediction[];
  /** B's top class is not A's. */
  changed: boolean;
}

export async function predictionChanges(a: ModelOnImages, b: ModelOnImages, k = 3, batchSize = 32): Promise<PredictionChange[]> {
  if (a.input.shape[0] !== b.input.shape[0]) {
    throw new Error(`the two models were given ${a.input.shape[0]} and ${b.input.shape[0]} images`);
  }
  const [rankedA, rankedB] = [await ranked(a, k, batchSize), await ranked(b, k, batchSize)];
  return rankedA.map((top, i) => ({ a: top, b: rankedB[i], changed: top[0].index !== rankedB[i][0].index }));
}

/** The number of images whose top class changed, and a sentence saying so. */
export function changedSummary(changes: readonly PredictionChange[]): { changed: number; sentence: string } {
  const changed = changes.filter((c) => c.changed).length;
  const images = changes.length === 1 ? 'image' : 'images';
  return { changed, sentence: `${changed} of ${changes.length} ${images} changed prediction` };
}

async function ranked({ model, input, labels }: ModelOnImages, k: number, batchSize: number): Promise<Prediction[][]> {
  const result: Prediction[][] = [];
  const count = input.shape[0];
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const batch = tf.slice(input, [start, 0, 0, 0], [size, -1, -1, -1]);
    const outputs = await forwardToOutputs(model, singleInput(model, batch));
    try {
      result.push(...(await topPredictions(outputs[0], k, labels)));
    } finally {
      tf.dispose(outputs);
      batch.dispose();
    }
  }
  return result;
}
