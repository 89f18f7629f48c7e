/**
 * Test-time augmentation smoothing for the CAM family (pytorch-grad-cam's aug_smooth): the map computed
 * for each augmented copy of the input, brought back to the original frame, and averaged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkpoint, type Progress } from '../progress';

/**
 * The library's default augmentations (base_cam.py: ttach's HorizontalFlip() and Multiply([0.9, 1, 1.1])):
 * every combination of no flip or a horizontal flip with the input multiplied by 0.9, 1 or 1.1.
 */
export const AUGMENTATIONS: readonly { flip: boolean; factor: number }[] = [false, true].flatMap((flip) =>
  [0.9, 1, 1.1].map((factor) => ({ flip, factor })),
);

/**
 * The mean of `mapsOf(augmented input)` over AUGMENTATIONS, each map [batch, H, W] flipped back where
 * its input was flipped (a multiplied input needs no undoing). `mapsOf` gets a progress that counts
 * within the whole run; between augmentations the run reports progress and honours a cancellation.
 */
export async function augmentationSmoothed(
  input: tf.Tensor4D,
  mapsOf: (augmented: tf.Tensor4D, progress: Progress | undefined) => Promise<tf.Tensor3D>,
  progress?: Progress,
): Promise<tf.Tensor3D> {
  const count = AUGMENTATIONS.length;
  let total: tf.Tensor3D | undefined;
  try {
    for (const [index, { flip, factor }] of AUGMENTATIONS.entries()) {
      const inner: Progress | undefined = progress && {
        token: progress.token,
        report: (done, of) => progress.report?.(index * of + done, count * of),
      };
      const augmented = tf.tidy(() => tf.mul(flip ? tf.reverse(input, 2) : input, factor) as tf.Tensor4D);
      const maps = await mapsOf(augmented, inner).finally(() => augmented.dispose());
      const previous = total;
      total = tf.tidy(() => {
        const original = flip ? tf.reverse(maps, 2) : maps;
        return (previous ? tf.add(previous, original) : tf.clone(original)) as tf.Tensor3D;
      });
      tf.dispose([maps, previous]);
      await checkpoint(progress, index + 1, count);
    }
    return tf.div(total!, count) as tf.Tensor3D;
  } finally {
    total?.dispose();
  }
}
