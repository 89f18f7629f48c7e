/** The binary weight shards a TensorFlow.js model.json lists (layers and graph models alike). */
import type { io } from '@tensorflow/tfjs-core';
import { readBeside, RefusedFileError } from '../confinedPath';
import { ModelReadError } from '../errors';
import type { ModelSource } from '../modelSource';

/** Reads every shard the manifest lists, checking each against the byte count its weights need. */
export async function readWeightShards(
  source: ModelSource,
  manifest: io.WeightsManifestConfig | undefined,
): Promise<{ specs: io.WeightsManifestEntry[]; data: ArrayBuffer }> {
  if (!Array.isArray(manifest)) throw new ModelReadError(source.fileName, 'has no "weightsManifest", so its weights cannot be found.');
  const specs: io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of manifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
      throw new ModelReadError(source.fileName, 'has a "weightsManifest" entry without "paths" and "weights".');
    }
    // Known before any shard is read: together the shards may hold no more than the group's weights need.
    const expected = group.weights.reduce((sum, spec) => sum + weightByteLength(source.fileName, spec), 0);
    const groupShards: Uint8Array[] = [];
    let bytesRead = 0;
    for (const shardPath of group.paths) {
      try {
        const shard = await readBeside(source, shardPath, 'lists the weight file', expected - bytesRead);
        groupShards.push(shard);
        bytesRead += shard.byteLength;
      } catch (error) {
        if (error instanceof RefusedFileError) throw error;
        throw new ModelReadError(source.fileName, `lists the weight file "${shardPath}", which cannot be read beside it.`);
      }
    }
    if (bytesRead !== expected) {
      throw new ModelReadError(
        source.fileName,
        `needs ${expected} bytes of weights from ${group.paths.join(', ')}, but ${bytesRead === 1 ? 'there is 1 byte' : `there are ${bytesRead} bytes`}.`,
      );
    }
    specs.push(...group.weights);
    shards.push(...groupShards);
  }
  const data = new Uint8Array(shards.reduce((sum, shard) => sum + shard.byteLength, 0));
  let offset = 0;
  for (const shard of shards) {
    data.set(shard, offset);
    offset += shard.byteLength;
  }
  return { specs, data: data.buffer };
}

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2 };

function weightByteLength(fileName: string, spec: io.WeightsManifestEntry): number {
  if (typeof spec?.name !== 'string' || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ModelReadError(fileName, 'has a "weightsManifest" entry without a valid name and shape.');
  }
  const count = spec.shape.reduce((n, d) => n * d, 1);
  const quantized = spec.quantization?.dtype;
  const bytes = BYTES_PER_VALUE[quantized ?? spec.dtype];
  if (!bytes || !Number.isFinite(count) || count < 0) {
    throw new ModelReadError(fileName, `has a weight "${spec.name}" of a kind ConvLens cannot read (${quantized ?? spec.dtype}).`);
  }
  return count * bytes;
}

