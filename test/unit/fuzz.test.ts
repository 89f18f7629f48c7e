/**
 * Damaged model files of every format — truncated, bit-flipped, overwritten, sizes set to extremes, or
 * garbage — through the layer tree, loading and one forward pass: each ends in success or one clean
 * sentence naming the file, never an exception of the engine's, and leaks no tensor. The repository's
 * fixtures and the team's real models (../shared, where present) are damaged alike; the same cases run
 * in `npm run fuzz`, which watches each from outside for hangs and memory and runs as many as asked.
 *   CONVLENS_FUZZ_VARIANTS=1000 for more variants per model file (default 200), CONVLENS_FUZZ_SEED to vary them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from '../../src/node/tfBackend';
import { runCase } from '../fuzz/fuzzCase';
import { damagedVariant } from '../fuzz/mutations';
import { fuzzSeeds, type FuzzSeed } from '../fuzz/seeds';

before(() => useNodeBackend());

const VARIANTS = Number(process.env.CONVLENS_FUZZ_VARIANTS ?? 200);
const RUN_SEED = Number(process.env.CONVLENS_FUZZ_SEED ?? 1);

const byFormat = new Map<string, FuzzSeed[]>();
for (const seed of fuzzSeeds('all')) byFormat.set(seed.format, [...(byFormat.get(seed.format) ?? []), seed]);

describe('damaged model files end in success or one clean sentence', () => {
  for (const [format, seeds] of byFormat) {
    test(`${format}: ${VARIANTS} damaged variants of each of ${seeds.length} files`, { timeout: 900_000 }, async () => {
      const tensorsBefore = tf.memory().numTensors;
      const unclean: string[] = [];
      let refused = 0;
      for (const seed of seeds) {
        for (let variant = 0; variant < VARIANTS; variant++) {
          const { source, damage } = damagedVariant(seed, variant, RUN_SEED);
          const result = await runCase(source);
          if (result.outcome === 'clean error') refused++;
          else if (result.outcome !== 'success') unclean.push(`${seed.label} variant ${variant} (${damage}): ${result.message}`);
        }
      }
      assert.deepEqual(unclean, [], `${unclean.length} damaged files were not refused cleanly`);
      // Damage that leaves a file readable is possible; damage that is never noticed would be a blind reader.
      assert.ok(refused > (VARIANTS * seeds.length) / 4, `only ${refused} of ${VARIANTS * seeds.length} damaged files were refused`);
      assert.equal(tf.memory().numTensors, tensorsBefore, 'damaged files leaked tensors');
    });
  }
});
