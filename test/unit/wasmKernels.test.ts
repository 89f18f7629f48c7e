/**
 * The kernels ConvLens adds to the WebAssembly backend (src/engine/backends/wasm/): each input
 * or filter gradient equals the CPU backend's reference result, for the strides, paddings and channel
 * multipliers real networks use, and frees every intermediate buffer.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { seededRandom } from '../../src/engine/dataset/random';
import { useNodeBackend } from '../../src/node/tfBackend';

before(async () => {
  const { backend } = await useNodeBackend('wasm');
  assert.equal(backend, 'wasm', 'the WebAssembly backend starts in Node');
});

function values(shape: number[], seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1);
}

/** Runs `compute` on the CPU and on the WebAssembly backend, from the same plain inputs. */
async function onBothBackends(compute: () => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array }> {
  const results: Record<string, Float32Array> = {};
  for (const name of ['cpu', 'wasm']) {
    await tf.setBackend(name);
    const before = { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
    const result = compute();
    results[name] = (await result.data()) as Float32Array;
    result.dispose();
    assert.deepEqual({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() }, before, `${name}: everything freed`);
  }
  await tf.setBackend('wasm');
  return { cpu: results.cpu, wasm: results.wasm };
}

function assertClose(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(scale > 0, 'a non-trivial gradient');
  assert.ok(worst <= 1e-4 * scale, `largest difference ${worst} against values up to ${scale}`);
}

type Shape4 = [number, number, number, number];

/**
 * The gradient, with respect to the input or the filter, of a weighted sum of `convolve(x, w)`'s outputs
 * (weighted, so that every output position's gradient differs), from seeded values.
 */
function convolutionGradient(
  of: 'input' | 'filter',
  xShape: Shape4,
  wShape: Shape4,
  seeds: [number, number, number],
  convolve: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D,
): () => tf.Tensor {
  return () =>
    tf.tidy(() => {
      const x = tf.tensor4d(values(xShape, seeds[0]), xShape);
      const w = tf.tensor4d(values(wShape, seeds[1]), wShape);
      const score = (input: tf.Tensor4D, filter: tf.Tensor4D) => {
        const y = convolve(input, filter);
        return tf.sum(tf.mul(y, tf.tensor(values(y.shape, seeds[2]), y.shape)));
      };
      return of === 'input' ? tf.grad((v) => score(v as tf.Tensor4D, w))(x) : tf.grad((v) => score(x, v as tf.Tensor4D))(w);
    });
}

describe('Conv2D input gradient on WebAssembly', () => {
  const cases: {
    kernel: number;
    stride: number;
    pad: 'same' | 'valid' | [number, number, number, number];
    size: number;
    channels: [number, number];
  }[] = [
    { kernel: 3, stride: 1, pad: 'same', size: 9, channels: [4, 5] },
    { kernel: 3, stride: 2, pad: 'same', size: 9, channels: [3, 6] },
    { kernel: 3, stride: 2, pad: 'same', size: 10, channels: [3, 6] },
    { kernel: 7, stride: 2, pad: [3, 3, 3, 3], size: 16, channels: [3, 8] },
    { kernel: 1, stride: 2, pad: 'valid', size: 8, channels: [6, 4] },
    { kernel: 3, stride: 2, pad: 'valid', size: 10, channels: [2, 3] },
    { kernel: 2, stride: 2, pad: [0, 1, 0, 1], size: 7, channels: [2, 3] },
  ];
  for (const { kernel, stride, pad, size, channels } of cases) {
    for (const of of ['input', 'filter'] as const) {
      test(`${kernel}×${kernel}, stride ${stride}, padding ${pad}, ${size}×${size}${of === 'filter' ? ": the filter's gradient" : ''}`, async () => {
        const [inC, outC] = channels;
        const padding = Array.isArray(pad)
          ? ([
              [0, 0],
              [pad[0], pad[1]],
              [pad[2], pad[3]],
              [0, 0],
            ] as tf.backend_util.ExplicitPadding)
          : pad;
        const { cpu, wasm } = await onBothBackends(
          convolutionGradient(of, [2, size, size, inC], [kernel, kernel, inC, outC], [1, 2, 3], (x, w) => tf.conv2d(x, w, stride, padding)),
        );
        assertClose(wasm, cpu);
      });
    }
  }
});

describe('Depthwise convolution input gradient on WebAssembly', () => {
  const cases = [
    { kernel: 3, stride: 1, multiplier: 1, pad: 'same' as const },
    { kernel: 3, stride: 2, multiplier: 1, pad: 'same' as const },
    { kernel: 5, stride: 2, multiplier: 1, pad: 'same' as const },
    { kernel: 3, stride: 1, multiplier: 2, pad: 'valid' as const },
  ];
  for (const { kernel, stride, multiplier, pad } of cases) {
    for (const of of ['input', 'filter'] as const) {
      test(`${kernel}×${kernel}, stride ${stride}, multiplier ${multiplier}, ${pad}${of === 'filter' ? ": the filter's gradient" : ''}`, async () => {
        const { cpu, wasm } = await onBothBackends(
          convolutionGradient(of, [2, 11, 11, 4], [kernel, kernel, 4, multiplier], [4, 5, 6], (x, w) =>
            tf.depthwiseConv2d(x, w, stride, pad),
          ),
        );
        assertClose(wasm, cpu);
      });
    }
  }
});

test('a fused convolution (TensorFlow.js graph models) differentiates on WebAssembly', async () => {
  const { cpu, wasm } = await onBothBackends(() =>
    tf.tidy(() => {
      const x = tf.tensor4d(values([1, 9, 9, 3], 9), [1, 9, 9, 3]);
      const w = tf.tensor4d(values([3, 3, 3, 4], 10), [3, 3, 3, 4]);
      const dw = tf.tensor4d(values([3, 3, 4, 1], 11), [3, 3, 4, 1]);
      const f = (input: tf.Tensor4D) => {
        const y = tf.fused.conv2d({ x: input, filter: w, strides: 2, pad: 'same', bias: tf.ones([4]), activation: 'relu6' });
        return tf.sum(tf.fused.depthwiseConv2d({ x: y, filter: dw, strides: 1, pad: 'same', bias: tf.ones([4]), activation: 'relu' }));
      };
      return tf.grad((input) => f(input as tf.Tensor4D))(x);
    }),
  );
  assertClose(wasm, cpu);
});

test('the gradient of a gather (embeddings, attention) on WebAssembly', async () => {
  const { cpu, wasm } = await onBothBackends(() =>
    tf.tidy(() => {
      const table = tf.tensor2d(values([7, 5], 7), [7, 5]);
      const indices = tf.tensor1d([3, 0, 3, 6, 1, 3], 'int32');
      const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, indices), tf.tensor(values([6, 5], 8), [6, 5])));
      return tf.grad(f)(table);
    }),
  );
  assertClose(wasm, cpu);
});

test('max pooling sends a window’s gradient to its first largest input, as PyTorch and the CPU backend do', async () => {
  // Ties are common after a ReLU: zero windows, and plateaus of equal values.
  const plateau = [1, 1, 0, 2, 1, 1, 2, 2, 0, 0, 3, 3, 0, 0, 3, 3, 5, 5, 5, 0, 5, 5, 5, 0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0];
  for (const [size, stride, pad] of [
    [2, 2, 'valid'],
    [3, 2, 'same'],
    [3, 1, 'same'],
  ] as const) {
    const { cpu, wasm } = await onBothBackends(() =>
      tf.tidy(() => {
        const x = tf.tensor4d(plateau.slice(0, 36), [1, 6, 6, 1]);
        return tf.grad((input) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, size, stride, pad), 1.5)))(x);
      }),
    );
    assert.deepEqual(Array.from(wasm), Array.from(cpu), `${size}×${size} stride ${stride} ${pad}`);
  }
});
