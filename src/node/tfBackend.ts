/**
 * TensorFlow.js for Node without native bindings: the pure-JavaScript CPU backend.
 * PROD mode silences the console banner that suggests installing tfjs-node.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Gradients are registered separately from the ops; explanations need them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';

let ready: Promise<void> | undefined;

export function useCpuBackend(): Promise<void> {
  ready ??= (async () => {
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
    await tf.ready();
  })();
  return ready;
}
