import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ModelReadError } from '../../src/engine/errors';
import { hasHdf5Signature, readHdf5 } from '../../src/engine/readers/keras/hdf5';
import { repoRoot } from '../support/paths';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'keras');
const dtypes = readFileSync(path.join(fixtures, 'dtypes.h5'));
const fer2013 = readFileSync(path.join(fixtures, 'fer2013_mini_XCEPTION.102-0.66.hdf5'));

async function readError(bytes: Uint8Array, member?: string): Promise<ModelReadError> {
  const error = await readHdf5(bytes, { fileName: 'x.h5', member }, () => assert.fail('the file should not open')).then(
    () => assert.fail('expected a ModelReadError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ModelReadError, `expected a ModelReadError, got ${String(error)}`);
  assert.doesNotMatch(error.message, /\n|HDF5-DIAG/, 'one sentence, no library diagnostics');
  return error;
}

describe('HDF5 files read in memory', () => {
  test('numbers of every stored type come back as float32 with their shape', async () => {
    await readHdf5(dtypes, { fileName: 'dtypes.h5' }, (file) => {
      const float16 = file.floats('/float16');
      assert.deepEqual(float16.shape, [2, 2]);
      assert.deepEqual(Array.from(float16.values), [1.5, -2, 65504, 2 ** -24], 'float16, including its largest and smallest values');
      assert.deepEqual(Array.from(file.floats('/float64').values), [Math.fround(0.1), Math.fround(-1e10), 3]);
      assert.deepEqual(Array.from(file.floats('/float32_big_endian').values), [1.25, -7.5]);
      assert.deepEqual(Array.from(file.floats('/int64').values), [-3, 0, 2 ** 40]);
      assert.deepEqual(Array.from(file.floats('/uint8').values), [0, 255]);
      assert.deepEqual(file.floats('/scalar'), { shape: [], values: new Float32Array([4.5]) });
      assert.deepEqual(file.floats('/empty'), { shape: [0, 3], values: new Float32Array(0) });
    });
  });

  test("attributes: text stored as bytes, lists of names, and Python's empty list", async () => {
    await readHdf5(dtypes, { fileName: 'dtypes.h5' }, (file) => {
      assert.equal(file.text('/', 'bytes_text'), '{"a": 1}');
      assert.deepEqual(file.textList('/', 'string_list'), ['conv2d', 'dense']);
      assert.deepEqual(file.textList('/', 'empty_list'), []);
      assert.equal(file.text('/', 'missing'), undefined);
      assert.equal(file.hasAttribute('/', 'string_list'), true);
      assert.equal(file.hasAttribute('/', 'missing'), false);
      assert.equal(file.text('/no/such/group', 'x'), undefined);
    });
  });

  test('groups and datasets are told apart; group members are listed', async () => {
    await readHdf5(dtypes, { fileName: 'dtypes.h5' }, (file) => {
      assert.equal(file.isGroup('/nested'), true);
      assert.equal(file.isGroup('/float16'), false);
      assert.equal(file.isDataset('/float16'), true);
      assert.equal(file.isDataset('/nested'), false);
      assert.equal(file.isGroup('/absent'), false);
      assert.deepEqual(file.keys('/nested'), ['inner']);
      assert.deepEqual(file.keys('/absent'), []);
    });
  });

  test('the file is closed even when reading it fails, and the error comes through as it was', async () => {
    class Stop extends Error {}
    await assert.rejects(
      readHdf5(dtypes, { fileName: 'dtypes.h5' }, () => Promise.reject(new Stop('stop'))),
      Stop,
    );
    const again = await readHdf5(dtypes, { fileName: 'dtypes.h5' }, (file) => file.floats('/uint8').values.length);
    assert.equal(again, 2);
  });

  test('the HDF5 signature is found at the start or after a user block', () => {
    const signature = fer2013.subarray(0, 8);
    const withUserBlock = new Uint8Array(2048);
    withUserBlock.set(signature, 1024);
    assert.equal(hasHdf5Signature(fer2013), true);
    assert.equal(hasHdf5Signature(withUserBlock), true);
    assert.equal(hasHdf5Signature(new Uint8Array(2048)), false);
    assert.equal(hasHdf5Signature(new Uint8Array(0)), false);
  });
});

describe('bytes HDF5 cannot read become one clear sentence', () => {
  test('not HDF5 at all', async () => {
    assert.equal((await readError(new TextEncoder().encode('{"not": "hdf5"}'))).message, 'x.h5 is not an HDF5 file.');
  });

  test('cut short', async () => {
    const error = await readError(fer2013.subarray(0, 300_000));
    assert.equal(error.message, 'x.h5 is cut short: it ends before its HDF5 data does, as after an interrupted download or copy.');
  });

  test('a valid signature followed by garbage', async () => {
    const damaged = new Uint8Array(fer2013);
    damaged.fill(0xab, 8, damaged.length);
    assert.equal((await readError(damaged)).message, 'x.h5 is a damaged HDF5 file whose contents cannot be read.');
  });

  test('a file inside an archive is named as such', async () => {
    const error = await readError(fer2013.subarray(0, 300_000), 'model.weights.h5');
    assert.equal(error.message, 'x.h5 has a model.weights.h5 that is cut short, so its weights cannot be read.');
  });
});
