/**
 * Every op's gradient, as TensorFlow.js registers them apart from the ops, with ConvLens's own where
 * TensorFlow.js's does needless work on the path explanations take. Import this module (not tfjs-core's
 * register_all_gradients) so that the overrides always come after the originals.
 *
 * FusedBatchNorm: TensorFlow.js's gradient builds x − mean and dy · scale at full size whatever is asked,
 * and tiles the per-channel factor to the activation's shape before multiplying; an input gradient through
 * a Keras ResNet-18 spent more time tiling than in its convolutions. Here each input's gradient is computed
 * only when asked for, with broadcasting; the formulas are unchanged.
 *
 * ReLU, ReLU6 and clipping at zero: their gradients are TensorFlow.js's own, except inside
 * `withDeconvnetRelus`, where they pass relu(grad) whatever their input was (the deconvnet rule).
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';

tf.registerGradient({
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const gradient = dy as tf.Tensor;
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved;
    const scaleValue = scale ?? tf.scalar(1);
    // Per-channel statistics ([C] or broadcastable) are summed over the other axes.
    const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const perChannel = (value: tf.Tensor) => tf.reshape(reductionAxes.length ? tf.sum(value, reductionAxes) : value, mean.shape);
    const oneOverSqrtVariance = () => tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    return {
      x: () => tf.mul(gradient, tf.mul(oneOverSqrtVariance(), scaleValue)),
      mean: () => perChannel(tf.mul(tf.mul(oneOverSqrtVariance(), tf.scalar(-1)), tf.mul(gradient, scaleValue))),
      variance: () => {
        const r = oneOverSqrtVariance();
        const minusHalfRCube = tf.mul(tf.mul(tf.mul(r, r), r), tf.scalar(-0.5));
        return perChannel(tf.mul(tf.mul(minusHalfRCube, tf.sub(x, mean)), tf.mul(gradient, scaleValue)));
      },
      scale: () => perChannel(tf.mul(gradient, tf.mul(tf.sub(x, mean), oneOverSqrtVariance()))),
      offset: () => perChannel(gradient),
    };
  },
});

const RECTIFIERS = ['Relu', 'Relu6', 'ClipByValue'];

/** relu(grad), whatever the forward input was; clipping elsewhere than at zero keeps its own gradient. */
function deconvnetGradient(own: tf.GradConfig): tf.GradConfig {
  return {
    ...own,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const clipsAtZero = own.kernelName !== 'ClipByValue' || (attrs as unknown as { clipValueMin: number }).clipValueMin === 0;
      return clipsAtZero ? { x: () => tf.relu(dy as tf.Tensor) } : own.gradFunc(dy, saved, attrs);
    },
  };
}

/**
 * Runs `compute` (which must take its gradients synchronously, as `tf.grad` does) with every ReLU, ReLU6
 * and clip-at-zero passing relu(grad) backwards, ignoring its forward input: Zeiler and Fergus's
 * deconvnet, as Springenberg et al. (2015) state it. Fused convolutions with a ReLU run unfused while a
 * gradient is taken, so their ReLU is a Relu kernel too. The rule is registered for the call only, and
 * the gradients in place before are put back: registering it once at start-up would not last, since
 * TensorFlow.js's own registrations can run again when another package loads its copy of them.
 */
export function withDeconvnetRelus<T>(compute: () => T): T {
  const own = RECTIFIERS.map((kernelName) => tf.getGradient(kernelName));
  own.forEach((config) => tf.registerGradient(deconvnetGradient(config)));
  try {
    return compute();
  } finally {
    own.forEach((config) => tf.registerGradient(config));
  }
}
