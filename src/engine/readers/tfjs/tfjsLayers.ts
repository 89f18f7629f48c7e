/**
 * TensorFlow.js layers models: a `model.json` holding a Keras-style topology and a weights manifest
 * pointing at binary shards beside it (the TensorFlow.js converter's output, Teachable Machine exports).
 */
import * as tfc from '@tensorflow/tfjs-core';
import type { io } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelReadError } from '../../errors';
import { limitsOf, type Limits } from '../../limits';
import type { RunnableModel } from '../../graph';
import type { ModelSummary } from '../../model';
import type { ModelSource } from '../../modelSource';
import { convertKeras3Topology, convertKeras3WeightsManifest } from '../keras/keras3Config';
import { KerasConfigError, type JsonObject } from '../keras/kerasJson';
import { assertLayerCountWithin, buildLayersTopology } from '../layers/layersTopology';
import { parseTfjsModelJson } from './modelJson';
import { readWeightShards } from './weightShards';
import { layersRunnable } from '../layers/layersRunnable';
import { summarizeLayersModel } from '../layers/layersModelSummary';
import { disposeLayersModel } from '../../variableCleanup';

interface ModelJson {
  format?: string;
  modelTopology?: io.ModelJSON['modelTopology'] & { node?: unknown };
  weightsManifest?: io.WeightsManifestConfig;
}

export async function readTfjsLayersSummary(source: ModelSource): Promise<ModelSummary> {
  const limits = limitsOf(source);
  const json = readModelJson(source.fileName, await source.read(), limits);
  // Only the structure is wanted: zero initialisers make building the throw-away weights cheap.
  const model = await buildLayersTopology(source.fileName, json.modelTopology as unknown as JsonObject, limits);
  try {
    return summarizeLayersModel(model, { format: 'tfjs-layers', fileName: source.fileName });
  } finally {
    disposeLayersModel(model);
  }
}

/** The model with its weights, ready to run. */
export async function loadTfjsLayers(source: ModelSource): Promise<RunnableModel> {
  const limits = limitsOf(source);
  const json = readModelJson(source.fileName, await source.read(), limits);
  const { specs, data } = await readWeightShards(source, json.weightsManifest);
  const decoded = decodeWeights(source.fileName, specs, data);
  let model: tfl.LayersModel | undefined;
  try {
    model = await buildLayersTopology(source.fileName, json.modelTopology as unknown as JsonObject, limits);
    model.loadWeights(decoded, true);
  } catch (error) {
    if (model) disposeLayersModel(model);
    if (error instanceof ModelReadError) throw error;
    const detail = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    throw new ModelReadError(source.fileName, `has weights that do not fit its layers: ${detail}`);
  } finally {
    // The variables hold their own copies.
    tfc.dispose(Object.values(decoded));
  }
  return layersRunnable(model, summarizeLayersModel(model, { format: 'tfjs-layers', fileName: source.fileName }));
}

/** The model.json checked for nesting and size (layers counted before conversion, whose cost grows with them), in tfjs's dialect. */
function readModelJson(fileName: string, bytes: Uint8Array, limits: Limits): ModelJson {
  const json = parseModelJson(fileName, bytes, limits);
  assertLayerCountWithin(fileName, json.modelTopology as unknown as JsonObject, limits);
  return withKeras3Converted(fileName, json);
}

/** Models converted from Keras 3 carry a Keras 3 config and prefixed weight names; tfjs-layers reads Keras 2's. */
function withKeras3Converted(fileName: string, json: ModelJson): ModelJson {
  try {
    const topology = convertKeras3Topology(json.modelTopology as unknown as JsonObject);
    return {
      ...json,
      modelTopology: topology as unknown as ModelJson['modelTopology'],
      weightsManifest: Array.isArray(json.weightsManifest)
        ? convertKeras3WeightsManifest(json.weightsManifest, topology)
        : json.weightsManifest,
    };
  } catch (error) {
    if (error instanceof KerasConfigError) throw new ModelReadError(fileName, error.problem);
    throw error;
  }
}

function decodeWeights(fileName: string, specs: io.WeightsManifestEntry[], data: ArrayBuffer) {
  try {
    return tfc.io.decodeWeights(data, specs);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    throw new ModelReadError(fileName, `has weights that cannot be decoded: ${detail}`);
  }
}

export function parseModelJson(fileName: string, bytes: Uint8Array, limits: Pick<Limits, 'nestingDepth'>): ModelJson {
  const model = parseTfjsModelJson(fileName, bytes, limits) as unknown as ModelJson;
  const topology = model.modelTopology!;
  if (model.format === 'graph-model' || Array.isArray(topology.node)) {
    throw new ModelReadError(fileName, 'is a TensorFlow.js graph model, not a layers model.');
  }
  return model;
}
