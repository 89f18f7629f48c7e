/** The binary weight shards a TensorFlow.js model.json lists (layers and graph models alike). */
import type { io } from '@tensorflow/tfjs-core';
import { byteSize, readBeside, RefusedFileError } from '../../confinedPath';
import { ModelReadError } from '../../errors';
import { LimitExceededError, limitsOf } from '../../limits';
import type { ModelSource } from '../../modelSource';

/**
 * Reads every shard the manifest lists, checking each against the byte count its weights need; the
 * total the manifest declares is checked against the limits before any shard is read.
 */
export async function readWeightShards(
  source: ModelSource,
  manifest: io.WeightsManifestConfig | undefined,
): Promise<{ specs: io.WeightsManifestEntry[]; data: ArrayBuffer }> {
  if (!Array.isArray(manifest)) throw new ModelReadError(source.fileName, 'has no "weightsManifest", so its weights cannot be found.');
  // Known before any shard is read: together a group's shards may hold no more than its weights need.
  const groupBytes = manifest.map((group) => declaredGroupBytes(source.fileName, group));
  assertWeightsWithinLimit(
    source,
    groupBytes.reduce((sum, bytes) => sum + bytes, 0),
  );
  const specs: io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const [index, group] of manifest.entries()) {
    const expected = groupBytes[index];
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

function declaredGroupBytes(fileName: string, group: io.WeightsManifestConfig[number]): number {
  if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
    throw new ModelReadError(fileName, 'has a "weightsManifest" entry without "paths" and "weights".');
  }
  return group.weights.reduce((sum, spec) => sum + weightByteLength(fileName, spec), 0);
}

function assertWeightsWithinLimit(source: ModelSource, total: number): void {
  const { modelBytes } = limitsOf(source);
  if (total > modelBytes) {
    // Shapes of absurd sizes multiply beyond what a number holds exactly; such a total is simply "over".
    const size = Number.isSafeInteger(total) ? byteSize(total) : `over ${byteSize(Number.MAX_SAFE_INTEGER)}`;
    throw new LimitExceededError(source.fileName, `declares ${size} of weights in its "weightsManifest"`, 'modelBytes', modelBytes);
  }
}

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2 };

function weightByteLength(fileName: string, spec: io.WeightsManifestEntry): number {
  if (typeof spec?.name !== 'string' || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ModelReadError(fileName, 'has a "weightsManifest" entry without a valid name and shape.');
  }
  const count = spec.shape.reduce((n, d) => n * d, 1);
  const dtype: unknown = spec.quantization ? spec.quantization.dtype : spec.dtype;
  if (typeof dtype !== 'string') throw new ModelReadError(fileName, `has a weight "${spec.name}" without a data type ("dtype").`);
  const bytes = Object.hasOwn(BYTES_PER_VALUE, dtype) ? BYTES_PER_VALUE[dtype] : undefined;
  if (!bytes) throw new ModelReadError(fileName, `has a weight "${spec.name}" of a kind ConvLens cannot read (${dtype}).`);
  return count * bytes;
}
