/**
 * `.keras` archives, the format of `model.save('model.keras')` in Keras 3 and TF-Keras 2.13+:
 * a zip holding `config.json` (the architecture), `metadata.json` (the Keras version) and
 * `model.weights.h5` (the weights).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { TEXT_FILE_MAX_BYTES } from '../../confinedPath';
import { ModelReadError } from '../../errors';
import { limitsOf, type Limits } from '../../limits';
import type { ModelSource } from '../../modelSource';
import { hasHdf5Signature, readHdf5 } from './hdf5';
import { assertNestingWithin } from '../jsonNesting';
import type { Json } from './kerasJson';
import { loadKerasH5, type KerasLoadOptions } from './kerasH5';
import { buildKerasModel } from './kerasModel';
import { assignKerasV3Weights } from './kerasWeights';
import { assertEntryWithinLimits, findZipEntries, unpackZipEntry, type ZipEntry } from './zipArchive';
import { disposeLayersModel } from '../../variableCleanup';

const CONFIG = 'config.json';
const METADATA = 'metadata.json';
const WEIGHTS = 'model.weights.h5';

export async function loadKerasZip(source: ModelSource, options: KerasLoadOptions = {}): Promise<tfl.LayersModel> {
  const { fileName } = source;
  const limits = limitsOf(source);
  const bytes = await source.read();
  // Keras 2 wrote HDF5 to whatever name it was given, so some `.keras` files are HDF5 inside.
  if (hasHdf5Signature(bytes)) return loadKerasH5({ ...source, read: async () => bytes }, options);
  const withWeights = options.weights !== false;
  const entries = listModelEntries(bytes, fileName, limits, withWeights);
  const configEntry = entries.get(CONFIG);
  if (!configEntry) throw new ModelReadError(fileName, `is not a Keras model archive: it has no ${CONFIG}.`);
  const modelConfig = readJsonEntry(bytes, configEntry, fileName, limits);
  const metadataEntry = entries.get(METADATA);
  const kerasVersion = metadataEntry ? kerasVersionOf(readJsonEntry(bytes, metadataEntry, fileName, limits)) : undefined;

  const { model, topology } = await buildKerasModel(fileName, modelConfig, limits, kerasVersion);
  if (!withWeights) return model;
  try {
    const weightsEntry = entries.get(WEIGHTS);
    if (weightsEntry) {
      // Unpacked only now: the layer tree needs the config alone, and a model that cannot be built needs nothing more.
      const weights = unpackZipEntry(bytes, weightsEntry, fileName, limits);
      await readHdf5(weights, { fileName, member: WEIGHTS }, (file) => assignKerasV3Weights(model, topology, file, fileName, limits));
    } else if (model.weights.length > 0) {
      throw new ModelReadError(fileName, `has no ${WEIGHTS}, so the model's weights are missing.`);
    }
    return model;
  } catch (error) {
    disposeLayersModel(model);
    throw error;
  }
}

/**
 * The archive's directory entries for the model's files, each declared size checked before anything is
 * unpacked: the JSON files against what ConvLens reads of a text file, the weights against the limits.
 */
function listModelEntries(bytes: Uint8Array, fileName: string, limits: Limits, withWeights: boolean): Map<string, ZipEntry> {
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw new ModelReadError(fileName, 'is not a Keras model archive: it is not a zip file.');
  }
  const entries = findZipEntries(bytes, fileName, withWeights ? [CONFIG, METADATA, WEIGHTS] : [CONFIG, METADATA]);
  for (const entry of entries.values()) {
    if (entry.name !== WEIGHTS && entry.size > TEXT_FILE_MAX_BYTES) {
      throw new ModelReadError(fileName, `has a ${entry.name} of ${entry.size} bytes, more than ConvLens will unpack.`);
    }
    assertEntryWithinLimits(entry, fileName, limits);
  }
  return entries;
}

function kerasVersionOf(metadata: Json): string | undefined {
  const version = typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? metadata.keras_version : undefined;
  return typeof version === 'string' ? version : undefined;
}

function readJsonEntry(bytes: Uint8Array, entry: ZipEntry, fileName: string, limits: Limits): Json {
  const data = unpackZipEntry(bytes, entry, fileName, limits);
  let json: Json;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data)) as Json;
  } catch {
    throw new ModelReadError(fileName, `has a ${entry.name} that is not valid JSON.`);
  }
  assertNestingWithin(json, limits.nestingDepth, fileName, `has a ${entry.name}`);
  return json;
}
