/**
 * Puts the weights Keras saved into a built tfjs-layers model. Keras has two layouts:
 * - Keras 2 HDF5 (`model.save('m.h5')`): a group per layer under `model_weights/`, listed in order
 *   by the `layer_names` attribute; each group lists its arrays in order in `weight_names`.
 * - `model.weights.h5` in a `.keras` archive (Keras 3, TF-Keras 2.13+): `layers/<key>/vars/0..n`,
 *   where <key> is the layer's class name in snake_case made unique by a counter, in layer order;
 *   a nested model keeps its layers under `layers/<key>/layers/`.
 * Arrays are matched to variables by layer and order, every shape is checked, and nothing is
 * written unless every weight of the model has its array.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelReadError } from '../errors';
import type { FloatArray, Hdf5File } from './hdf5';
import { layerName, layersOf, type JsonObject } from './keras3Config';

type Layer = tfl.LayersModel['layers'][number];

interface WeightWrite {
  variable: tfl.LayerVariable;
  array: FloatArray;
}

/** Keras 2 HDF5 layout; `root` is `/model_weights` in a full-model file. */
export function assignKerasH5Weights(model: tfl.LayersModel, file: Hdf5File, fileName: string, root = '/model_weights'): void {
  const layerNames = file.textList(root, 'layer_names');
  if (!layerNames) {
    throw new ModelReadError(fileName, 'has no list of its weighted layers (layer_names), so its weights cannot be matched to its layers.');
  }
  const writes: WeightWrite[] = [];
  for (const name of layerNames) {
    const group = joinPath(root, name);
    const weightNames = file.textList(group, 'weight_names') ?? [];
    const layer = model.layers.find((l) => l.name === name);
    if (!layer) {
      if (weightNames.length === 0) continue;
      throw new ModelReadError(fileName, `has weights for a layer "${name}" that its architecture does not have.`);
    }
    const arrays = weightNames.map((weightName) => {
      const path = joinPath(group, weightName);
      if (!file.isDataset(path)) {
        throw new ModelReadError(fileName, `lists a weight "${weightName}" for layer "${name}" that the file does not contain.`);
      }
      return file.floats(path);
    });
    writes.push(...matchLayerWeights(layer, name, arrays, fileName));
  }
  commitWeights(model, writes, fileName);
}

/** `.keras` layout, guided by the model config the model was built from. */
export function assignKerasV3Weights(model: tfl.LayersModel, topology: JsonObject, file: Hdf5File, fileName: string): void {
  const writes: WeightWrite[] = [];
  collectContainerWeights(model, topology, '/layers', '', file, fileName, writes);
  commitWeights(model, writes, fileName);
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
  for (const entry of layersOf(config)) {
    const className = String(entry.class_name);
    const name = layerName(entry);
    const classKey = keys.next(className);
    if (className === 'InputLayer') continue;
    const layer = container.layers.find((l) => l.name === name);
    if (!layer) throw new ModelReadError(fileName, `has a layer "${name}" in its config that the built model lacks.`);
    // Saved under the class-derived key; fall back to the layer's own name should a writer have used it.
    const key = !file.isGroup(joinPath(groupPath, classKey)) && file.isGroup(joinPath(groupPath, name)) ? name : classKey;
    const path = joinPath(groupPath, key);
    const label = labelPrefix + name;
    if (isModel(layer)) {
      collectContainerWeights(layer, entry, joinPath(path, 'layers'), `${label}/`, file, fileName, writes);
    } else if (layer.weights.length > 0) {
      writes.push(...matchLayerWeights(layer, label, readVars(file, joinPath(path, 'vars')), fileName));
    }
  }
}

/** `vars/0`, `vars/1`, … in numeric order (HDF5 lists them alphabetically: 0, 1, 10, 2…). */
function readVars(file: Hdf5File, varsPath: string): FloatArray[] {
  return file
    .keys(varsPath)
    .filter((key) => /^\d+$/.test(key) && file.isDataset(joinPath(varsPath, key)))
    .sort((a, b) => Number(a) - Number(b))
    .map((key) => file.floats(joinPath(varsPath, key)));
}

function matchLayerWeights(layer: Layer, label: string, arrays: FloatArray[], fileName: string): WeightWrite[] {
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
    return { variable, array: arrays[i] };
  });
}

/** Writes only when the whole model is covered, so a mismatch never leaves a half-loaded model. */
function commitWeights(model: tfl.LayersModel, writes: WeightWrite[], fileName: string): void {
  const written = new Set(writes.map((w) => w.variable.id));
  const missing = model.weights.find((variable) => !written.has(variable.id));
  if (missing) throw new ModelReadError(fileName, `has no saved values for the weight "${missing.originalName}".`);
  for (const { variable, array } of writes) {
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
