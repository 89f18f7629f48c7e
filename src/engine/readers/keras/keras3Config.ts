/**
 * Rewrites a Keras model config into the dialect TensorFlow.js layers understands.
 *
 * tfjs-layers reads the Keras 2 config format. Keras 3 (and TF-Keras 2.13+ `.keras` files) changed it:
 * objects carry `module`/`registered_name`, dtypes are policy objects, the input layer says
 * `batch_shape`, and functional graphs record each call as `{args, kwargs}` with serialized tensors.
 * Everything here is a pure function on parsed JSON; Keras 2 configs pass through with only the
 * inference-irrelevant parts (initializers, regularizers, constraints) simplified.
 */
import { checkWiring, convertInboundNodes, tensorReferences } from './kerasWiring';
import { isObject, KerasConfigError, MODEL_CLASSES, type Json, type JsonObject } from './kerasJson';

export interface ConvertOptions {
  /** `keras_version` as saved with the model, when known: it decides version-dependent meanings. */
  kerasVersion?: string;
}

/**
 * Converts the `modelTopology` of a TensorFlow.js `model.json`, which is either a Keras model config
 * or a wrapper `{keras_version, backend, model_config, training_config}` around one.
 * Safe to call on any Keras topology: configs already in the Keras 2 dialect come back equivalent.
 */
export function convertKeras3Topology(topology: JsonObject, options: ConvertOptions = {}): JsonObject {
  const modelConfig = topology.model_config;
  if (isObject(modelConfig)) {
    const kerasVersion = options.kerasVersion ?? (typeof topology.keras_version === 'string' ? topology.keras_version : undefined);
    return { ...topology, model_config: convertKerasModelConfig(modelConfig, { kerasVersion }) };
  }
  return convertKerasModelConfig(topology, options);
}

/**
 * The weights manifest of a `model.json` converted from Keras 3 names every weight after the model
 * as well (`sequential/conv2d/kernel`), where tfjs-layers looks for `conv2d/kernel`. Returns the
 * manifest with that leading model name removed; any other manifest comes back unchanged.
 */
export function convertKeras3WeightsManifest<T extends { weights: { name: string }[] }>(manifest: T[], topology: JsonObject): T[] {
  const modelConfig = isObject(topology.model_config) ? topology.model_config : topology;
  const modelName = isObject(modelConfig.config) ? modelConfig.config.name : undefined;
  const version = typeof topology.keras_version === 'string' ? topology.keras_version : undefined;
  if (typeof modelName !== 'string' || !isKeras3(modelConfig, version)) return manifest;
  const prefix = `${modelName}/`;
  const names = manifest.flatMap((group) => group.weights.map((weight) => weight.name));
  if (names.length === 0 || !names.every((name) => name.startsWith(prefix))) return manifest;
  return manifest.map((group) => ({
    ...group,
    weights: group.weights.map((weight) => ({ ...weight, name: weight.name.slice(prefix.length) })),
  }));
}

/** Converts a whole-model config (`{class_name: 'Sequential' | 'Functional' | 'Model', config}`). */
export function convertKerasModelConfig(config: Json, options: ConvertOptions = {}): JsonObject {
  if (!isObject(config) || typeof config.class_name !== 'string') {
    throw new KerasConfigError('has a model config that is not a Keras model description.');
  }
  const context: Context = { keras3: isKeras3(config, options.kerasVersion) };
  if (!MODEL_CLASSES.has(config.class_name)) {
    throw new KerasConfigError(
      `holds a subclassed Keras model (class "${config.class_name}"), whose architecture exists only as Python code, so it cannot be rebuilt.`,
    );
  }
  return convertModel(config, context);
}

/** Every layer of a converted model config, nested models' layers included, parents first. */
export function* walkLayerConfigs(model: JsonObject, path: string[] = []): Generator<LayerEntry> {
  for (const layer of layersOf(model)) {
    const name = layerName(layer);
    const className = String(layer.class_name);
    yield { name, className, path: [...path, name], config: layer };
    if (MODEL_CLASSES.has(className)) yield* walkLayerConfigs(layer, [...path, name]);
  }
}

export interface LayerEntry {
  name: string;
  className: string;
  /** Names of the enclosing models and the layer's own. */
  path: string[];
  config: JsonObject;
}

