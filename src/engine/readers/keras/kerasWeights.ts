/**
 * Puts the weights Keras saved into a built tfjs-layers model. Keras has two layouts:
 * - Keras 2 HDF5 (`model.save('m.h5')`): a group per layer under `model_weights/`, listed in order
 *   by the `layer_names` attribute; each group lists its arrays in order in `weight_names`.
 * - `model.weights.h5` in a `.keras` archive (Keras 3, TF-Keras 2.13+): `layers/<key>/vars/0..n`,
 *   where <key> is the layer's class name in snake_case made unique by a counter, in layer order;
 *   a nested model keeps its layers under `layers/<key>/layers/`.
 * Arrays are matched to variables by layer and order, every shape and the total size are checked
 * from the datasets' headers before any data is read, and nothing is written unless every weight of
 * the model has its array.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { byteSize } from '../../confinedPath';
import { ModelReadError } from '../../errors';
import { LimitExceededError, type Limits } from '../../limits';
import type { Hdf5File } from './hdf5';
import { layerName, layersOf } from './keras3Config';
import type { JsonObject } from './kerasJson';

type Layer = tfl.LayersModel['layers'][number];

/** A saved array as its header declares it: matched and checked before its data is read. */
interface StoredArray {
  path: string;
  shape: number[];
  /** Bytes its values take as stored. */
  bytes: number;
}

interface WeightWrite {
  variable: tfl.LayerVariable;
  stored: StoredArray;
}

/** Keras 2 HDF5 layout; `root` is `/model_weights` in a full-model file. */
export function assignKerasH5Weights(
  model: tfl.LayersModel,
  file: Hdf5File,
  fileName: string,
  limits: Limits,
  root = '/model_weights',
): void {
  const layerNames = file.textList(root, 'layer_names');
  if (!layerNames) {
    throw new ModelReadError(fileName, 'has no list of its weighted layers (layer_names), so its weights cannot be matched to its layers.');
  }
  const layers = layersByName(model);
  const writes: WeightWrite[] = [];
  for (const name of layerNames) {
    const group = joinPath(root, name);
    const weightNames = file.textList(group, 'weight_names') ?? [];
    const layer = layers.get(name);
    if (!layer) {
      if (weightNames.length === 0) continue;
      throw new ModelReadError(fileName, `has weights for a layer "${name}" that its architecture does not have.`);
    }
    const arrays = weightNames.map((weightName) => {
      const stored = storedArray(file, joinPath(group, weightName));
      if (!stored) throw new ModelReadError(fileName, `lists a weight "${weightName}" for layer "${name}" that the file does not contain.`);
      return stored;
    });
    writes.push(...matchLayerWeights(layer, name, arrays, fileName));
  }
  commitWeights(model, writes, file, fileName, limits);
}

/** `.keras` layout, guided by the model config the model was built from. */
export function assignKerasV3Weights(model: tfl.LayersModel, topology: JsonObject, file: Hdf5File, fileName: string, limits: Limits): void {
  const writes: WeightWrite[] = [];
  collectContainerWeights(model, topology, '/layers', '', file, fileName, writes);
  commitWeights(model, writes, file, fileName, limits);
}

function collectContainerWeights(
  container: tfl.LayersModel,
  config: JsonObject,
  groupPath: string,
  labelPrefix: string,
  file: Hdf5File,
  fileName: string,
  writes: WeightWrite[],
): void {
  const keys = new SavedNameCounter();
  const layers = layersByName(container);
  for (const entry of layersOf(config)) {
    const className = String(entry.class_name);
    const name = layerName(entry);
    const classKey = keys.next(className);
    if (className === 'InputLayer') continue;
    const layer = layers.get(name);
    if (!layer) throw new ModelReadError(fileName, `has a layer "${name}" in its config that the built model lacks.`);
    // Saved under the class-derived key; fall back to the layer's own name should a writer have used it.
    const key = !file.isGroup(joinPath(groupPath, classKey)) && file.isGroup(joinPath(groupPath, name)) ? name : classKey;
    const path = joinPath(groupPath, key);
    const label = labelPrefix + name;
    if (isModel(layer)) {
      collectContainerWeights(layer, entry, joinPath(path, 'layers'), `${label}/`, file, fileName, writes);
    } else if (layer.weights.length > 0) {
      writes.push(...matchLayerWeights(layer, label, storedVars(file, joinPath(path, 'vars')), fileName));
    }
  }
}

