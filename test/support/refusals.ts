/** How the tests expect a model to be refused: a ModelReadError in one line, with no engine internals in it. */
import assert from 'node:assert/strict';
import { ModelReadError } from '../../src/engine/errors';

/** The error `promise` is refused with, checked to be one sentence a user can read. */
export async function refusal(promise: Promise<unknown>): Promise<ModelReadError> {
  const error = await promise.then(
    () => assert.fail('expected the model to be refused'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ModelReadError, `expected a ModelReadError, got ${String(error)}`);
  assert.doesNotMatch(error.message, /\n/, 'one line');
  assert.doesNotMatch(error.message, /typed array|DataView|call stack|allocation failed|Invalid array/i, 'no engine internals');
  return error;
}
