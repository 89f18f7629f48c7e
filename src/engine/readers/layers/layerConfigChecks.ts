/**
 * The numeric settings of the layer classes ConvLens builds, checked before tfjs-layers sees them.
 * tfjs-layers reads a layer's config as it finds it: a missing `filters` comes back as "expected
 * config.filters to be a 'number' > 0 but got undefined", a missing Dropout `rate` as a NaN that runs
 * silently, a missing Rescaling `scale` as a failure in the first forward pass. Here each required
 * setting must be present and each numeric setting of the right kind, or the file is refused in one
 * sentence naming the layer and the setting. Ranks and lengths (a kernel_size of three numbers for a
 * Conv2D) are left to tfjs-layers, whose messages for them are already plain.
 */
import { ModelReadError } from '../../errors';
import { walkLayerConfigs } from '../keras/keras3Config';
import type { Json, JsonObject } from '../keras/kerasJson';

/** What a setting must be, with the words that say so. */
interface Kind {
  test(value: Json): boolean;
  words: string;
}

const isInteger = (value: Json): value is number => typeof value === 'number' && Number.isInteger(value);
const isFiniteNumber = (value: Json): value is number => typeof value === 'number' && Number.isFinite(value);

/** One value, or a non-empty list of values, each passing `test`. */
function oneOrList(test: (value: Json) => boolean): (value: Json) => boolean {
  return (value) => (Array.isArray(value) ? value.length > 0 && value.every(test) : test(value));
}

/** Padding and cropping: a count, a count per dimension, or a pair of counts (before, after) per dimension. */
function nestedCounts(value: Json): boolean {
  const isCount = (v: Json) => isInteger(v) && v >= 0;
  if (!Array.isArray(value)) return isCount(value);
  return value.length > 0 && value.every((item) => (Array.isArray(item) ? item.length === 2 && item.every(isCount) : isCount(item)));
}

const POSITIVE_INTEGER: Kind = { test: (v) => isInteger(v) && v > 0, words: 'a positive integer' };
const POSITIVE_INTEGERS: Kind = { test: oneOrList((v) => isInteger(v) && v > 0), words: 'a positive integer or a list of them' };
const INTEGER: Kind = { test: isInteger, words: 'an integer' };
const INTEGERS: Kind = { test: oneOrList(isInteger), words: 'an integer or a list of them' };
const NUMBER: Kind = { test: isFiniteNumber, words: 'a number' };
const NUMBERS: Kind = { test: oneOrList(isFiniteNumber), words: 'a number or a list of them' };
const NON_NEGATIVE: Kind = { test: (v) => isFiniteNumber(v) && v >= 0, words: 'a number of at least 0' };
const FRACTION: Kind = { test: (v) => isFiniteNumber(v) && v >= 0 && v <= 1, words: 'a number from 0 to 1' };
const COUNTS: Kind = { test: nestedCounts, words: 'a count of 0 or more, a list of them or a list of pairs of them' };
/** Reshape's target: sizes, one of which may be -1 (inferred). */
const TARGET_SHAPE: Kind = {
  test: (v) => Array.isArray(v) && v.every((d) => isInteger(d) && (d > 0 || d === -1)) && v.filter((d) => d === -1).length <= 1,
  words: 'a list of positive sizes, one of them possibly -1',
};
const DIMS: Kind = {
  test: (v) => Array.isArray(v) && v.length > 0 && v.every((d) => isInteger(d) && d > 0),
  words: 'a list of axes from 1 up',
};

interface Settings {
  /** Settings the layer cannot be built without. */
  required?: Record<string, Kind>;
  /** Settings with a default, checked when given (null reads as "use the default"). */
  optional?: Record<string, Kind>;
}

const CONV_OPTIONAL = { strides: POSITIVE_INTEGERS, dilation_rate: POSITIVE_INTEGERS };
const CONV: Settings = { required: { filters: POSITIVE_INTEGER, kernel_size: POSITIVE_INTEGERS }, optional: CONV_OPTIONAL };
const POOLING: Settings = { optional: { pool_size: POSITIVE_INTEGERS, strides: POSITIVE_INTEGERS } };
const RECURRENT: Settings = { required: { units: POSITIVE_INTEGER }, optional: { dropout: FRACTION, recurrent_dropout: FRACTION } };
const DROPOUT: Settings = { required: { rate: FRACTION } };
const SIZED: Settings = { required: { height: POSITIVE_INTEGER, width: POSITIVE_INTEGER } };