/** A container's layers by name, so matching a model of many layers takes linear time. */
function layersByName(container: tfl.LayersModel): Map<string, Layer> {
  const layers = new Map<string, Layer>();
  for (const layer of container.layers) if (!layers.has(layer.name)) layers.set(layer.name, layer);
  return layers;
}

/** `vars/0`, `vars/1`, … in numeric order (HDF5 lists them alphabetically: 0, 1, 10, 2…). */
function storedVars(file: Hdf5File, varsPath: string): StoredArray[] {
  return file
    .keys(varsPath)
    .filter((key) => /^\d+$/.test(key))
    .sort((a, b) => Number(a) - Number(b))
    .map((key) => storedArray(file, joinPath(varsPath, key)))
    .filter((stored) => stored !== undefined);
}

function storedArray(file: Hdf5File, path: string): StoredArray | undefined {
  const info = file.datasetInfo(path);
  return info && { path, shape: info.shape, bytes: info.bytes };
}

function matchLayerWeights(layer: Layer, label: string, arrays: StoredArray[], fileName: string): WeightWrite[] {
  const variables = layer.weights;
  const described = `layer "${label}" (${layer.getClassName()})`;
  if (arrays.length !== variables.length) {
    throw new ModelReadError(fileName, `has ${arrays.length} saved weight arrays for ${described}, which needs ${variables.length}.`);
  }
  return variables.map((variable, i) => {
    const expected = variable.shape;
    const found = arrays[i].shape;
    if (found.length !== expected.length || found.some((d, k) => d !== expected[k])) {
      throw new ModelReadError(
        fileName,
        `has a weight of shape [${found.join(', ')}] for ${described} where [${expected.join(', ')}] is needed (${variableRole(variable)}).`,
      );
    }
    return { variable, stored: arrays[i] };
  });
}

/**
 * Reads and writes only once the whole model is covered and every shape matches, so a mismatch reads
 * no data and never leaves a half-loaded model; the declared total is checked against the limit first.
 */
function commitWeights(model: tfl.LayersModel, writes: WeightWrite[], file: Hdf5File, fileName: string, limits: Limits): void {
  const written = new Set(writes.map((w) => w.variable.id));
  const missing = model.weights.find((variable) => !written.has(variable.id));
  if (missing) throw new ModelReadError(fileName, `has no saved values for the weight "${missing.originalName}".`);
  const total = writes.reduce((sum, { stored }) => sum + stored.bytes, 0);
  if (total > limits.modelBytes) {
    throw new LimitExceededError(fileName, `declares ${byteSize(total)} of weights`, 'modelBytes', limits.modelBytes);
  }
  for (const { variable, stored } of writes) {
    const array = file.floats(stored.path);
    const value = tf.tensor(array.values, array.shape, variable.dtype);
    try {
      variable.write(value);
    } finally {
      value.dispose();
    }
  }
}

/**
 * Keras 3 names saved layers after their class, in snake_case (Conv2D → conv2d,
 * GlobalAveragePooling2D → global_average_pooling2d), with `_1`, `_2`… for repeats.
 */
export class SavedNameCounter {
  private readonly used = new Map<string, number>();

  next(className: string): string {
    const base = toSnakeCase(className);
    const count = this.used.get(base);
    this.used.set(base, count === undefined ? 0 : count + 1);
    return count === undefined ? base : `${base}_${count + 1}`;
  }
}

/** The same conversion Keras applies (three regular expressions, in this order). */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

function isModel(layer: Layer): layer is tfl.LayersModel {
  return Array.isArray((layer as Partial<tfl.LayersModel>).layers);
}

/** "kernel" from "conv2d/kernel": the weight's role within its layer. */
function variableRole(variable: tfl.LayerVariable): string {
  return variable.originalName.split('/').pop() ?? variable.originalName;
}

function joinPath(group: string, name: string): string {
  return group.endsWith('/') ? `${group}${name}` : `${group}/${name}`;
}
