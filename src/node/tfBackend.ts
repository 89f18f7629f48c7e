/**
 * TensorFlow.js for Node without native bindings: the pure-JavaScript CPU backend.
 * PROD mode silences the console banner that suggests installing tfjs-node.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

let ready: Promise<void> | undefined;

export function useCpuBackend(): Promise<void> {
  ready ??= (async () => {
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
    await tf.ready();
  })();
  return ready;
}
