/**
 * `.keras` archives, the format of `model.save('model.keras')` in Keras 3 and TF-Keras 2.13+:
 * a zip holding `config.json` (the architecture), `metadata.json` (the Keras version) and
 * `model.weights.h5` (the weights).
 */
import { unzipSync, type UnzipFileInfo } from 'fflate';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelReadError } from '../errors';
import type { ModelSource } from '../modelSource';
import { hasHdf5Signature, readHdf5 } from './hdf5';
import type { Json } from './keras3Config';
import { loadKerasH5, type KerasLoadOptions } from './kerasH5';
import { buildKerasModel } from './kerasModel';
import { assignKerasV3Weights } from './kerasWeights';

const CONFIG = 'config.json';
const METADATA = 'metadata.json';
const WEIGHTS = 'model.weights.h5';

/** Upper bounds on what an archive may expand to, so a malformed or hostile zip cannot exhaust memory. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
const MAX_WEIGHTS_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export async function loadKerasZip(source: ModelSource, options: KerasLoadOptions = {}): Promise<tfl.LayersModel> {
  const { fileName } = source;
  const bytes = await source.read();
  // Keras 2 wrote HDF5 to whatever name it was given, so some `.keras` files are HDF5 inside.
  if (hasHdf5Signature(bytes)) return loadKerasH5({ ...source, read: async () => bytes }, options);
  const withWeights = options.weights !== false;
  const files = unzipModelFiles(bytes, fileName, withWeights);
  const configBytes = files[CONFIG];
  if (!configBytes) throw new ModelReadError(fileName, `is not a Keras model archive: it has no ${CONFIG}.`);
  const modelConfig = parseJson(configBytes, fileName, CONFIG);
  const kerasVersion = files[METADATA] ? kerasVersionOf(parseJson(files[METADATA], fileName, METADATA)) : undefined;

  const { model, topology } = await buildKerasModel(fileName, modelConfig, kerasVersion);
  if (!withWeights) return model;
  try {
    const weights = files[WEIGHTS];
    if (weights) {
      await readHdf5(weights, { fileName, member: WEIGHTS }, (file) => assignKerasV3Weights(model, topology, file, fileName));
    } else if (model.weights.length > 0) {
      throw new ModelReadError(fileName, `has no ${WEIGHTS}, so the model's weights are missing.`);
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

function unzipModelFiles(bytes: Uint8Array, fileName: string, withWeights: boolean): Record<string, Uint8Array> {
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw new ModelReadError(fileName, 'is not a Keras model archive: it is not a zip file.');
  }
  let oversized: UnzipFileInfo | undefined;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (file) => {
        // The weights are inflated only when they will be used: the layer tree needs the config alone.
        const limit = file.name === WEIGHTS ? (withWeights ? MAX_WEIGHTS_BYTES : -1) : file.name === CONFIG || file.name === METADATA ? MAX_JSON_BYTES : -1;
        if (limit >= 0 && file.originalSize > limit) oversized ??= file;
        // Each entry inflates into a buffer of its declared size, so the limits hold even for lying headers.
        return limit >= 0 && file.originalSize <= limit;
      },
    });
  } catch {
    throw new ModelReadError(fileName, 'is a damaged zip archive that cannot be unpacked.');
  }
  if (oversized) {
    throw new ModelReadError(fileName, `has a ${oversized.name} of ${oversized.originalSize} bytes, more than ConvLens will unpack.`);
  }
  return files;
}

function kerasVersionOf(metadata: Json): string | undefined {
  const version = typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? metadata.keras_version : undefined;
  return typeof version === 'string' ? version : undefined;
}

function parseJson(bytes: Uint8Array, fileName: string, member: string): Json {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Json;
  } catch {
    throw new ModelReadError(fileName, `has a ${member} that is not valid JSON.`);
  }
}
