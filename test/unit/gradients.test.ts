/**
 * ConvLens's own gradients (src/engine/gradients.ts) give what TensorFlow.js's would, for every input,
 * on both the WebAssembly and the CPU backend.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { fusedBatchNormGradConfig } from '@tensorflow/tfjs-core/dist/gradients/FusedBatchNorm_grad';
import '../../src/engine/gradients';
import { useNodeBackend } from '../../src/node/tfBackend';

before(() => useNodeBackend('wasm'));

test('batch normalisation: the gradients of x, mean, variance, scale and offset', async () => {
  const ours = tf.getGradient('FusedBatchNorm')!;
  assert.notEqual(ours.gradFunc, fusedBatchNormGradConfig.gradFunc, 'ConvLens registers its own');
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    for (const statsShape of [[3], [1, 1, 1, 3]]) {
      tf.tidy(() => {
        const x = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 1);
        const dy = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 2);
        const mean = tf.randomNormal(statsShape, 0, 1, 'float32', 3);
        const variance = tf.add(tf.randomUniform(statsShape, 0, 1, 'float32', 4), 0.5);
        const scale = tf.randomNormal(statsShape, 0, 1, 'float32', 5);
        const attrs = { varianceEpsilon: 1e-3 };
        const expected = fusedBatchNormGradConfig.gradFunc(dy, [x, mean, variance, scale], attrs);
        const actual = ours.gradFunc(dy, [x, mean, variance, scale], attrs);
        // With [1, 1, 1, C] statistics TensorFlow.js's own gradients of the statistics fail (they are not
        // summed over the other axes); ours are, so only x is compared there.
        for (const input of statsShape.length === 1 ? ['x', 'mean', 'variance', 'scale', 'offset'] : ['x']) {
          const [a, e] = [actual[input](), expected[input]()];
          assert.deepEqual(a.shape, e.shape, `${backend} ${statsShape}: ${input} shape`);
          const worst = tf.max(tf.abs(tf.sub(a, e))).dataSync()[0];
          assert.ok(worst < 1e-4, `${backend} ${statsShape}: ${input} differs by ${worst}`);
        }
      });
    }
  }
});
