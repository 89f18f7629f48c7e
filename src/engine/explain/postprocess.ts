/** Turning raw maps into the [0, 1] maps every method returns (docs/explanations.md). */
import * as tf from '@tensorflow/tfjs-core';

/** CAM post-processing: ReLU, per-image min-max, then bilinear upsampling. cams: [batch, h, w]. */
export function finishCam(cams: tf.Tensor3D, height: number, width: number): tf.Tensor3D {
  return tf.tidy(() => {
    const positive = tf.relu(cams);
    const min = tf.min(positive, [1, 2], true);
    const max = tf.max(positive, [1, 2], true);
    const scaled = tf.div(tf.sub(positive, min), tf.add(tf.sub(max, min), 1e-7));
    const resized = tf.image.resizeBilinear(tf.expandDims(scaled, -1) as tf.Tensor4D, [height, width], false, true);
    // Bilinear interpolation of values in [0, 1] stays in [0, 1] up to rounding.
    return tf.clipByValue(tf.squeeze(resized, [3]), 0, 1) as tf.Tensor3D;
  });
}

/** Input-resolution maps (gradients, occlusion): divided by their per-image maximum. maps: [batch, H, W]. */
export function normaliseByMax(maps: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => tf.div(maps, tf.add(tf.max(maps, [1, 2], true), 1e-12)) as tf.Tensor3D);
}
