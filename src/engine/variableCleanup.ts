/**
 * Building a model creates weight variables before it can fail (a bad layer config halfway through);
 * variables outlive tf.tidy scopes, so on failure they are found in the engine's registry and freed.
 */
import * as tf from '@tensorflow/tfjs-core';

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
