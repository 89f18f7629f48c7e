/**
 * `convlens segment`: the mask a user gets as a PNG (white object on black, the image's size), the
 * summary printed, and the refusals of wrong usage.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { PNG } from 'pngjs';
import { run } from '../../src/cli/main';
import { useNodeBackend } from '../../src/node/tfBackend';
import { sampleModel, sampleWorkspace } from '../support/paths';
import { temporaryFolder } from '../support/temporaryFolders';

before(() => useNodeBackend());

const bag = path.join(sampleWorkspace, 'images', 'bag.png');

test('writes the object mask as a white-on-black PNG of the image and prints its share and box', async () => {
  const out = path.join(temporaryFolder('convlens-segment-'), 'mask.png');
  const { code, output } = await run(['segment', sampleModel, bag, '--method', 'integrated', '--out', out]);
  assert.equal(code, 0, output);
  assert.match(output, /^Object mask from Integrated gradients of Bag \(class 8, score [\d.]+\)$/m);
  const summary = /^object: ([\d.]+)% of the 28×28 image, bounding box x (\d+)–(\d+), y (\d+)–(\d+)$/m.exec(output);
  assert.ok(summary, output);
  assert.match(output, new RegExp(`^wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));

  const png = PNG.sync.read(readFileSync(out));
  assert.deepEqual([png.width, png.height], [28, 28]);
  let white = 0;
  for (let p = 0; p < 28 * 28; p++) {
    const v = png.data[4 * p];
    assert.ok(v === 0 || v === 255, 'only black and white');
    if (v === 255) white++;
  }
  assert.ok(Math.abs((white / (28 * 28)) * 100 - Number(summary[1])) < 0.05);
  // The bag's pixels, not the black around it: most of the mask lies on the object.
  const image = PNG.sync.read(readFileSync(bag));
  let onObject = 0;
  for (let p = 0; p < 28 * 28; p++) if (png.data[4 * p] === 255 && image.data[4 * p] > 10) onObject++;
  assert.ok(onObject / white > 0.8, `${onObject} of ${white} mask pixels on the bag`);
});

test('--threshold-only prints the baseline mask, and an existing --out needs --force', async () => {
  const out = path.join(temporaryFolder('convlens-segment-'), 'mask.png');
  const first = await run(['segment', sampleModel, bag, '--threshold-only', '--out', out]);
  assert.equal(first.code, 0, first.output);
  assert.match(first.output, /^Threshold-only mask from Grad-CAM of Bag/m);
  const again = await run(['segment', sampleModel, bag, '--out', out]);
  assert.equal(again.code, 1);
  assert.match(again.output, /--force/);
});

test('wrong usage is refused in one line with exit code 2', async () => {
  const method = await run(['segment', sampleModel, bag, '--method', 'nope']);
  assert.equal(method.code, 2);
  assert.match(method.output, /^convlens: --method must be one of .* \(got "nope"\)$/m);
  const npy = await run(['segment', sampleModel, path.join(sampleWorkspace, 'images', 'bag.npy')]);
  assert.equal(npy.code, 2);
  assert.match(npy.output, /^convlens: segment takes an image file: a \.npy array has no colours to follow$/m);
  const missing = await run(['segment', sampleModel]);
  assert.equal(missing.code, 2);
  assert.match(missing.output, /^convlens: segment takes a model file and one image$/m);
});
