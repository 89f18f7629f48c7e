/** A Keras model config as parsed JSON, and the one error a config that tfjs-layers cannot take raises. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** A config that cannot be expressed for tfjs-layers. The message is a predicate about the file. */
export class KerasConfigError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'KerasConfigError';
  }
}

/** The class names of a model (as opposed to a layer) in a config. */
export const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
