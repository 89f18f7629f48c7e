/** Occlusion sensitivity: how much the score drops when each square window of the input is zeroed. */
import * as tf from '@tensorflow/tfjs-core';
import type { Feeds } from '../execute';
import { runForward } from '../nativeForward';
import type { RunnableModel } from '../graph';
import { perImage } from './inputGradients';
import { batches, checkpoint, type Progress } from '../progress';
import { classScores, scoreNode } from './scores';

export interface OcclusionOptions {
  /** Window side in pixels; 1/8 of the input's shorter side by default. */
  window?: number;
  /** Step between windows; half the window by default. */
  stride?: number;
  batchSize: number;
  progress?: Progress;
}

/** Window starts along one axis: every `stride`, the last one aligned to the edge. */
export function windowStarts(size: number, window: number, stride: number): number[] {
  const starts: number[] = [];
  for (let start = 0; start + window < size; start += stride) starts.push(start);
  starts.push(Math.max(0, size - window));
  return [...new Set(starts)];
}

export async function occlusion(
  model: RunnableModel,
  feeds: Feeds,
  x: tf.Tensor4D,
  classes: readonly number[],
  options: OcclusionOptions,
): Promise<tf.Tensor3D> {
  const [inputId] = [...feeds.keys()];
  const [batch, height, width] = x.shape;
  const window = Math.max(1, options.window ?? Math.round(Math.min(height, width) / 8));
  const stride = Math.max(1, options.stride ?? Math.max(1, Math.round(window / 2)));
  const windows = windowStarts(height, Math.min(window, height), stride).flatMap((top) =>
    windowStarts(width, Math.min(window, width), stride).map((left) => [top, left] as const),
  );
  // Whole forward passes: natively where the platform has a runtime for them (nativeForward.ts).
  const score = async (input: tf.Tensor, rows: readonly number[]) => {
    const [output] = await runForward(model, new Map([...feeds, [inputId, input]]), [scoreNode(model)]);
    try {
      return classScores(output, rows);
    } finally {
      output.dispose();
    }
  };
  const chunks = batches(windows.length, options.batchSize);

  /** Mean score drop over the windows covering each pixel, for image b. */
  const occludeImage = async (b: number, image: tf.Tensor4D): Promise<tf.Tensor2D> => {
    const full = await score(image, [classes[b]]);
    const base = (await full.data())[0];
    full.dispose();
    const sum = new Float32Array(height * width);
    const count = new Float32Array(height * width);
    for (const [index, [start, end]] of chunks.entries()) {
      const group = windows.slice(start, end);
      const masks = new Float32Array(group.length * height * width).fill(1);
      group.forEach(([top, left], i) => {
        for (let r = top; r < Math.min(height, top + window); r++) {
          const row = i * height * width + r * width;
          masks.fill(0, row + left, row + Math.min(width, left + window));
        }
      });
      const occluded = tf.tidy(() => tf.mul(image, tf.tensor4d(masks, [group.length, height, width, 1])));
      const scores = await score(occluded, [classes[b]]).finally(() => occluded.dispose());
      const values = await scores.data();
      scores.dispose();
      group.forEach(([top, left], i) => {
        for (let r = top; r < Math.min(height, top + window); r++) {
          for (let c = left; c < Math.min(width, left + window); c++) {
            sum[r * width + c] += base - values[i];
            count[r * width + c] += 1;
          }
        }
      });
      await checkpoint(options.progress, b * chunks.length + index + 1, batch * chunks.length);
    }
    return tf.tidy(
      () => tf.relu(tf.div(tf.tensor2d(sum, [height, width]), tf.maximum(tf.tensor2d(count, [height, width]), 1))) as tf.Tensor2D,
    );
  };

  return perImage(x, occludeImage);
}