/** The layer entries of a model config, in saved order. */
export function layersOf(model: JsonObject): JsonObject[] {
  const config = model.config;
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  return Array.isArray(layers) ? layers.filter(isObject) : [];
}

export function layerName(layer: JsonObject): string {
  const config = isObject(layer.config) ? layer.config : {};
  return String(config.name ?? layer.name ?? '');
}

interface Context {
  keras3: boolean;
}

function convertModel(entry: JsonObject, context: Context): JsonObject {
  return entry.class_name === 'Sequential' ? convertSequential(entry, context) : convertFunctional(entry, context);
}

function convertSequential(entry: JsonObject, context: Context): JsonObject {
  // Keras up to 2.1 saved a Sequential config as the bare list of its layers.
  const raw = Array.isArray(entry.config) ? { name: 'sequential', layers: entry.config } : isObject(entry.config) ? entry.config : {};
  const { layers: _layers, build_input_shape: buildInputShape, ...rest } = raw;
  const layers = layersOf({ config: raw }).map((layer) => convertLayer(layer, context));
  // A Sequential learns its input shape from its first layer; Keras 3 may keep it in the build config instead.
  const first = layers[0];
  const inputShape = buildInputShape ?? (isObject(entry.build_config) ? entry.build_config.input_shape : undefined);
  if (first && first.class_name !== 'InputLayer' && isObject(first.config) && !hasInputShape(first.config) && Array.isArray(inputShape)) {
    layers[0] = { ...first, config: { ...first.config, batch_input_shape: inputShape } };
  }
  return withModelKeys(entry, 'Sequential', { ...convertObject(rest, context), layers });
}

function convertFunctional(entry: JsonObject, context: Context): JsonObject {
  const raw = isObject(entry.config) ? entry.config : {};
  const { layers: _layers, input_layers: inputLayers, output_layers: outputLayers, ...rest } = raw;
  const layerEntries = layersOf(entry);
  const classOf = new Map(layerEntries.map((layer) => [layerName(layer), String(layer.class_name)]));
  const names = new Set(classOf.keys());
  const keras3Nodes = layerEntries.some((layer) => Array.isArray(layer.inbound_nodes) && layer.inbound_nodes.some(isObject));
  const layers = layerEntries.map((layer) => {
    const converted = convertLayer(layer, context);
    converted.name = layerName(layer);
    converted.inbound_nodes = convertInboundNodes(layer.inbound_nodes, classOf, converted.name);
    return converted;
  });
  // Keras 3 numbers model inputs and outputs counting a nested functional model's built-in node,
  // as tfjs does, but not a nested Sequential's, which it lacks there.
  const endpoints = (value: Json | undefined, role: string): Json[] =>
    tensorReferences(value).map(([name, node, tensor]) => {
      if (!names.has(name)) throw new KerasConfigError(`lists "${name}" among its model ${role}, but has no layer of that name.`);
      return [name, node + (keras3Nodes && classOf.get(name) === 'Sequential' ? 1 : 0), tensor];
    });
  const config: JsonObject = {
    ...convertObject(rest, context),
    layers,
    input_layers: endpoints(inputLayers, 'inputs'),
    output_layers: endpoints(outputLayers, 'outputs'),
  };
  checkWiring(layers, config);
  return withModelKeys(entry, entry.class_name === 'Model' ? 'Model' : 'Functional', config);
}

function withModelKeys(entry: JsonObject, className: string, config: JsonObject): JsonObject {
  const result: JsonObject = { class_name: className, config };
  if (typeof entry.name === 'string') result.name = entry.name;
  return result;
}

/** One layer entry: `{class_name, config}` plus, inside a functional model, `name` and `inbound_nodes`. */
function convertLayer(layer: JsonObject, context: Context): JsonObject {
  if (typeof layer.class_name !== 'string') {
    const name = layerName(layer);
    throw new KerasConfigError(name ? `has a layer "${name}" without a class name.` : 'has a layer without a class name.');
  }
  const className = layer.class_name;
  if (MODEL_CLASSES.has(className)) return convertModel(layer, context);
  const config = isObject(layer.config) ? convertLayerConfig(className, layer.config, context) : {};
  return { class_name: className, config };
}

