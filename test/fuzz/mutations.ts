/**
 * Seeded damage to model files: each variant is replayable from (seed, index) alone, so a failure found
 * by a long run can be reproduced in a test.
 */
import { seededRandom } from '../../src/engine/dataset/random';
import type { ModelSource } from '../../src/engine/modelSource';
import type { FuzzSeed } from './seeds';

type Mutation = (bytes: Uint8Array, next: () => number) => Uint8Array;

export const MUTATIONS: Record<string, Mutation> = {
  truncate: (bytes, next) => bytes.slice(0, Math.floor(next() * bytes.length)),
  flipBits: (bytes, next) => {
    const copy = bytes.slice();
    const flips = 1 + Math.floor(next() * 8);
    for (let i = 0; i < flips && copy.length; i++) copy[Math.floor(next() * copy.length)] ^= 1 << Math.floor(next() * 8);
    return copy;
  },
  overwrite: (bytes, next) => {
    const copy = bytes.slice();
    const start = Math.floor(next() * copy.length);
    const end = Math.min(copy.length, start + 1 + Math.floor(next() * 64));
    for (let i = start; i < end; i++) copy[i] = Math.floor(next() * 256);
    return copy;
  },
  // Damage near the start, where headers and tables of contents live.
  flipHeader: (bytes, next) => {
    const copy = bytes.slice();
    const reach = Math.min(copy.length, 512);
    if (reach) copy[Math.floor(next() * reach)] ^= 1 << Math.floor(next() * 8);
    return copy;
  },
  // Sizes and counts are where a hostile file asks for too much: set a few 32-bit words to extremes.
  extremeWords: (bytes, next) => {
    const copy = bytes.slice();
    const extremes = [0xffffffff, 0x7fffffff, 0x80000000, 0x00010000, 0];
    const words = 1 + Math.floor(next() * 3);
    for (let i = 0; i < words && copy.length >= 4; i++) {
      const at = Math.floor(next() * (copy.length - 3));
      new DataView(copy.buffer, copy.byteOffset).setUint32(at, extremes[Math.floor(next() * extremes.length)], next() < 0.5);
    }
    return copy;
  },
  garbage: (_bytes, next) => Uint8Array.from({ length: Math.floor(next() * 4096) }, () => Math.floor(next() * 256)),
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

export interface Variant {
  source: ModelSource;
  /** "flipBits of group1-shard1of1.bin": what was damaged, for the report. */
  damage: string;
}

/** Variant `index` of a seed under run seed `runSeed`: mostly the opened file damaged, sometimes a file beside it. */
export function damagedVariant(seed: FuzzSeed, index: number, runSeed = 0): Variant {
  const next = seededRandom(runSeed * 1_000_003 + index * 7919 + 13);
  const mutationName = MUTATION_NAMES[index % MUTATION_NAMES.length];
  const mutation = MUTATIONS[mutationName];
  const siblingNames = [...seed.siblings.keys()];
  const damagedSibling = siblingNames.length > 0 && next() < 0.25 ? siblingNames[Math.floor(next() * siblingNames.length)] : undefined;
  const main = damagedSibling ? seed.main : mutation(seed.main, next);
  const siblings = new Map(seed.siblings);
  if (damagedSibling) siblings.set(damagedSibling, mutation(seed.siblings.get(damagedSibling)!, next));
  return {
    damage: `${mutationName} of ${damagedSibling ?? seed.fileName}`,
    source: {
      fileName: seed.fileName,
      read: async () => main,
      readSibling: async (name) => {
        const bytes = siblings.get(name);
        if (!bytes) throw new Error(`no file ${name}`);
        return bytes;
      },
    },
  };
}
