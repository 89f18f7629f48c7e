/**
 * TensorFlow.js in the webview: WebGL when the window has it, otherwise the CPU backend,
 * with the reason kept so the user can be told why things are slower.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
// Explanations differentiate the network: the gradients of every op are registered apart from the ops.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { BackendPreference } from '../src/shared/protocol';

export interface BackendChoice {
  backend: string;
  fallbackReason?: string;
}

/** `preference` is the `convlens.backend` setting: 'cpu' skips WebGL, 'auto' and 'webgl' try it first. */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendChoice> {
  tf.env().set('PROD', true);
  if (preference === 'cpu') {
    await tf.setBackend('cpu');
    return { backend: 'cpu' };
  }
  let reason = 'WebGL is not available in this window.';
  try {
    if (await tf.setBackend('webgl')) {
      // Compile and run one tiny program: a context can exist and still fail on first use.
      const sum = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
      if (sum === 3) return { backend: 'webgl' };
      reason = 'WebGL gave a wrong result on a test computation.';
    }
  } catch (error) {
    reason = `WebGL failed to start (${error instanceof Error ? error.message : String(error)}).`;
  }
  await tf.setBackend('cpu');
  return { backend: 'cpu', fallbackReason: reason };
}
