/**
 * A folder pass's batches fetched ahead (engine/dataset/askingAhead.ts): asking for a batch starts the
 * next ones of its size, up to the folder's end, each fetched once; what was fetched is what is returned;
 * a batch fetched ahead that fails reaches only a caller who asks for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { askingAhead } from '../../src/engine/dataset/askingAhead';

test('each batch asked for starts the next two, each fetched once, to the end of the folder', async () => {
  const fetched: string[] = [];
  const batches = askingAhead(40, 2, async (start, end) => {
    fetched.push(`${start}-${end}`);
    return `images ${start} to ${end}`;
  });
  assert.equal(await batches(0, 16), 'images 0 to 16');
  assert.deepEqual(fetched, ['0-16', '16-32', '32-40']);
  assert.equal(await batches(16, 32), 'images 16 to 32');
  assert.equal(await batches(32, 40), 'images 32 to 40');
  assert.deepEqual(fetched, ['0-16', '16-32', '32-40']);
});

test('a batch fetched ahead that fails rejects when it is asked for, and not before', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const batches = askingAhead(32, 1, async (start) => {
      if (start === 16) throw new Error('notes.png is not an image');
      return start;
    });
    assert.equal(await batches(0, 16), 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
    await assert.rejects(batches(16, 32), { message: 'notes.png is not an image' });
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
