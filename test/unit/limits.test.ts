/** The budgets checked before work: how a refusal reads, and how user units become limits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelReadError } from '../../src/engine/errors';
import { DEFAULT_LIMITS, LimitExceededError, limitsFromUserUnits, limitsOf } from '../../src/engine/limits';

test('a refusal over a limit a user may raise is one sentence naming the file, the need, the limit and how to raise it', () => {
  const error = new LimitExceededError('tiles.onnx', 'needs 3.2 GB for the output of node "Tile_3" (Tile)', 'modelBytes', 1e9);
  assert.ok(error instanceof ModelReadError);
  assert.equal(
    error.message,
    'tiles.onnx needs 3.2 GB for the output of node "Tile_3" (Tile), more than the 1.0 GB ConvLens allows one model ' +
      '(raise it with the setting "convlens.limits.modelMegabytes" or the command-line option --max-model-mb if you trust this file).',
  );
});

test('a refusal over a limit no legitimate file reaches says only which limit', () => {
  const error = new LimitExceededError('deep.json', 'nests its configuration 10,000 levels deep', 'nestingDepth', 200);
  assert.equal(error.message, 'deep.json nests its configuration 10,000 levels deep, more than the 200 levels of nesting ConvLens reads.');
});

test('image limits are stated in megapixels', () => {
  const error = new LimitExceededError('bomb.png', 'is 30,000 × 30,000 pixels', 'imagePixels', 100e6);
  assert.match(error.message, /^bomb\.png is 30,000 × 30,000 pixels, more than the 100 megapixels ConvLens decodes in one image \(raise it with the setting "convlens\.limits\.imageMegapixels"/);
});

test('user units: megabytes and megapixels; anything but a positive number leaves the default', () => {
  assert.deepEqual(limitsFromUserUnits({ modelMegabytes: 4000, imageMegapixels: 250 }), { modelBytes: 4e9, imagePixels: 250e6 });
  assert.deepEqual(limitsFromUserUnits({ modelMegabytes: -1, imageMegapixels: 'lots' }), {});
  assert.deepEqual(limitsFromUserUnits({ modelMegabytes: Infinity, imageMegapixels: 0 }), {});
});

test("a source's limits override the defaults one by one", () => {
  assert.deepEqual(limitsOf({}), DEFAULT_LIMITS);
  assert.deepEqual(limitsOf({ limits: { modelBytes: 5 } }), { ...DEFAULT_LIMITS, modelBytes: 5 });
});
