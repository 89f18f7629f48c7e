/**
 * ROAD's imputations on a worker thread (the command line's): the thread makes the same images, noise
 * included, in the same order as the caller's thread would; a job abandoned midway ends its worker and
 * the next job still gets its images; a failing job says why; a worker that does not start leaves the
 * work on the caller's thread; an idle worker does not keep Node running.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { seededRandom } from '../../src/engine/dataset/random';
import { type PerturbationJob, type PerturbedImages, perturbationCount, perturbedImages } from '../../src/engine/metrics/perturbations';
import { imputeOnThread } from '../../src/node/imputationThread';
import { threadMaker } from '../../src/engine/metrics/perturbationThread';
import { repoRoot } from '../support/paths';

function job(seed: number, side = 100): PerturbationJob {
  const random = seededRandom(seed);
  const channels = 3;
  return {
    images: Float32Array.from({ length: side * side * channels }, random),
    maps: Float32Array.from({ length: side * side }, random),
    batch: 2,
    height: side,
    width: side,
    channels,
    percentiles: [20, 50, 80],
    noise: 0.01,
    seed,
  };
}

async function takeAll(images: PerturbedImages, most: number): Promise<Float32Array[]> {
  const all: Float32Array[] = [];
  try {
    for (let taken = await images.take(most); taken.length > 0; taken = await images.take(most)) {
      assert.ok(taken.length <= most, `${taken.length} images taken, at most ${most} asked`);
      all.push(...taken);
    }
  } finally {
    images.close();
  }
  return all;
}

test('the worker thread makes the same images, noise included, in the same order', async () => {
  const data = job(7);
  const here = [...perturbedImages(data)];
  const there = await takeAll(imputeOnThread(data), 4);
  assert.equal(there.length, perturbationCount(data));
  assert.equal(there.length, here.length);
  there.forEach((image, i) => assert.deepEqual(image, here[i], `image ${i}`));
  // Something was imputed: the images differ from the input where pixels were removed.
  assert.notDeepEqual(there[0], data.images.subarray(0, there[0].length));
});

test('a job abandoned midway ends its worker, and the next job gets all its images', async () => {
  const first = imputeOnThread(job(1));
  assert.equal((await first.take(1)).length, 1);
  first.close();
  const data = job(2, 40);
  const images = await takeAll(imputeOnThread(data), 100);
  assert.deepEqual(images, [...perturbedImages(data)]);
});

test('a job that fails on the thread says why', async () => {
  const broken = { ...job(3, 20), percentiles: null as unknown as number[] };
  await assert.rejects(takeAll(imputeOnThread(broken), 2), /percentiles|not iterable/);
  // And the thread after it works.
  const data = job(4, 20);
  assert.equal((await takeAll(imputeOnThread(data), 50)).length, perturbationCount(data));
});

test("a worker that does not start leaves the imputations on the caller's thread", async () => {
  const refused = threadMaker(() => Promise.reject(new Error('refused by a policy')));
  const data = job(5, 30);
  assert.deepEqual(await takeAll(refused(data), 3), [...perturbedImages(data)]);
});

test('a process that used the thread exits when its work is done', () => {
  const script = [
    "const { imputeOnThread } = require('./src/node/imputationThread');",
    'const data = { images: new Float32Array(3 * 100 * 100), maps: Float32Array.from({ length: 10000 }, (_, i) => i),',
    '  batch: 1, height: 100, width: 100, channels: 3, percentiles: [50], noise: 0, seed: 0 };',
    'const images = imputeOnThread(data);',
    'let made = 0;',
    'const next = () => images.take(5).then((taken) => {',
    '  if (taken.length > 0) return (made += taken.length), next();',
    '  images.close();',
    "  console.log('made', made);",
    '});',
    'next();',
  ].join('\n');
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=commonjs', '-e', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(output.trim(), 'made 2');
});
