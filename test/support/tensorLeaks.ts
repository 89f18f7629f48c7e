/** Fails a test that leaves tensors behind: every engine call must free what it allocates. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

export async function assertNoTensorLeak<T>(run: () => Promise<T>): Promise<T> {
  await run(); // the first call may allocate lasting state (backend caches, the random generator)
  const before = tf.memory().numTensors;
  const result = await run();
  assert.equal(tf.memory().numTensors, before, 'tensors were leaked');
  return result;
}
