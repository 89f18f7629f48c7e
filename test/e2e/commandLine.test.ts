/**
 * The `convlens` command line as it ships: the bundle in dist/ (built by `npm run build`), with h5wasm
 * beside it in a file of its own (esbuild.mjs), not the sources the unit tests import. An HDF5 model
 * read by the bundle gives what the engine gives in this process.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { predictCommand } from '../../src/cli/predictCommand';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot, sampleWorkspace } from '../support/paths';

const CLI = path.join(repoRoot, 'dist', 'cli.js');
const XCEPTION = path.join(repoRoot, 'test', 'fixtures', 'keras', 'fer2013_mini_XCEPTION.102-0.66.hdf5');

before(() => useNodeBackend());

describe('the bundled command line', { skip: existsSync(CLI) ? false : 'dist/cli.js is not built (npm run build)' }, () => {
  test('reads a Keras HDF5 model with the h5wasm beside it, and predicts as the engine does', async () => {
    const image = path.join(sampleWorkspace, 'images', 'sneaker.png');
    const bundled = execFileSync(process.execPath, [CLI, 'predict', XCEPTION, image, '--json'], { encoding: 'utf8' });
    const inProcess = await predictCommand(XCEPTION, [image], 5, true, {});
    assert.deepEqual(JSON.parse(bundled), JSON.parse(inProcess));
    assert.match(execFileSync(process.execPath, [CLI, 'summary', XCEPTION], { encoding: 'utf8' }), /^model_1 \(Keras HDF5 model, /);
  });
});
