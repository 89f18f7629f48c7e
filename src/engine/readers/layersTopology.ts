/** Building a tfjs-layers model from a Keras-style topology: the step every Keras-family reader shares. */
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelReadError } from '../errors';
import { freeVariablesOnFailure } from '../variableCleanup';
import { registerInferenceLayers } from './inferenceLayers';
import { walkLayerConfigs, type JsonObject } from './keras3Config';
import { withZeroInitializers } from './zeroInitializers';

/**
 * The model, its weights zeros (they are assigned afterwards, or not needed for a layer tree). A model
 * with no layers, or one tfjs-layers cannot build, is refused in one sentence, and a build that fails
 * halfway frees the weights it had made.
 */
export async function buildLayersTopology(fileName: string, topology: JsonObject): Promise<tfl.LayersModel> {
  registerInferenceLayers();
  const modelConfig = (topology.model_config ?? topology) as JsonObject;
  if (walkLayerConfigs(modelConfig).next().done) throw new ModelReadError(fileName, 'has a model with no layers.');
  try {
    return await freeVariablesOnFailure(() => tfl.models.modelFromJSON({ modelTopology: withZeroInitializers(topology) }));
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    throw new ModelReadError(fileName, `has a layer topology that cannot be built: ${detail}`);
  }
}
