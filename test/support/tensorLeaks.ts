/**
 * Fails a test that leaves tensors behind: every engine call must free what it allocates. Counts the
 * engine's tensors and the backend's buffers, so a kernel that leaks an intermediate result is caught too.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

function allocated(): { tensors: number; buffers: number } {
  return { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
}

export async function assertNoTensorLeak<T>(run: () => Promise<T>): Promise<T> {
  await run(); // the first call may allocate lasting state (backend caches, the random generator)
  const before = allocated();
  const result = await run();
  assert.deepEqual(allocated(), before, 'tensors were leaked');
  return result;
}