function convertLayerConfig(className: string, raw: JsonObject, context: Context): JsonObject {
  const config = convertObject(raw, context);
  const name = String(config.name ?? className);
  if ('batch_shape' in config) {
    // Keras 3 renamed the input layer's batch_input_shape.
    config.batch_input_shape ??= config.batch_shape;
    delete config.batch_shape;
  }
  if (className === 'LeakyReLU' && 'negative_slope' in config) {
    // Keras 3 renamed LeakyReLU's alpha.
    config.alpha ??= config.negative_slope;
    delete config.negative_slope;
  }
  if (/^Global(Average|Max)Pooling[123]D$/.test(className) && config.keepdims === true) {
    throw new KerasConfigError(
      `has a layer "${name}" (${className}) that keeps the pooled dimensions (keepdims), which TensorFlow.js does not support.`,
    );
  }
  for (const key of ['activation', 'recurrent_activation']) {
    if (key in config) config[key] = convertActivation(config[key], name, context);
  }
  return config;
}

/**
 * Keras 3 activations that tfjs-layers names differently, or lacks but has an exact equivalent of.
 * tfjs camel-cases the other snake_case names itself (hard_sigmoid → hardSigmoid).
 */
const ACTIVATION_ALIASES: Record<string, string> = { silu: 'swish' };

function convertActivation(activation: Json, layer: string, context: Context): Json {
  // Keras 3 writes a built-in activation as its name, and wraps a function it cannot name.
  const name = isObject(activation) && activation.class_name === 'function' ? activation.config : activation;
  if (typeof name !== 'string') return activation;
  if (context.keras3 && name === 'hard_sigmoid') {
    // Keras 3 redefined hard_sigmoid as relu6(x + 3) / 6; tfjs keeps Keras 2's 0.2·x + 0.5.
    throw new KerasConfigError(
      `has a layer "${layer}" with the Keras 3 hard_sigmoid activation, which TensorFlow.js computes differently.`,
    );
  }
  return ACTIVATION_ALIASES[name] ?? name;
}

/**
 * Converts any value inside a layer config: strips Keras 3 object wrappers, turns dtype policies
 * into dtype names, and drops what matters only for training.
 */
function convertValue(value: Json, key: string, context: Context): Json {
  if (key === 'dtype') return convertDtype(value);
  // The file's weights replace any initial value, and regularizers and constraints act only while
  // training; leaving them out also spares tfjs random initialisation and classes it may lack.
  if (key.endsWith('_initializer') && value !== null) return { class_name: 'Zeros', config: {} };
  if (key.endsWith('_regularizer') || key.endsWith('_constraint')) return null;
  if (Array.isArray(value)) return value.map((item) => convertValue(item, '', context));
  if (!isObject(value)) return value;
  // Keras 3 wraps tuples and arrays in typed envelopes.
  if (value.class_name === '__tuple__' || value.class_name === '__numpy__' || value.class_name === '__tensor__') {
    return isObject(value.config) ? convertValue(value.config.value ?? null, key, context) : null;
  }
  return convertObject(value, context);
}

function convertObject(object: JsonObject, context: Context): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === 'module' || key === 'registered_name' || key === 'shared_object_id' || key === 'build_config' || key === 'compile_config') {
      continue;
    }
    result[key] = convertValue(value, key, context);
  }
  return result;
}

/**
 * tfjs computes in float32 (and int32/bool for indices and masks); a mixed or other float policy
 * runs in float32, with the weights as saved (float32 variables under mixed precision).
 */
function convertDtype(value: Json): Json {
  const name = isObject(value) ? (isObject(value.config) ? value.config.name : undefined) : value;
  if (typeof name !== 'string') return value;
  if (/float|mixed/.test(name)) return 'float32';
  if (/^u?int/.test(name)) return 'int32';
  return name;
}

function hasInputShape(config: JsonObject): boolean {
  return config.batch_input_shape != null || config.input_shape != null || config.batch_shape != null;
}

/** Keras 3 semantics apply when the version says so, or, unversioned, when the config is in its dialect. */
function isKeras3(config: JsonObject, kerasVersion: string | undefined): boolean {
  if (kerasVersion) return Number.parseInt(kerasVersion, 10) >= 3;
  const text = JSON.stringify(config);
  return text.includes('"DTypePolicy"') || text.includes('"__keras_tensor__"');
}
