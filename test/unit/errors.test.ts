/**
 * The JavaScript engine's own failures, as a damaged file provokes them in a reader, reach the user as
 * what is wrong with the file. The errors here are real ones thrown by V8, not copied strings, so a
 * change in the engine's wording fails the test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asModelReadError, ModelReadError } from '../../src/engine/errors';

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  assert.fail('expected the action to throw');
}

function recurse(depth: number): number {
  return depth + recurse(depth + 1);
}

const ENGINE_FAILURES: { name: string; action: () => unknown; says: RegExp }[] = [
  {
    name: 'unbounded recursion',
    action: () => recurse(0),
    says: /^model\.onnx is nested too deeply to read; it is damaged or not a model file\.$/,
  },
  {
    name: 'a negative typed array length',
    action: () => new Float32Array(-1),
    says: /^model\.onnx has a size out of range for its data or for memory;/,
  },
  {
    name: 'a typed array beyond the heap',
    action: () => new Float64Array(2 ** 40),
    says: /has a size out of range for its data or for memory;/,
  },
  { name: 'an array beyond its length limit', action: () => new Array(-1), says: /has a size out of range for its data or for memory;/ },
  {
    name: 'a read past the end of the file',
    action: () => new DataView(new ArrayBuffer(4)).getUint32(2),
    says: /^model\.onnx ends before the data it declares; it is truncated or damaged\.$/,
  },
  {
    name: 'a view past the end of the file',
    action: () => new Uint8Array(new ArrayBuffer(4), 2, 8),
    says: /has a size out of range for its data or for memory;/,
  },
];

for (const { name, action, says } of ENGINE_FAILURES) {
  test(`${name} is reported as what is wrong with the file, not in the engine's words`, () => {
    const error = thrownBy(action);
    const reported = asModelReadError('model.onnx', error);
    assert.ok(reported instanceof ModelReadError);
    assert.match(reported.message, says);
    assert.doesNotMatch(reported.message, /call stack|typed array|DataView|RangeError|allocation/i);
    assert.equal(reported.cause, error, 'the original error is kept for bug reports');
  });
}

test('an unforeseen error keeps its first line, cut to one sentence', () => {
  const reported = asModelReadError('model.json', new Error(`Unknown layer: Foo.\n${'stack '.repeat(100)}`));
  assert.equal(reported.message, 'model.json cannot be read (Unknown layer: Foo.).');
});

test("a reader's own ModelReadError passes through unchanged", () => {
  const own = new ModelReadError('model.h5', 'has no model_config attribute.');
  assert.equal(asModelReadError('model.h5', own), own);
});
