/** The feature cache's file format: what the webview computed for a folder, as bytes and back. */
import { concatBytes } from '../../engine/bytes';
import type { CachedFeatures } from '../../shared/analyzeProtocol';

/** A JSON header line (layer, sizes), then the three arrays' bytes one after another. */
export function encodeFeatures(features: CachedFeatures): Uint8Array {
  const header = new TextEncoder().encode(
    `${JSON.stringify({ featureLayer: features.featureLayer, dim: features.dim, problems: features.problems, sizes: [features.features.byteLength, features.predicted.byteLength, features.confidence.byteLength] })}\n`,
  );
  const parts = [header, ...[features.features, features.predicted, features.confidence].map((buffer) => new Uint8Array(buffer))];
  return concatBytes(parts);
}

export function decodeFeatures(bytes: Uint8Array): CachedFeatures {
  const newline = bytes.indexOf(10);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, newline))) as {
    featureLayer: string;
    dim: number;
    problems: [string, string][];
    sizes: number[];
  };
  let offset = newline + 1;
  const next = (size: number) => {
    // A copy: `bytes` may be a Node Buffer, whose slice() shares (and whose .buffer is a larger pool).
    const part = new Uint8Array(bytes.subarray(offset, offset + size)).buffer;
    offset += size;
    return part;
  };
  const [features, predicted, confidence] = header.sizes.map(next);
  if (offset !== bytes.length) throw new Error('cache file has the wrong size');
  return { featureLayer: header.featureLayer, dim: header.dim, features, predicted, confidence, problems: header.problems ?? [] };
}
