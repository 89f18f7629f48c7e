/**
 * ShapleyCAM (Cai et al., arXiv:2501.06261; pytorch-grad-cam's shapley_cam.py): Grad-CAM with each
 * channel weighted by the mean of g − ½ H·A instead of g, where H·A is the Hessian of the score with
 * respect to the target layer's activations times those activations — a second-order estimate of each
 * channel's Shapley value. The rest of the network is differentiated twice: the gradient is taken inside a
 * gradient (secondOrderGradients.ts supplies what TensorFlow.js lacks for that). Where the rest of the
 * network is piecewise linear (ReLU, max pooling, linear layers), H·A is 0 and ShapleyCAM is Grad-CAM.
 */
import * as tf from '@tensorflow/tfjs-core';
import { withSecondOrderGradients } from './secondOrderGradients';

/** shapley_cam.py's weight: grads − 0.5 · hvp. */
const HESSIAN_FACTOR = 0.5;

/** The gradient g = ∂Σy/∂A and the Hessian-vector product H·A, both [batch, h, w, channels]. */
export function gradientAndHessianProduct(
  a: tf.Tensor4D,
  scoreOf: (x: tf.Tensor4D) => tf.Tensor1D,
): { gradient: tf.Tensor4D; hessianProduct: tf.Tensor4D } {
  // The direction of the product: the activations' values, held apart from the differentiated tensor.
  const direction = tf.clone(a);
  const scoreSum = (y: tf.Tensor) => tf.sum(scoreOf(y as tf.Tensor4D));
  let gradient: tf.Tensor4D | undefined;
  try {
    const hessianProduct = withSecondOrderGradients(
      () =>
        tf.grad((x: tf.Tensor) => {
          const g = tf.keep(tf.grad(scoreSum)(x)) as tf.Tensor4D;
          gradient = g;
          // + 0 · Σx keeps x in the function where the gradient does not depend on it (a linear head: H = 0).
          return tf.add(tf.sum(tf.mul(g, direction)), tf.mul(tf.sum(x), 0));
        })(a) as tf.Tensor4D,
    );
    return { gradient: gradient!, hessianProduct };
  } catch (error) {
    gradient?.dispose();
    throw explained(error);
  } finally {
    direction.dispose();
  }
}

/** ShapleyCAM's weighted activations: mean_ij(g − ½ H·A)_k · A_k. */
export function shapleyWeighted(a: tf.Tensor4D, scoreOf: (x: tf.Tensor4D) => tf.Tensor1D): tf.Tensor4D {
  const { gradient, hessianProduct } = gradientAndHessianProduct(a, scoreOf);
  try {
    return tf.tidy(() => tf.mul(tf.mean(tf.sub(gradient, tf.mul(hessianProduct, HESSIAN_FACTOR)), [1, 2], true), a));
  } finally {
    tf.dispose([gradient, hessianProduct]);
  }
}

/** TensorFlow.js's words for an operation it cannot differentiate twice, as one sentence about the method. */
function explained(error: unknown): unknown {
  const missing = error instanceof Error ? /gradient function not found for (\w+)/.exec(error.message) : null;
  if (!missing) return error;
  return new Error(
    `ShapleyCAM differentiates the layers after the target layer twice, and their ${missing[1]} operation has no second derivative here: choose a later target layer or another method`,
  );
}
