/**
 * TensorFlow.js layers models: a `model.json` holding a Keras-style topology and a weights manifest
 * pointing at binary shards beside it (the TensorFlow.js converter's output, Teachable Machine exports).
 */
import type { io } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelReadError } from '../errors';
import type { ModelSummary } from '../model';
import type { ModelSource } from '../modelSource';
import { summarizeLayersModel } from './layersModelSummary';

interface ModelJson {
  format?: string;
  modelTopology?: io.ModelJSON['modelTopology'] & { node?: unknown };
  weightsManifest?: unknown;
}

export async function readTfjsLayersSummary(source: ModelSource): Promise<ModelSummary> {
  const json = parseModelJson(source.fileName, await source.read());
  const model = await buildTopology(source.fileName, json.modelTopology!);
  try {
    return summarizeLayersModel(model, { format: 'tfjs-layers', fileName: source.fileName });
  } finally {
    // The topology was built with freshly initialised weights; only its structure was wanted.
    model.dispose();
  }
}

export function parseModelJson(fileName: string, bytes: Uint8Array): ModelJson {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ModelReadError(fileName, 'is not valid JSON, so it cannot be a TensorFlow.js model.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelReadError(fileName, 'is not a TensorFlow.js model: it holds no JSON object.');
  }
  const model = json as ModelJson;
  const topology = model.modelTopology;
  if (typeof topology !== 'object' || topology === null) {
    throw new ModelReadError(fileName, 'is not a TensorFlow.js model: it has no "modelTopology".');
  }
  if (model.format === 'graph-model' || Array.isArray(topology.node)) {
    throw new ModelReadError(fileName, 'is a TensorFlow.js graph model, which this version of ConvLens cannot open yet.');
  }
  return model;
}

async function buildTopology(fileName: string, topology: io.ModelJSON['modelTopology']): Promise<tfl.LayersModel> {
  try {
    return await tfl.models.modelFromJSON({ modelTopology: topology });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    throw new ModelReadError(fileName, `has a layer topology that cannot be built: ${detail}`);
  }
}
