/**
 * One damaged model through everything a user does first: the layer tree, opening it, and one forward
 * pass on a blank image. The outcome is judged as the user would see it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ModelReadError } from '../../src/engine/errors';
import { predict, singleInput } from '../../src/engine/execute';
import type { ModelSource } from '../../src/engine/modelSource';
import { openModel } from '../../src/engine/openModel';
import { readModelSummary } from '../../src/engine/readers';

export type Outcome = 'success' | 'clean error' | 'crash' | 'timeout' | 'memory';

export const OUTCOMES: readonly Outcome[] = ['success', 'clean error', 'crash', 'timeout', 'memory'];

export interface CaseResult {
  outcome: Outcome;
  /** The message the user would read, or what went wrong for a crash. */
  message?: string;
}

/** Words of the JavaScript engine or TensorFlow.js's internals, which tell a user nothing about the file. */
const ENGINE_WORDS = /call stack|typed array|DataView|RangeError|TypeError|ReferenceError|undefined|null|NaN|\bat .*\.(ts|js):\d+/;

/** A message a user can act on: one line, starting with the file's name, in ConvLens's words. */
export function isCleanMessage(message: string, fileName: string): boolean {
  return message.startsWith(`${fileName} `) && !message.includes('\n') && !ENGINE_WORDS.test(message);
}

export async function runCase(source: ModelSource): Promise<CaseResult> {
  try {
    await readModelSummary(source);
    const { model, input } = await openModel(source);
    try {
      // Damage can turn a weight into a second input; what ConvLens does with several inputs is not this test's concern.
      if (model.inputs.length !== 1) return { outcome: 'success' };
      const { width, height } = input.preprocessing;
      const channels = model.inputs[0]?.shape.at(-1) ?? 3;
      tf.tidy(() => {
        const blank = tf.zeros([1, height, width, typeof channels === 'number' ? channels : 3]);
        predict(model, singleInput(model, blank));
      });
    } finally {
      model.dispose();
    }
    return { outcome: 'success' };
  } catch (error) {
    return judge(error, source.fileName);
  }
}

function judge(error: unknown, fileName: string): CaseResult {
  if (!(error instanceof ModelReadError)) {
    const message = error instanceof Error ? `${error.name}: ${error.message.split('\n', 1)[0]}` : String(error);
    return { outcome: 'crash', message: `${message.slice(0, 300)} (${whereThrown(error)})` };
  }
  const cause = error.cause;
  if (cause instanceof TypeError || cause instanceof ReferenceError) {
    return { outcome: 'crash', message: `${error.message} (${cause.name} ${whereThrown(cause)})` };
  }
  return isCleanMessage(error.message, fileName)
    ? { outcome: 'clean error', message: error.message }
    : { outcome: 'crash', message: error.message };
}

function whereThrown(error: unknown): string {
  const frame = error instanceof Error ? error.stack?.split('\n').find((line) => line.trim().startsWith('at ')) : undefined;
  return frame?.trim().replace(/^at /, '') ?? 'no stack';
}
