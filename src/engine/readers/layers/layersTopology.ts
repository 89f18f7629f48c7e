/** Building a tfjs-layers model from a Keras-style topology: the step every Keras-family reader shares. */
import { serialization } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelReadError } from '../../errors';
import { LimitExceededError, type Limits } from '../../limits';
import { freeVariablesOnFailure } from '../../variableCleanup';
import { registerInferenceLayers } from './inferenceLayers';
import { assertLayerSettingsUsable } from './layerConfigChecks';
import { layerName, layersOf, walkLayerConfigs } from '../keras/keras3Config';
import type { Json, JsonObject } from '../keras/kerasJson';
import { withZeroInitializers } from './zeroInitializers';

/** Keras model classes, whose configs hold layers of their own. */
const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** Layers whose computation is Python code saved with the model. */
const PYTHON_CODE_LAYERS = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda']);

/**
 * The most layers tfjs-layers builds in reasonable time: its Container maps a model's graph with
 * Array.indexOf, in time that grows with the square of the layers (10,000 take about 2 s, 40,000 over
 * a minute). Real models have at most a few thousand.
 */
const TFJS_LAYERS_MAX = 10_000;

/**
 * The model, its weights zeros (they are assigned afterwards, or not needed for a layer tree). A model
 * with no layers, too many, or one tfjs-layers cannot build, is refused in one sentence, and a build
 * that fails halfway frees the weights it had made.
 */
export async function buildLayersTopology(fileName: string, topology: JsonObject, limits: Limits): Promise<tfl.LayersModel> {
  registerInferenceLayers();
  const modelConfig = (topology.model_config ?? topology) as JsonObject;
  if (walkLayerConfigs(modelConfig).next().done) throw new ModelReadError(fileName, 'has a model with no layers.');
  assertLayerCountWithin(fileName, modelConfig, limits);
  // tfjs-layers would report a Lambda as an unknown class, with a list of reasons that do not apply.
  assertClassesBuildable(fileName, modelConfig);
  // tfjs-layers reports a missing or malformed setting in its own terms ("… but got undefined"), or not at all.
  assertLayerSettingsUsable(fileName, modelConfig);
  const buildable = withZeroInitializers(topology);
  putLayersInDependencyOrder((buildable.model_config ?? buildable) as JsonObject);
  try {
    return await freeVariablesOnFailure(async () => builtNow(await tfl.models.modelFromJSON({ modelTopology: buildable })));
  } catch (error) {
    if (isStackOverflow(error)) {
      // tfjs-layers walks the graph recursively, a few calls per layer on the longest path.
      throw new ModelReadError(fileName, 'has a chain of layers too long for TensorFlow.js to build.');
    }
    if (isTooLargeToAllocate(error)) {
      // A size setting (filters, units…) so large that a weight of it cannot even be allocated.
      throw new ModelReadError(fileName, 'has a layer whose weights would be too large to allocate, so its settings must be damaged.');
    }
    throw new ModelReadError(fileName, `has a layer topology that cannot be built: ${firstSentence(error)}`);
  }
}

/**
 * A Sequential model connects its layers into a graph only when first used; done here, a chain too
 * long to connect is reported as such rather than failing later wherever the model is first used.
 */
function builtNow(model: tfl.LayersModel): tfl.LayersModel {
  if (model instanceof tfl.Sequential && !model.built && model.inputs.length > 0) model.build();
  return model;
}

/**
 * tfjs-layers connects a functional model's layers in passes over its list, each call once its inputs
 * exist: a list in reverse order takes a pass per layer, quadratic time. The copy it builds from lists
 * each layer after the layers it reads, the file's order kept where it already is so (Keras writes
 * them so); the weights are matched by name, so the order matters to nothing else.
 */
function putLayersInDependencyOrder(model: JsonObject): void {
  const config = model.config;
  if (typeof config === 'object' && config !== null && !Array.isArray(config) && Array.isArray(config.layers)) {
    config.layers = inDependencyOrder(config.layers);
  }
  for (const layer of layersOf(model)) {
    if (MODEL_CLASSES.has(String(layer.class_name))) putLayersInDependencyOrder(layer);
  }
}

