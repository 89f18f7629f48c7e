/** Picks the reader for a model file from its name: the quick summary, or the runnable model. */
import { asModelReadError, ModelReadError } from '../errors';
import type { RunnableModel } from '../graph';
import type { ModelFormat, ModelSummary } from '../model';
import type { ModelSource } from '../modelSource';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadKerasH5, type KerasLoadOptions } from './keras/kerasH5';
import { loadKerasZip } from './keras/kerasZip';
import { layersRunnable } from './layers/layersRunnable';
import { loadOnnx, readOnnxSummary } from './onnx';
import { summarizeLayersModel } from './layers/layersModelSummary';
import { loadTfjsGraph, readTfjsGraphSummary } from './tfjs/tfjsGraph';
import { loadTfjsLayers, readTfjsLayersSummary } from './tfjs/tfjsLayers';
import { disposeLayersModel } from '../variableCleanup';

interface Reader {
  summary(source: ModelSource): Promise<ModelSummary>;
  load(source: ModelSource): Promise<RunnableModel>;
}

const tfjsLayers: Reader = { summary: readTfjsLayersSummary, load: loadTfjsLayers };
const tfjsGraph: Reader = { summary: readTfjsGraphSummary, load: loadTfjsGraph };

/** Keras files become tfjs-layers models; the summary comes from the architecture alone, weights undecoded. */
function kerasReader(format: ModelFormat, build: (source: ModelSource, options: KerasLoadOptions) => Promise<tfl.LayersModel>): Reader {
  return {
    async summary(source) {
      const model = await build(source, { weights: false });
      try {
        return summarizeLayersModel(model, { format, fileName: source.fileName });
      } finally {
        disposeLayersModel(model);
      }
    },
    async load(source) {
      const model = await build(source, {});
      return layersRunnable(model, summarizeLayersModel(model, { format, fileName: source.fileName }));
    },
  };
}

const READERS: Record<string, Reader> = {
  '.h5': kerasReader('keras-h5', loadKerasH5),
  '.hdf5': kerasReader('keras-h5', loadKerasH5),
  '.keras': kerasReader('keras-zip', loadKerasZip),
  '.onnx': { summary: readOnnxSummary, load: loadOnnx },
};

async function readerFor(source: ModelSource): Promise<Reader> {
  const extension = extensionOf(source.fileName);
  if (extension === '.json') return isGraphModel(await source.read()) ? tfjsGraph : tfjsLayers;
  if (extension in READERS) return READERS[extension];
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
