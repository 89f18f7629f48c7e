/** Builds a tfjs-layers model from a Keras model config, with one clear sentence for what cannot be built. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelReadError } from '../../errors';
import type { Limits } from '../../limits';
import { convertKerasModelConfig } from './keras3Config';
import { KerasConfigError, type Json, type JsonObject } from './kerasJson';
import { assertLayerCountWithin, assertLayersKnown, buildLayersTopology } from '../layers/layersTopology';

export interface BuiltKerasModel {
  /** The model, its weights still zeros. */
  model: tfl.LayersModel;
  /** The config it was built from, in the tfjs dialect; it maps weights to layers. */
  topology: JsonObject;
}

/** `modelConfig` must have passed the nesting check (jsonNesting.ts): conversion walks it recursively. */
export async function buildKerasModel(
  fileName: string,
  modelConfig: Json,
  limits: Limits,
  kerasVersion?: string,
): Promise<BuiltKerasModel> {
  // Counted before the conversion, whose cost grows with the layers.
  if (typeof modelConfig === 'object' && modelConfig !== null && !Array.isArray(modelConfig))
    assertLayerCountWithin(fileName, modelConfig, limits);
  let topology: JsonObject;
  try {
    topology = convertKerasModelConfig(modelConfig, { kerasVersion });
  } catch (error) {
    throw error instanceof KerasConfigError ? new ModelReadError(fileName, error.problem) : error;
  }
  assertLayersKnown(fileName, topology);
  return { model: await buildLayersTopology(fileName, topology, limits), topology };
}
