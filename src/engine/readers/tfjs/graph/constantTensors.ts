/** The values of a graph model's constants, decoded from the weight shards its manifest lists. */
import * as tf from '@tensorflow/tfjs-core';
import { ModelReadError } from '../../../errors';
import type { ModelSource } from '../../../modelSource';
import { readWeightShards } from '../weightShards';
import type { ConstantInfo } from './constants';
import type { GraphModelJson } from './graphJson';

/** Tensors by constant name; the caller owns them. */
export async function readConstantTensors(
  source: ModelSource,
  json: GraphModelJson,
  constants: ReadonlyMap<string, ConstantInfo>,
): Promise<Map<string, tf.Tensor>> {
  if (constants.size === 0) return new Map();
  const unlisted = [...constants].find(([, constant]) => !constant.inManifest);
  // Without any manifest, reading the shards says so; with one, a constant missing from it is named.
  if (unlisted && Array.isArray(json.weightsManifest)) {
    throw new ModelReadError(source.fileName, `has the constant "${unlisted[0]}", whose values its "weightsManifest" does not list.`);
  }

  const { specs, data } = await readWeightShards(source, json.weightsManifest);
  let decoded: tf.NamedTensorMap;
  try {
    decoded = tf.io.decodeWeights(data, specs);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    throw new ModelReadError(source.fileName, `has weights that cannot be decoded: ${detail}`);
  }
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, tensor] of Object.entries(decoded)) {
    if (constants.has(name)) tensors.set(name, tensor);
    else tensor.dispose(); // listed in the manifest but read by no node
  }
  return tensors;
}

/** A small integer tensor's values (a shape, axes, paddings); `undefined` for anything else. */
export function smallIntegerValues(tensor: tf.Tensor | undefined): number[] | undefined {
  if (!tensor || tensor.dtype !== 'int32' || tensor.size > 64) return undefined;
  return Array.from(tensor.dataSync());
}
