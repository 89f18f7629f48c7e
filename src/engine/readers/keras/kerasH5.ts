/**
 * Keras HDF5 full-model files (`model.save('model.h5')` in Keras 2, or the legacy format in Keras 3):
 * the architecture as JSON in the root attribute `model_config`, the weights under `model_weights/`.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelReadError } from '../../errors';
import { limitsOf, type Limits } from '../../limits';
import type { ModelSource } from '../../modelSource';
import { readHdf5, type Hdf5File } from './hdf5';
import { assertNestingWithin } from '../jsonNesting';
import type { Json } from './kerasJson';
import { buildKerasModel } from './kerasModel';
import { assignKerasH5Weights } from './kerasWeights';
import { disposeLayersModel } from '../../variableCleanup';

export interface KerasLoadOptions {
  /** False builds the architecture alone, its weights left at zero: enough for the layer tree. */
  weights?: boolean;
}

export async function loadKerasH5(source: ModelSource, options: KerasLoadOptions = {}): Promise<tfl.LayersModel> {
  const { fileName } = source;
  const limits = limitsOf(source);
  return readHdf5(await source.read(), { fileName }, async (file) => {
    const modelConfig = readModelConfig(file, fileName, limits);
    const kerasVersion = file.text('/', 'keras_version');
    const { model } = await buildKerasModel(fileName, modelConfig, limits, kerasVersion);
    if (options.weights === false) return model;
    try {
      // Keras 2.0 and later keep the weights in a group; Keras 1 put them at the root.
      assignKerasH5Weights(model, file, fileName, limits, file.isGroup('/model_weights') ? '/model_weights' : '/');
      return model;
    } catch (error) {
      disposeLayersModel(model);
      throw error;
    }
  });
}

function readModelConfig(file: Hdf5File, fileName: string, limits: Limits): Json {
  const text = file.text('/', 'model_config');
  if (text === undefined) {
    const weightsOnly = file.hasAttribute('/', 'layer_names') || file.isGroup('/layers') || file.isGroup('/model_weights');
    throw new ModelReadError(
      fileName,
      weightsOnly
        ? 'holds only weights: it has no model_config, so the architecture is missing. Save the whole model with model.save().'
        : 'is an HDF5 file but not a Keras model: it has no model_config attribute.',
    );
  }
  let config: Json;
  try {
    config = JSON.parse(text) as Json;
  } catch {
    throw new ModelReadError(fileName, 'has a model_config attribute that is not valid JSON.');
  }
  assertNestingWithin(config, limits.nestingDepth, fileName, 'has a model_config attribute');
  return config;
}
