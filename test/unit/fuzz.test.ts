/**
 * Damaged model files of every format — truncated, bit-flipped, overwritten, or garbage — must each
 * end in one clear ModelReadError (or, where the damage is harmless, a model), never a hang, a crash
 * or an internal error such as a TypeError surfacing as the message.
 *   CONVLENS_FUZZ_COUNT=20000 to run more variants per format (default 2000).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { ModelReadError } from '../../src/engine/errors';
import type { ModelSource } from '../../src/engine/modelSource';
import { loadModel, readModelSummary } from '../../src/engine/readers';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot, sampleModel } from '../support/paths';
import { seededRandom } from '../../src/engine/dataset/random';

before(() => useNodeBackend());

const VARIANTS = Number(process.env.CONVLENS_FUZZ_COUNT ?? 2000);

/** A deterministic generator, so that a failure can be replayed. */
const random = seededRandom;

type Mutation = (bytes: Uint8Array, next: () => number) => Uint8Array;

const MUTATIONS: Record<string, Mutation> = {
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
  garbage: (_bytes, next) => Uint8Array.from({ length: Math.floor(next() * 4096) }, () => Math.floor(next() * 256)),
};

interface Seed {
  fileName: string;
  main: Uint8Array;
  siblings: Map<string, Uint8Array>;
}

function seedFrom(file: string): Seed {
  const folder = path.dirname(file);
  const siblings = new Map<string, Uint8Array>();
  for (const name of readdirSync(folder)) {
    if (name !== path.basename(file)) siblings.set(name, new Uint8Array(readFileSync(path.join(folder, name))));
  }
  return { fileName: path.basename(file), main: new Uint8Array(readFileSync(file)), siblings };
}

/** Model files committed to the repository, by the reader they exercise. */
function seeds(): Record<string, Seed[]> {
  const fixtures = path.join(repoRoot, 'test', 'fixtures');
  const found: Record<string, Seed[]> = { 'TensorFlow.js layers': [seedFrom(sampleModel)] };
  const walk = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)])) : [];
  for (const file of walk(fixtures)) {
    const lower = file.toLowerCase();
    const format = lower.endsWith('.onnx')
      ? 'ONNX'
      : lower.endsWith('.h5') || lower.endsWith('.hdf5')
        ? 'Keras HDF5'
        : lower.endsWith('.keras')
          ? 'Keras zip'
          : path.basename(lower) === 'model.json' && /"graph-model"/.test(readFileSync(file, 'utf8'))
            ? 'TensorFlow.js graph'
            : undefined;
    if (format) (found[format] ??= []).push(seedFrom(file));
  }
  return found;
}

function damagedSource(seed: Seed, index: number): ModelSource {
  const next = random(index * 7919 + 13);
  const names = Object.keys(MUTATIONS);
  const mutation = MUTATIONS[names[index % names.length]];
  // Mostly the opened file; sometimes a file beside it (a weight shard, labels).
  const siblingNames = [...seed.siblings.keys()];
  const damageSibling = siblingNames.length > 0 && next() < 0.25 ? siblingNames[Math.floor(next() * siblingNames.length)] : undefined;
  const main = damageSibling ? seed.main : mutation(seed.main, next);
  const siblings = new Map(seed.siblings);
  if (damageSibling) siblings.set(damageSibling, mutation(seed.siblings.get(damageSibling)!, next));
  return {
    fileName: seed.fileName,
    read: async () => main,
    readSibling: async (name) => {
      const bytes = siblings.get(name);
      if (!bytes) throw new Error(`no file ${name}`);
      return bytes;
    },
  };
}

async function tryOpen(source: ModelSource): Promise<'opened' | ModelReadError> {
  try {
    await readModelSummary(source);
    const model = await loadModel(source);
    model.dispose();
    return 'opened';
  } catch (error) {
    if (!(error instanceof ModelReadError)) throw error;
    return error;
  }
}

describe('damaged model files get a clear message', () => {
  for (const [format, formatSeeds] of Object.entries(seeds())) {
    test(`${format}: ${VARIANTS} damaged variants of ${formatSeeds.map((s) => s.fileName).join(', ')}`, { timeout: 600_000 }, async () => {
      const tensorsBefore = tf.memory().numTensors;
      let rejected = 0;
      for (let i = 0; i < VARIANTS; i++) {
        const seed = formatSeeds[i % formatSeeds.length];
        const outcome = await tryOpen(damagedSource(seed, i));
        if (outcome === 'opened') continue;
        rejected++;
        const context = `variant ${i} of ${seed.fileName}: ${outcome.message}`;
        assert.ok(outcome.message.startsWith(`${seed.fileName} `), context);
        assert.ok(!outcome.message.includes('\n'), context);
        const cause = outcome.cause;
        if (cause instanceof TypeError || cause instanceof ReferenceError) {
          assert.fail(`internal error surfaced: ${context} (${cause.name} at ${cause.stack?.split('\n')[1]?.trim()})`);
        }
      }
      assert.ok(rejected > VARIANTS / 4, `only ${rejected} of ${VARIANTS} damaged files were rejected`);
      assert.equal(tf.memory().numTensors, tensorsBefore, 'damaged files leaked tensors');
    });
  }
});
