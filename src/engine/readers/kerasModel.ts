/** Builds a tfjs-layers model from a Keras model config, with one clear sentence for what cannot be built. */
import { serialization } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelReadError } from '../errors';
import { registerInferenceLayers } from './inferenceLayers';
import { convertKerasModelConfig, KerasConfigError, walkLayerConfigs, type Json, type JsonObject } from './keras3Config';
import { buildLayersTopology } from './layersTopology';

export interface BuiltKerasModel {
  /** The model, its weights still zeros. */
  model: tfl.LayersModel;
  /** The config it was built from, in the tfjs dialect; it maps weights to layers. */
  topology: JsonObject;
}

/** Layers whose computation is Python code saved with the model. */
const PYTHON_CODE_LAYERS = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda']);

export async function buildKerasModel(fileName: string, modelConfig: Json, kerasVersion?: string): Promise<BuiltKerasModel> {
  registerInferenceLayers();
  let topology: JsonObject;
  try {
    topology = convertKerasModelConfig(modelConfig, { kerasVersion });
  } catch (error) {
    throw error instanceof KerasConfigError ? new ModelReadError(fileName, error.problem) : error;
  }
  assertLayersKnown(fileName, topology);
  return { model: await buildLayersTopology(fileName, topology), topology };
}

/** Checked before building, so that nothing is allocated for a model that cannot be completed. */
function assertLayersKnown(fileName: string, topology: JsonObject): void {
  const known = serialization.SerializationMap.getMap().classNameMap;
  for (const layer of walkLayerConfigs(topology)) {
    if (PYTHON_CODE_LAYERS.has(layer.className)) {
      throw new ModelReadError(fileName, `has a layer "${layer.name}" of class ${layer.className}, which runs Python code and so cannot be rebuilt outside Python.`);
    }
    if (!(layer.className in known)) {
      throw new ModelReadError(fileName, `has a layer "${layer.name}" of class ${layer.className}, a custom or unsupported layer that cannot be rebuilt outside Keras.`);
    }
  }
}
