/**
 * Building a model creates weight variables before it can fail (a bad layer config halfway through);
 * variables outlive tf.tidy scopes, so on failure they are found in the engine's registry and freed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export async function freeVariablesOnFailure<T>(build: () => Promise<T>): Promise<T> {
  const registry = () => tf.engine().registeredVariables;
  const before = new Set(Object.keys(registry()));
  try {
    return await build();
  } catch (error) {
    for (const [name, variable] of Object.entries(registry())) {
      if (!before.has(name)) variable.dispose();
    }
    throw error;
  }
}

/**
 * Disposes a layers model and every weight variable it holds. tfjs-layers counts how often a layer
 * is used and frees its weights only when the count drops to zero, so the weights of a model nested in
 * another (Teachable Machine's classifier head) outlived `model.dispose()`.
 */
export function disposeLayersModel(model: tfl.LayersModel): void {
  const variables = model.weights.map((weight) => weight.read());
  model.dispose();
  for (const variable of variables) if (!variable.isDisposed) variable.dispose();
}
