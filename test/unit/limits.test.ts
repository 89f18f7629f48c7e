/** The budgets checked before work: how a refusal reads, and how user units become limits. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { run } from '../../src/cli/main';
import { ModelReadError } from '../../src/engine/errors';
import { DEFAULT_LIMITS, LimitExceededError, limitsFromUserUnits, limitsOf } from '../../src/engine/limits';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot, sampleModel, sampleWorkspace } from '../support/paths';

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
  assert.match(
    error.message,
    /^bomb\.png is 30,000 × 30,000 pixels, more than the 100 megapixels ConvLens decodes in one image \(raise it with the setting "convlens\.limits\.imageMegapixels"/,
  );
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

describe('the command line takes the limits as options', () => {
  before(() => useNodeBackend());
  const onnxModel = path.join(repoRoot, 'test', 'fixtures', 'explain', 'tiny_gap.onnx');
  const image = path.join(sampleWorkspace, 'images', 'sneaker.png');

  test('--max-model-mb lowers the model budget, and the refusal says how to raise it', async () => {
    const { code, output } = await run(['summary', onnxModel, '--max-model-mb', '0.01']);
    assert.equal(code, 1);
    assert.match(
      output,
      /^convlens: tiny_gap\.onnx declares .+ of weights and constants, more than the 10\.0 kB ConvLens allows one model \(raise it with .+--max-model-mb/,
    );
    assert.equal((await run(['summary', onnxModel, '--max-model-mb', '1'])).code, 0);
  });

  test('--max-image-megapixels lowers the image limit, checked before the image is decoded', async () => {
    const { code, output } = await run(['predict', sampleModel, image, '--max-image-megapixels', '0.0001']);
    assert.equal(code, 1);
    assert.match(output, /sneaker\.png is 28 × 28 pixels, more than the 0\.0001 megapixels ConvLens decodes in one image/);
    assert.equal((await run(['predict', sampleModel, image, '--max-image-megapixels', '0.001'])).code, 0);
  });

  test('a limit that is not a positive number is a usage error', async () => {
    const { code, output } = await run(['summary', onnxModel, '--max-model-mb=-5']);
    assert.equal(code, 2);
    assert.match(output, /^convlens: --max-model-mb must be a positive number \(got "-5"\)/);
  });
});
