/**
 * Resizing decoded bytes in JavaScript gives TensorFlow.js's ResizeBilinear (half-pixel centres, no
 * corner alignment) on the same pixels: exactly on the CPU backend, whose kernel is the same formula in
 * the same arithmetic, and within 0.05 of 255 on WebAssembly, whose kernel computes the source
 * coordinates in float32 (an error of about 1e-4 of a pixel, times a neighbour difference of up to 255).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { seededRandom } from '../../src/engine/dataset/random';
import { resizeChannel, resizeRgb } from '../../src/engine/resizePixels';
import { useNodeBackend } from '../../src/node/tfBackend';

const CASES: [number, number, number, number][] = [
  [7, 5, 3, 2], // down, odd sizes
  [3, 2, 8, 9], // up
  [640, 480, 224, 224], // a photo to a classifier's input
  [1, 1, 4, 4],
  [5, 1, 2, 3],
];

function randomRgba(width: number, height: number, seed: number): Uint8Array {
  const next = seededRandom(seed);
  return Uint8Array.from({ length: width * height * 4 }, () => Math.floor(next() * 256));
}

async function tfjsResize(rgba: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Promise<Float32Array> {
  const resized = tf.tidy(() => {
    const pixels = tf.cast(
      tf.slice(tf.tensor3d(Int32Array.from(rgba), [height, width, 4], 'int32'), [0, 0, 0], [-1, -1, 3]),
      'float32',
    ) as tf.Tensor3D;
    return tf.image.resizeBilinear(pixels, [outHeight, outWidth], false, true);
  });
  const values = (await resized.data()) as Float32Array;
  resized.dispose();
  return values;
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`resizing bytes in JavaScript gives the ${backend} backend's ResizeBilinear`, async () => {
    if (backend === 'cpu') await tf.setBackend('cpu');
    else await useNodeBackend();
    for (const [i, [width, height, outWidth, outHeight]] of CASES.entries()) {
      const rgba = randomRgba(width, height, i + 1);
      const ours = resizeRgb(rgba, width, height, outWidth, outHeight);
      const theirs = await tfjsResize(rgba, width, height, outWidth, outHeight);
      assert.equal(ours.length, theirs.length);
      const worst = ours.reduce((max, value, j) => Math.max(max, Math.abs(value - theirs[j])), 0);
      assert.ok(
        backend === 'cpu' ? worst === 0 : worst < 0.05,
        `${width}×${height} → ${outWidth}×${outHeight} on ${backend}: differs by ${worst}`,
      );
    }
  });
}

test('one channel (a map, a mask) resizes as the same channel of an image does', () => {
  for (const [i, [width, height, outWidth, outHeight]] of CASES.entries()) {
    const rgba = randomRgba(width, height, i + 10);
    const image = resizeRgb(rgba, width, height, outWidth, outHeight);
    for (let c = 0; c < 3; c++) {
      const channel = Float32Array.from({ length: width * height }, (_, p) => rgba[p * 4 + c]);
      const resized = resizeChannel(channel, width, height, outWidth, outHeight);
      assert.deepEqual(
        resized,
        image.filter((_, j) => j % 3 === c),
        `${width}×${height} → ${outWidth}×${outHeight}, channel ${c}`,
      );
    }
  }
});