/** By Keras class name, in the snake_case of saved configs. */
const SETTINGS: Record<string, Settings> = {
  Conv1D: CONV,
  Conv2D: CONV,
  Conv3D: CONV,
  Conv2DTranspose: CONV,
  Conv3DTranspose: CONV,
  SeparableConv1D: { ...CONV, optional: { ...CONV_OPTIONAL, depth_multiplier: POSITIVE_INTEGER } },
  SeparableConv2D: { ...CONV, optional: { ...CONV_OPTIONAL, depth_multiplier: POSITIVE_INTEGER } },
  DepthwiseConv2D: { required: { kernel_size: POSITIVE_INTEGERS }, optional: { ...CONV_OPTIONAL, depth_multiplier: POSITIVE_INTEGER } },
  ConvLSTM2D: {
    required: { filters: POSITIVE_INTEGER, kernel_size: POSITIVE_INTEGERS },
    optional: { ...CONV_OPTIONAL, dropout: FRACTION, recurrent_dropout: FRACTION },
  },
  Dense: { required: { units: POSITIVE_INTEGER } },
  Embedding: { required: { input_dim: POSITIVE_INTEGER, output_dim: POSITIVE_INTEGER } },
  SimpleRNN: RECURRENT,
  LSTM: RECURRENT,
  GRU: RECURRENT,
  Dropout: DROPOUT,
  SpatialDropout1D: DROPOUT,
  GaussianDropout: DROPOUT,
  AlphaDropout: DROPOUT,
  GaussianNoise: { required: { stddev: NON_NEGATIVE } },
  Reshape: { required: { target_shape: TARGET_SHAPE } },
  Permute: { required: { dims: DIMS } },
  RepeatVector: { required: { n: POSITIVE_INTEGER } },
  Rescaling: { required: { scale: NUMBERS }, optional: { offset: NUMBERS } },
  Resizing: SIZED,
  CenterCrop: SIZED,
  CategoryEncoding: { required: { num_tokens: POSITIVE_INTEGER } },
  MaxPooling1D: POOLING,
  MaxPooling2D: POOLING,
  MaxPooling3D: POOLING,
  AveragePooling1D: POOLING,
  AveragePooling2D: POOLING,
  AveragePooling3D: POOLING,
  UpSampling2D: { optional: { size: POSITIVE_INTEGERS } },
  ZeroPadding1D: { optional: { padding: COUNTS } },
  ZeroPadding2D: { optional: { padding: COUNTS } },
  Cropping1D: { required: { cropping: COUNTS } },
  Cropping2D: { required: { cropping: COUNTS } },
  BatchNormalization: { optional: { axis: INTEGERS, momentum: NUMBER, epsilon: NON_NEGATIVE } },
  LayerNormalization: { optional: { axis: INTEGERS, epsilon: NON_NEGATIVE } },
  Softmax: { optional: { axis: INTEGERS } },
  ReLU: { optional: { max_value: NON_NEGATIVE, negative_slope: NUMBER, threshold: NUMBER } },
  LeakyReLU: { optional: { alpha: NUMBER } },
  ELU: { optional: { alpha: NUMBER } },
  ThresholdedReLU: { optional: { theta: NUMBER } },
  Concatenate: { optional: { axis: INTEGER } },
  Dot: { required: { axes: INTEGERS } },
  Masking: { optional: { mask_value: NUMBER } },
};

/** Wrappers hold the layer they wrap in their config, as `{class_name, config}`. */
const WRAPPERS = new Set(['Bidirectional', 'TimeDistributed']);

/** Refuses, in one sentence, the first layer of the model config with a missing or unusable numeric setting. */
export function assertLayerSettingsUsable(fileName: string, modelConfig: JsonObject): void {
  for (const layer of walkLayerConfigs(modelConfig)) checkLayer(fileName, layer.config, layer.name);
}

function checkLayer(fileName: string, entry: JsonObject, name: string): void {
  const className = String(entry.class_name);
  const config = isObject(entry.config) ? entry.config : {};
  const settings = SETTINGS[className];
  const layer = name ? `a layer "${name}" (${className})` : `a ${className} layer`;
  for (const [key, kind] of Object.entries(settings?.required ?? {})) {
    const value = config[key];
    if (value === undefined || value === null)
      throw new ModelReadError(fileName, `has ${layer} without its ${key} setting, which must be ${kind.words}.`);
    if (!kind.test(value)) throw unusable(fileName, layer, key, value, kind);
  }
  for (const [key, kind] of Object.entries(settings?.optional ?? {})) {
    const value = config[key];
    if (value !== undefined && value !== null && !kind.test(value)) throw unusable(fileName, layer, key, value, kind);
  }
  if (WRAPPERS.has(className)) {
    if (!isObject(config.layer)) throw new ModelReadError(fileName, `has ${layer} that does not say which layer it wraps.`);
    checkLayer(fileName, config.layer, name);
  }
}

function unusable(fileName: string, layer: string, key: string, value: Json, kind: Kind): ModelReadError {
  return new ModelReadError(fileName, `has ${layer} whose ${key} setting${shown(value)} is not ${kind.words}.`);
}

/** A number or a short list of numbers as written; other values (text, objects, null inside a list) are not repeated. */
function shown(value: Json): string {
  const numeric = (v: Json): boolean => typeof v === 'number' || (Array.isArray(v) && v.every(numeric));
  if (!numeric(value)) return '';
  const text = JSON.stringify(value);
  return text.length <= 40 ? `, ${text},` : '';
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
