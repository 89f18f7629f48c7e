/**
 * A fuzzing worker (a child process of main.ts): runs the cases it is given in order and reports each
 * as one JSON line on stdout. It says when a case starts, so that the parent can tell which case hung or
 * killed it. A case's memory is the process's peak while it ran; since WebAssembly memory never shrinks
 * and the peak never goes down, the worker leaves (and the next case starts in a fresh one) once its
 * resident memory between cases passes half the budget, or once a case went over it.
 *   argv: JSON { set, runSeed, cases: [seedIndex, variantIndex][], memoryBytes }
 */
import { useNodeBackend } from '../../src/node/tfBackend';
import { damagedVariant } from './mutations';
import { runCase } from './fuzzCase';
import { fuzzSeeds, type SeedSet } from './seeds';

export interface WorkerTask {
  set: SeedSet;
  runSeed: number;
  cases: [number, number][];
  memoryBytes: number;
}

export type WorkerLine =
  { started: number } | { finished: number; outcome: string; message?: string; damage: string; ms: number; peakRssBytes: number };

function say(line: WorkerLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2]) as WorkerTask;
  await useNodeBackend();
  const seeds = fuzzSeeds(task.set);
  for (const [position, [seedIndex, variantIndex]] of task.cases.entries()) {
    say({ started: position });
    const { source, damage } = damagedVariant(seeds[seedIndex], variantIndex, task.runSeed);
    const started = performance.now();
    const result = await runCase(source);
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    const overBudget = peakRssBytes > task.memoryBytes;
    say({
      finished: position,
      ...result,
      ...(overBudget ? { outcome: 'memory' } : {}),
      damage,
      ms: performance.now() - started,
      peakRssBytes,
    });
    if (overBudget || process.memoryUsage().rss > task.memoryBytes / 2) process.exit(0);
  }
}

void main();
