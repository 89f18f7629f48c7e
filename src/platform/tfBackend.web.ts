/**
 * The TensorFlow.js backend of the browser extension host: the pure-JavaScript CPU backend, which needs
 * no files (the host reads model topologies; models run in the webviews, which pick their own backend).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Gradients are registered separately from the ops; explanations need them.
import '../engine/gradients';

export async function useHostBackend(_preference: 'wasm' | 'cpu'): Promise<void> {
  await tf.setBackend('cpu');
}