/** Depth-first, the layers a layer reads before it, roots in list order; iterative, as a chain may be long. */
function inDependencyOrder(layers: Json[]): Json[] {
  const indexOf = new Map<string, number>();
  layers.forEach((layer, i) => {
    const name = isObject(layer) ? layerName(layer) : '';
    if (!indexOf.has(name)) indexOf.set(name, i);
  });
  const inputsOf = (i: number): number[] => {
    const layer = layers[i];
    const nodes = isObject(layer) && Array.isArray(layer.inbound_nodes) ? layer.inbound_nodes : [];
    return nodes
      .flatMap((node) => (Array.isArray(node) ? node : []))
      .flatMap((ref) => {
        const index = Array.isArray(ref) ? indexOf.get(String(ref[0])) : undefined;
        return index === undefined ? [] : [index];
      });
  };
  const state = new Uint8Array(layers.length); // 0 unseen, 1 on the path, 2 placed
  const ordered: Json[] = [];
  for (let root = 0; root < layers.length; root++) {
    if (state[root]) continue;
    state[root] = 1;
    const stack: [number, number[], number][] = [[root, inputsOf(root), 0]];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      const [index, inputs, visited] = frame;
      if (visited === inputs.length) {
        stack.pop();
        state[index] = 2;
        ordered.push(layers[index]);
        continue;
      }
      frame[2] = visited + 1;
      const input = inputs[visited];
      // A layer already on the path is a shared layer called again later: tfjs takes a second pass for it.
      if (state[input] === 0) {
        state[input] = 1;
        stack.push([input, inputsOf(input), 0]);
      }
    }
  }
  return ordered;
}

function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

function isTooLargeToAllocate(error: unknown): boolean {
  return (
    error instanceof RangeError && /Invalid typed array length|Array buffer allocation failed|Invalid array length/i.test(error.message)
  );
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Refuses a model config of more layers than a graph may have nodes (or tfjs-layers can build), nested
 * models' layers counted.
 */
export function assertLayerCountWithin(fileName: string, modelConfig: JsonObject, limits: Limits): void {
  const limit = Math.min(limits.graphNodes, TFJS_LAYERS_MAX);
  let count = 0;
  for (const _layer of walkLayerConfigs((modelConfig.model_config ?? modelConfig) as JsonObject)) count++;
  if (count > limit) throw new LimitExceededError(fileName, `has ${count.toLocaleString('en-US')} layers`, 'graphNodes', limit);
}

/**
 * Every layer names its class, and none runs Python code saved with the model: such a layer cannot run
 * here, whatever else the model holds.
 */
function assertClassesBuildable(fileName: string, modelConfig: JsonObject): void {
  for (const layer of walkLayerConfigs(modelConfig)) {
    if (typeof layer.config.class_name !== 'string') {
      throw new ModelReadError(
        fileName,
        layer.name ? `has a layer "${layer.name}" without a class name.` : 'has a layer without a class name.',
      );
    }
    if (PYTHON_CODE_LAYERS.has(layer.className)) {
      throw new ModelReadError(
        fileName,
        `has a layer "${layer.name}" of class ${layer.className}, which runs Python code and so cannot be rebuilt outside Python.`,
      );
    }
  }
}

/**
 * Every layer class known to tfjs-layers (or stood in for by inferenceLayers.ts); checked before
 * building, so that nothing is allocated for a model that cannot be completed.
 */
export function assertLayersKnown(fileName: string, modelConfig: JsonObject): void {
  registerInferenceLayers();
  assertClassesBuildable(fileName, modelConfig);
  const known = serialization.SerializationMap.getMap().classNameMap;
  for (const layer of walkLayerConfigs(modelConfig)) {
    if (!(layer.className in known)) {
      throw new ModelReadError(
        fileName,
        `has a layer "${layer.name}" of class ${layer.className}, a custom or unsupported layer that cannot be rebuilt outside Keras.`,
      );
    }
  }
}

/**
 * tfjs-layers' message up to its first full stop: some go on over several lines ("This may be due to
 * one of the following reasons:" and a numbered list), which would break the one-sentence message.
 */
function firstSentence(error: unknown): string {
  const line = (error instanceof Error ? error.message : String(error)).split('\n', 1)[0].trim();
  const end = line.search(/\.(\s|$)/);
  const sentence = end >= 0 ? line.slice(0, end) : line.replace(/[:;,\s]+$/, '');
  return `${sentence}.`;
}
