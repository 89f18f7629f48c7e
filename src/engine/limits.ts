/**
 * Budgets checked before work: a model or image from a stranger may declare sizes that would take all
 * of the machine's memory or time. Readers compare what a file declares (tensor shapes, unpacked sizes,
 * node counts, nesting) with these limits before allocating or looping, and refuse with a
 * LimitExceededError: one sentence naming the file, what it asks for, the limit, and how to raise the
 * limit where a trusted file may legitimately need more.
 */
import { byteSize } from './confinedPath';
import { ModelReadError } from './errors';
import type { ModelSource } from './modelSource';

export interface Limits {
  /**
   * Bytes of tensor data one model may hold and make in one pass at batch size 1: its weights and
   * constants plus every intermediate output the graph declares or infers. Also caps one unpacked
   * file inside an archive.
   */
  modelBytes: number;
  /** Pixels (width × height) of one image, checked from its header before it is decoded. */
  imagePixels: number;
  /** Nodes or layers in one graph. */
  graphNodes: number;
  /** Depth of nested objects and arrays in a model's configuration (JSON, protobuf messages). */
  nestingDepth: number;
  /** Unpacked size over packed size for one archive entry of more than a mebibyte. */
  compressionRatio: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  // VGG-16's 528 MB of weights fit with room for its activations; a 1 KB file cannot ask for 3 GB.
  modelBytes: 1_000_000_000,
  // Pillow refuses images over 2 × 89.5 megapixels; a 48-megapixel camera photo fits here.
  imagePixels: 100_000_000,
  graphNodes: 200_000,
  nestingDepth: 200,
  // Random float weights barely compress; even zero-heavy weight files stay far below this.
  compressionRatio: 200,
};

/** How a user raises the limits that a trusted file may legitimately exceed. */
export const RAISE_LIMIT: Partial<Record<keyof Limits, { setting: string; flag: string }>> = {
  modelBytes: { setting: 'convlens.limits.modelMegabytes', flag: '--max-model-mb' },
  imagePixels: { setting: 'convlens.limits.imageMegapixels', flag: '--max-image-megapixels' },
};

const LIMIT_NAMES: Record<keyof Limits, (value: number) => string> = {
  modelBytes: (value) => `the ${byteSize(value)} ConvLens allows one model`,
  imagePixels: (value) =>
    `the ${(value / 1e6).toLocaleString('en-US', { maximumSignificantDigits: 6 })} megapixels ConvLens decodes in one image`,
  graphNodes: (value) => `the ${value.toLocaleString('en-US')} ConvLens reads in one model`,
  nestingDepth: (value) => `the ${value} levels of nesting ConvLens reads`,
  compressionRatio: (value) => `the ${value}:1 compression ConvLens unpacks`,
};

/**
 * A file that asks for more than a limit allows. `asks` is the predicate that says what it asks for
 * ("needs 3.2 GB for the output of node \"Tile_3\"", "is 30,000 × 30,000 pixels").
 */
export class LimitExceededError extends ModelReadError {
  constructor(
    fileName: string,
    asks: string,
    readonly limit: keyof Limits,
    readonly value: number,
  ) {
    const raise = RAISE_LIMIT[limit];
    const how = raise
      ? ` (raise it with the setting "${raise.setting}" or the command-line option ${raise.flag} if you trust this file)`
      : '';
    super(fileName, `${asks}, more than ${LIMIT_NAMES[limit](value)}${how}.`);
    this.name = 'LimitExceededError';
  }
}

/** The limits a source's readers work under: its own where it sets them, the defaults elsewhere. */
export function limitsOf(source: Pick<ModelSource, 'limits'>): Limits {
  return { ...DEFAULT_LIMITS, ...source.limits };
}

/**
 * Limits from user-facing units (megabytes, megapixels) as the setting and the CLI flags take them;
 * values that are not positive numbers are ignored.
 */
export function limitsFromUserUnits(units: { modelMegabytes?: unknown; imageMegapixels?: unknown }): Partial<Limits> {
  const limits: Partial<Limits> = {};
  const positive = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value > 0;
  if (positive(units.modelMegabytes)) limits.modelBytes = Math.round(units.modelMegabytes * 1e6);
  if (positive(units.imageMegapixels)) limits.imagePixels = Math.round(units.imageMegapixels * 1e6);
  return limits;
}
