/**
 * The feature cache's file: what goes in comes out, whether the file's bytes arrive as a plain
 * Uint8Array or as a Node Buffer inside a larger pool (as file reads in the extension host give them).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFeatures, encodeFeatures } from '../../src/panels/analyze/featureFile';
import type { CachedFeatures } from '../../src/shared/analyzeProtocol';

const features: CachedFeatures = {
  featureLayer: 'gap',
  dim: 3,
  features: Float32Array.from([0.5, -1.25, 3, 7, 8.5, -0]).buffer,
  predicted: Int32Array.from([4, 1]).buffer,
  confidence: Float32Array.from([0.75, 0.5]).buffer,
  problems: [['bag/notes.png', 'bag/notes.png is not an image ConvLens can decode']],
};

function assertSame(decoded: CachedFeatures): void {
  assert.equal(decoded.featureLayer, 'gap');
  assert.equal(decoded.dim, 3);
  assert.deepEqual(Array.from(new Float32Array(decoded.features)), [0.5, -1.25, 3, 7, 8.5, -0]);
  assert.deepEqual(Array.from(new Int32Array(decoded.predicted)), [4, 1]);
  assert.deepEqual(Array.from(new Float32Array(decoded.confidence)), [0.75, 0.5]);
  assert.deepEqual(decoded.problems, features.problems);
}

describe('feature cache file', () => {
  test('round-trips from a plain Uint8Array', () => {
    assertSame(decodeFeatures(new Uint8Array(encodeFeatures(features))));
  });

  test('round-trips from a Buffer that is a view into a larger pool', () => {
    const encoded = encodeFeatures(features);
    const pool = Buffer.alloc(encoded.length + 37, 0xff);
    Buffer.from(encoded).copy(pool, 13);
    const view = pool.subarray(13, 13 + encoded.length);
    assert.notEqual(view.buffer.byteLength, encoded.length, 'the test needs a view into a larger buffer');
    const decoded = decodeFeatures(view);
    assertSame(decoded);
    assert.equal(decoded.features.byteLength, 6 * 4);
  });

  test('a truncated file is refused, not read as features', () => {
    const encoded = encodeFeatures(features);
    assert.throws(() => decodeFeatures(encoded.subarray(0, encoded.length - 4)), /wrong size/);
  });
});
