/**
 * `--timing` for predict and explain: one line, `timing: load <ms> ms, forward <ms> ms[, explain <ms> ms]`,
 * so the command line can be compared with another tool on the same machine in the same run. Load is
 * timed once (it happens once); forward and explain are the median of five runs after a warm-up.
 */
import * as tf from '@tensorflow/tfjs-core';
import { singleInput } from '../engine/execute';
import type { RunnableModel } from '../engine/graph';
import { forwardToOutputs } from '../engine/nativeForward';

const RUNS = 5;

/** Milliseconds since `start` (a `performance.now()` reading). */
export function since(start: number): number {
  return performance.now() - start;
}

/** The median duration of `runs` runs of `task`, after one run that warms caches and compiled kernels. */
export async function medianMs(task: () => Promise<unknown> | unknown, runs = RUNS): Promise<number> {
  await task();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await task();
    times.push(since(start));
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** One forward pass to the model's outputs, read back as a caller would. */
export async function forwardPass(model: RunnableModel, input: tf.Tensor): Promise<void> {
  const outputs = await forwardToOutputs(model, singleInput(model, input));
  try {
    await Promise.all(outputs.map((output) => output.data()));
  } finally {
    tf.dispose(outputs);
  }
}

export function timingLine(phases: [name: string, ms: number][]): string {
  return `timing: ${phases.map(([name, ms]) => `${name} ${Math.round(ms)} ms`).join(', ')}`;
}
