/**
 * `convlens evaluate`: the table and the JSON of issue 18, a map from `convlens explain --json` scored
 * with --map giving what the engine gives for that map, and the usual refusals (output files, wrong
 * usage). Numbers themselves are checked against the PyTorch reference in metrics.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/cli/main';
import { sampleModel, sampleWorkspace } from '../support/paths';
import { temporaryFolder } from '../support/temporaryFolders';

const images = path.join(sampleWorkspace, 'images');
const bag = path.join(images, 'bag.png');

interface Scores {
  road_morf: number;
  road_lerf: number;
  road_combined: number;
  deletion_auc: number;
  insertion_auc: number;
  confidence_change: number;
  average_drop: number;
  increase_in_confidence: number;
  randomisation?: { layers: string[]; spearman: number[]; ssim: number[]; top_k_intersection: number[] };
}

test('evaluate prints a method × metric table and writes the JSON of every metric', async () => {
  const folder = temporaryFolder('convlens-evaluate-');
  const json = path.join(folder, 'scores.json');
  const result = await run([
    'evaluate',
    sampleModel,
    images,
    '--methods',
    'gradcam,guided',
    '--metrics',
    'road,deletion,insertion,confidence,randomisation',
    '--percentiles',
    '30,60,90',
    '--json',
    json,
  ]);
  assert.equal(result.code, 0, result.output);
  const lines = result.output.split('\n');
  assert.match(lines[0], /^6 images; scores are class probabilities/);
  assert.match(result.output, /method\s+ROAD MoRF\s+ROAD LeRF\s+ROAD combined\s+deletion AUC\s+insertion AUC\s+avg drop %\s+increase %/);
  assert.match(result.output, /\nGrad-CAM\s+-?\d\.\d{4}/);
  assert.match(result.output, /\nGuided backprop\s+-?\d\.\d{4}/);
  assert.match(result.output, /method\s+\+predictions\s+\+conv3\s+\+conv2\s+\+conv1/);
  const record: { images: number; percentiles: number[]; road_noise: number; methods: Record<string, Scores> } = JSON.parse(
    readFileSync(json, 'utf8'),
  );
  assert.equal(record.images, 6);
  assert.deepEqual(record.percentiles, [30, 60, 90]);
  assert.equal(record.road_noise, 0.01);
  assert.deepEqual(Object.keys(record.methods), ['gradcam', 'guided']);
  for (const scores of Object.values(record.methods)) {
    for (const key of [
      'road_morf',
      'road_lerf',
      'road_combined',
      'deletion_auc',
      'insertion_auc',
      'confidence_change',
      'average_drop',
      'increase_in_confidence',
    ] as const) {
      assert.equal(typeof scores[key], 'number', key);
    }
    assert.ok(Math.abs(scores.road_combined - (scores.road_lerf - scores.road_morf) / 2) < 1e-5);
    assert.ok(scores.deletion_auc >= 0 && scores.deletion_auc <= 1 && scores.insertion_auc >= 0 && scores.insertion_auc <= 1);
    assert.deepEqual(scores.randomisation?.layers, ['predictions', 'conv3', 'conv2', 'conv1']);
    assert.equal(scores.randomisation?.spearman.length, 4);
  }
  // Adebayo et al.: with the classifier randomised, guided backprop keeps much more of its map than Grad-CAM.
  assert.ok(record.methods.guided.randomisation!.spearman[0] > record.methods.gradcam.randomisation!.spearman[0] + 0.3);
});

test('--map scores a map written by convlens explain --json as the engine scores the method', async () => {
  const folder = temporaryFolder('convlens-evaluate-map-');
  const map = path.join(folder, 'map.json');
  const explained = await run(['explain', sampleModel, bag, '--method', 'gradcam', '--json', map]);
  assert.equal(explained.code, 0, explained.output);
  const fromMap = path.join(folder, 'from-map.json');
  const direct = path.join(folder, 'direct.json');
  const args = ['--metrics', 'road,deletion,insertion,confidence', '--road-noise', '0'];
  const scored = await run(['evaluate', '--map', map, sampleModel, bag, ...args, '--json', fromMap]);
  assert.equal(scored.code, 0, scored.output);
  assert.match(scored.output, /\nGrad-CAM\s/);
  const computed = await run(['evaluate', sampleModel, bag, '--methods', 'gradcam', ...args, '--json', direct]);
  assert.equal(computed.code, 0, computed.output);
  const a: Scores = JSON.parse(readFileSync(fromMap, 'utf8')).methods.gradcam;
  const b: Scores = JSON.parse(readFileSync(direct, 'utf8')).methods.gradcam;
  // The map file holds values rounded to 6 decimals.
  for (const key of Object.keys(b) as (keyof Scores)[])
    assert.ok(
      Math.abs((a[key] as number) - (b[key] as number)) <= 1e-3 * Math.max(1, Math.abs(b[key] as number)),
      `${key}: ${a[key]} vs ${b[key]}`,
    );
});

test('evaluate refuses what it cannot do, in one line', async () => {
  const folder = temporaryFolder('convlens-evaluate-refusals-');
  const existing = path.join(folder, 'scores.json');
  writeFileSync(existing, 'keep me');
  const refused = await run(['evaluate', sampleModel, bag, '--methods', 'gradcam', '--metrics', 'confidence', '--json', existing]);
  assert.equal(refused.code, 1);
  assert.match(refused.output, /already exists; add --force to replace it/);
  assert.equal(readFileSync(existing, 'utf8'), 'keep me');
  const overInput = await run(['evaluate', sampleModel, bag, '--metrics', 'confidence', '--json', bag, '--force']);
  assert.equal(overInput.code, 1);
  assert.match(overInput.output, /is an input; ConvLens never writes over a file it reads/);

  const usage = async (args: string[], message: RegExp) => {
    const result = await run(['evaluate', sampleModel, bag, ...args]);
    assert.equal(result.code, 2, result.output);
    assert.match(result.output.split('\n')[0], message);
  };
  await usage(
    ['--metrics', 'road,speed'],
    /--metrics takes a comma-separated list of road deletion insertion confidence randomisation \(got "speed"\)/,
  );
  await usage(['--methods', 'gradcam,magic'], /--methods takes a comma-separated list of .* \(got "magic"\)/);
  await usage(['--percentiles', '10,200'], /--percentiles takes numbers between 0 and 100/);
  await usage(['--score', 'accuracy'], /--score must be probability or logit \(got "accuracy"\)/);
  await usage(['--road-noise=-1'], /--road-noise must be a number of 0 or more/);
  await usage(['--map', existing, '--metrics', 'randomisation'], /cannot score a --map/);
  await usage(['--map', existing, '--methods', 'gradcam'], /leave out --methods/);

  const notAMap = await run(['evaluate', '--map', existing, sampleModel, bag, '--metrics', 'confidence']);
  assert.equal(notAMap.code, 1);
  assert.match(notAMap.output, /scores\.json is not JSON/);
  const wrongSize = path.join(folder, 'small.json');
  writeFileSync(
    wrongSize,
    JSON.stringify({
      method: 'gradcam',
      map: [
        [0, 1],
        [1, 0],
      ],
    }),
  );
  const small = await run(['evaluate', '--map', wrongSize, sampleModel, bag, '--metrics', 'confidence']);
  assert.equal(small.code, 1);
  assert.match(small.output, /holds a 2×2 map, but the model's input is 28×28/);
});

test('--score logit compares logits instead of probabilities', async () => {
  const folder = temporaryFolder('convlens-evaluate-logit-');
  const json = path.join(folder, 'scores.json');
  const result = await run([
    'evaluate',
    sampleModel,
    bag,
    '--methods',
    'gradcam',
    '--metrics',
    'road',
    '--percentiles',
    '50',
    '--road-noise',
    '0',
    '--score',
    'logit',
    '--json',
    json,
  ]);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /^1 image; scores are class logits/);
  const record = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(record.score, 'logit');
  // A probability change lies in [−1, 1]; removing half the Grad-CAM pixels moves this logit by more.
  assert.ok(Math.abs(record.methods.gradcam.road_morf) > 1, String(record.methods.gradcam.road_morf));
});
