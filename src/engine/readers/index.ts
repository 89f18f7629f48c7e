/** Picks the reader for a model file from its name: the quick summary, or the runnable model. */
import { asModelReadError, ModelReadError } from '../errors';
import type { RunnableModel } from '../graph';
import type { ModelSummary } from '../model';
import type { ModelSource } from '../modelSource';
import { loadTfjsGraph, readTfjsGraphSummary } from './tfjsGraph';
import { loadTfjsLayers, readTfjsLayersSummary } from './tfjsLayers';

interface Reader {
  summary(source: ModelSource): Promise<ModelSummary>;
  load(source: ModelSource): Promise<RunnableModel>;
}

const tfjsLayers: Reader = { summary: readTfjsLayersSummary, load: loadTfjsLayers };
const tfjsGraph: Reader = { summary: readTfjsGraphSummary, load: loadTfjsGraph };

const NOT_YET: Record<string, string> = {
  '.h5': 'a Keras HDF5 model',
  '.hdf5': 'a Keras HDF5 model',
  '.keras': 'a Keras .keras model',
  '.onnx': 'an ONNX model',
};

async function readerFor(source: ModelSource): Promise<Reader> {
  const extension = extensionOf(source.fileName);
  if (extension === '.json') return isGraphModel(await source.read()) ? tfjsGraph : tfjsLayers;
  if (extension in NOT_YET) {
    throw new ModelReadError(source.fileName, `is ${NOT_YET[extension]}, which this version of ConvLens cannot open yet.`);
  }
  throw new ModelReadError(source.fileName, 'is not a model file ConvLens knows (.json, .h5, .hdf5, .keras or .onnx).');
}

/** The layer tree, read as quickly as the format allows (before weights are decoded where possible). */
export async function readModelSummary(source: ModelSource): Promise<ModelSummary> {
  try {
    return await (await readerFor(source)).summary(source);
  } catch (error) {
    throw asModelReadError(source.fileName, error);
  }
}

/** The model with its weights, ready to run. Dispose it when done. */
export async function loadModel(source: ModelSource): Promise<RunnableModel> {
  try {
    return await (await readerFor(source)).load(source);
  } catch (error) {
    throw asModelReadError(source.fileName, error);
  }
}

export const MODEL_EXTENSIONS = ['.json', '.h5', '.hdf5', '.keras', '.onnx'];

/** TensorFlow.js graph models list op nodes; layers models hold a Keras topology. */
function isGraphModel(bytes: Uint8Array): boolean {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes));
    return json?.format === 'graph-model' || Array.isArray(json?.modelTopology?.node);
  } catch {
    return false; // the layers reader explains what is wrong with the file
  }
}

function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot < 0 ? '' : fileName.slice(dot).toLowerCase();
}
