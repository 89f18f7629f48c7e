/**
 * ShapleyCAM's Hessian-vector product H·x through each operation whose second derivative ConvLens supplies
 * or replaces (secondOrderGradients.ts), against central differences of TensorFlow.js's own first-order
 * gradient: (g(x + εx) − g(x − εx)) / 2ε → H·x. Scaling x keeps every comparison with 0 and every window's
 * maximum, and no input comes near 6, so piecewise linear operations have no kink between the two points.
 * (Average pooling is checked without padding: where padding cuts a window, TensorFlow.js's own first-order
 * gradient divides by the whole window and its forward pass by the part inside, so there is no symmetric
 * Hessian to compare with.)
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { gradientAndHessianProduct } from '../../src/engine/explain/shapleyCam';
import { useNodeBackend } from '../../src/node/tfBackend';
import { assertNoTensorLeak } from '../support/tensorLeaks';

const EPSILON = 1e-2;
/** Largest |H·x − difference| allowed, as a share of the difference's largest magnitude (float32, ε²). */
const TOLERANCE = 2e-3;

before(async () => {
  await useNodeBackend();
});

/** Each case: a score per image built on the operation, with a smooth function after piecewise linear ones. */
const CASES: Record<string, (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor> = {
  sigmoid: (x, w) => tf.mul(tf.sigmoid(x), w),
  tanh: (x, w) => tf.mul(tf.tanh(x), w),
  exp: (x, w) => tf.mul(tf.exp(tf.mul(x, 0.5)), w),
  elu: (x, w) => tf.mul(tf.elu(tf.mul(x, 2)), w),
  softmax: (x, w) => tf.mul(tf.softmax(tf.mul(x, 2)), w),
  'ReLU6 (less-equal mask)': (x, w) => tf.mul(tf.square(tf.relu6(x)), w),
  'clipping to [0, 6] (logical-and mask)': (x, w) => tf.mul(tf.square(tf.clipByValue(x, 0, 6)), w),
  'leaky ReLU (greater mask)': (x, w) => tf.mul(tf.square(tf.leakyRelu(x, 0.2)), w),
  'maximum over channels (equal mask)': (x, w) => tf.mul(tf.square(tf.max(x, 3, true)), w),
  'max pooling 3 × 3, stride 2, same padding': (x) => tf.square(tf.maxPool(tf.sigmoid(x), 3, 2, 'same')),
  'max pooling 2 × 2, valid': (x) => tf.square(tf.maxPool(x, 2, 2, 'valid')),
  'average pooling 3 × 3, stride 1, valid': (x) => tf.square(tf.avgPool(tf.sigmoid(x), 3, 1, 'valid')),
  'average pooling 2 × 2, valid': (x) => tf.square(tf.avgPool(x, 2, 2, 'valid')),
  'depthwise convolution': (x, w) =>
    tf.square(tf.depthwiseConv2d(x, tf.reshape(tf.slice(w, [0, 0, 0, 0], [1, 3, 3, 3]), [3, 3, 3, 1]), 2, 'same')),
  'bilinear resizing': (x) => tf.tanh(tf.image.resizeBilinear(x, [9, 7], false, true)),
  'nearest-neighbour resizing': (x) => tf.tanh(tf.image.resizeNearestNeighbor(x, [9, 7], false, true)),
};

function scoreOf(f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor, w: tf.Tensor4D) {
  return (x: tf.Tensor4D) => tf.sum(f(x, w), [1, 2, 3]) as tf.Tensor1D;
}

for (const [name, f] of Object.entries(CASES)) {
  test(`${name}: H·x agrees with central differences of the gradient`, async () => {
    const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const w = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 12) as tf.Tensor4D;
    const score = scoreOf(f, w);
    try {
      const { gradient, hessianProduct } = gradientAndHessianProduct(x, score);
      const difference = tf.tidy(() => {
        const g = (at: tf.Tensor4D) => tf.grad((y: tf.Tensor) => tf.sum(score(y as tf.Tensor4D)))(at);
        return tf.div(tf.sub(g(tf.mul(x, 1 + EPSILON)), g(tf.mul(x, 1 - EPSILON))), 2 * EPSILON);
      });
      const [gap, scale] = tf.tidy(() => [tf.max(tf.abs(tf.sub(hessianProduct, difference))), tf.max(tf.abs(difference))]);
      const [gapValue, scaleValue] = [(await gap.data())[0], (await scale.data())[0]];
      tf.dispose([gradient, hessianProduct, difference, gap, scale]);
      assert.ok(scaleValue > 1e-3, `the Hessian term is ${scaleValue}: the case tests nothing`);
      assert.ok(gapValue <= TOLERANCE * scaleValue, `off by ${gapValue} of ${scaleValue}`);
    } finally {
      tf.dispose([x, w]);
    }
  });
}

test('the second-order pass frees its tensors and leaves the first-order gradients as they were', async () => {
  const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
  const score = (y: tf.Tensor4D) => tf.sum(tf.sigmoid(y), [1, 2, 3]) as tf.Tensor1D;
  const before = tf.getGradient('Sigmoid');
  await assertNoTensorLeak(async () => tf.dispose(Object.values(gradientAndHessianProduct(x, score))));
  assert.equal(tf.getGradient('Sigmoid'), before);
  x.dispose();
});
