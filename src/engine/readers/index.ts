/** Picks the reader for a model file from its name and hands back the common summary. */
import { asModelReadError, ModelReadError } from '../errors';
import type { ModelSummary } from '../model';
import type { ModelSource } from '../modelSource';
import { readTfjsLayersSummary } from './tfjsLayers';

const NOT_YET: Record<string, string> = {
  '.h5': 'Keras HDF5 models',
  '.hdf5': 'Keras HDF5 models',
  '.keras': 'Keras .keras models',
  '.onnx': 'ONNX models',
};

export async function readModelSummary(source: ModelSource): Promise<ModelSummary> {
  const extension = extensionOf(source.fileName);
  try {
    if (extension === '.json') return await readTfjsLayersSummary(source);
    if (extension in NOT_YET) {
      throw new ModelReadError(source.fileName, `is one of the ${NOT_YET[extension]}, which this version of ConvLens cannot open yet.`);
    }
    throw new ModelReadError(source.fileName, 'is not a model file ConvLens knows (.json, .h5, .hdf5, .keras or .onnx).');
  } catch (error) {
    throw asModelReadError(source.fileName, error);
  }
}

function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot < 0 ? '' : fileName.slice(dot).toLowerCase();
}
