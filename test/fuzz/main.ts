/**
 * `npm run fuzz -- --count 10000`: damaged variants of every model file (the repository's fixtures and
 * the team's real models) through the layer tree, loading and one forward pass, each in a worker that
 * is watched from outside. Reports per format how many ended in success, a clean one-sentence error, a
 * crash (an engine message or an exception that is not ConvLens's), a hang, or memory over the budget,
 * and lists every case that was not clean with what is needed to replay it.
 *   --count N      variants in all, spread evenly over the seed files (default 1000)
 *   --seed S       the run's seed (default 1); the same seed and count give the same variants
 *   --set S        fixtures | shared | all (default all)
 *   --timeout S    seconds before a case counts as hung (default 10)
 *   --memory MB    peak resident memory a worker may reach (default 1000)
 *   --jobs J       workers in parallel (default: the number of CPU cores)
 *   --markdown F   also write the table to F
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OUTCOMES, type Outcome } from './fuzzCase';
import { fuzzSeeds, type FuzzSeed, type SeedSet } from './seeds';
import type { WorkerLine, WorkerTask } from './worker';

interface Finding {
  seed: FuzzSeed;
  variant: number;
  outcome: Outcome;
  message?: string;
  damage: string;
  ms: number;
  peakRssBytes?: number;
}

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    set: { type: 'string', default: 'all' },
    timeout: { type: 'string', default: '10' },
    memory: { type: 'string', default: '1000' },
    jobs: { type: 'string', default: String(os.availableParallelism()) },
    markdown: { type: 'string' },
  },
});
const count = Number(values.count);
const runSeed = Number(values.seed);
const set = values.set as SeedSet;
const timeoutMs = Number(values.timeout) * 1000;
const memoryBytes = Number(values.memory) * 1e6;
const jobs = Math.max(1, Number(values.jobs));

/** Runs `cases` in workers, one after another, restarting after a hang, a death or memory over budget. */
async function runShare(cases: [number, number][], seeds: FuzzSeed[], report: (finding: Finding) => void): Promise<void> {
  let next = 0;
  while (next < cases.length) {
    const remaining = cases.slice(next);
    const task: WorkerTask = { set, runSeed, cases: remaining, memoryBytes };
    next += await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'worker.ts'), JSON.stringify(task)], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let current = -1;
      let startedAt = 0;
      let done = 0;
      let buffered = '';
      let timedOut = false;
      const finding = (position: number, outcome: Outcome, rest: Partial<Finding>): void => {
        const [seedIndex, variant] = remaining[position];
        report({ seed: seeds[seedIndex], variant, outcome, damage: '', ms: performance.now() - startedAt, ...rest });
      };
      const watchdog = setInterval(() => {
        if (current >= 0 && performance.now() - startedAt > timeoutMs) {
          timedOut = true;
          child.kill('SIGKILL');
        }
      }, 250);
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let newline;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffered.slice(0, newline)) as WorkerLine;
          buffered = buffered.slice(newline + 1);
          if ('started' in line) {
            current = line.started;
            startedAt = performance.now();
          } else {
            finding(line.finished, line.outcome as Outcome, {
              message: line.message,
              damage: line.damage,
              ms: line.ms,
              peakRssBytes: line.peakRssBytes,
            });
            done = line.finished + 1;
            current = -1;
          }
        }
      });
      child.on('close', (code, signal) => {
        clearInterval(watchdog);
        if (current >= 0) {
          // The case that was running when the worker stopped: it hung, or it killed the process.
          finding(current, timedOut ? 'timeout' : 'crash', {
            message: timedOut ? `no result after ${timeoutMs / 1000} s` : `the process ended (${signal ?? `exit ${code}`})`,
          });
          done = current + 1;
        }
        resolve(Math.max(done, 1));
      });
    });
  }
}

function table(findings: Finding[]): string {
  const formats = [...new Set(findings.map((f) => f.seed.format))].sort();
  const header = `| format | models | variants | ${OUTCOMES.join(' | ')} | slowest | most memory |`;
  const rows = formats.map((format) => {
    const mine = findings.filter((f) => f.seed.format === format);
    const counts = OUTCOMES.map((outcome) => mine.filter((f) => f.outcome === outcome).length);
    const slowest = Math.max(...mine.map((f) => f.ms)) / 1000;
    const memory = Math.max(...mine.map((f) => f.peakRssBytes ?? 0)) / 1e6;
    const models = new Set(mine.map((f) => f.seed.label)).size;
    return `| ${format} | ${models} | ${mine.length} | ${counts.join(' | ')} | ${slowest.toFixed(1)} s | ${memory.toFixed(0)} MB |`;
  });
  return [header, `|${'---|'.repeat(OUTCOMES.length + 5)}`, ...rows].join('\n');
}

async function main(): Promise<void> {
  const seeds = fuzzSeeds(set);
  // Variant i goes to seed i mod n: every model gets its share, and (seed, variant) replays a case.
  const cases: [number, number][] = Array.from({ length: count }, (_, i) => [i % seeds.length, Math.floor(i / seeds.length)]);
  const findings: Finding[] = [];
  const started = performance.now();
  let reported = 0;
  const report = (finding: Finding): void => {
    findings.push(finding);
    if (++reported % 100 === 0)
      process.stderr.write(`${reported}/${count} cases, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  };
  const shares = Array.from({ length: jobs }, (_, job) => cases.filter((_, i) => i % jobs === job));
  await Promise.all(shares.map((share) => runShare(share, seeds, report)));

  const seconds = (performance.now() - started) / 1000;
  const command = `npm run fuzz -- --count ${count} --seed ${runSeed} --set ${set}`;
  const summary = `${table(findings)}\n\n${count} variants of ${seeds.length} model files, seed ${runSeed}, ${seconds.toFixed(0)} s with ${jobs} workers; budget ${timeoutMs / 1000} s and ${memoryBytes / 1e6} MB a case (\`${command}\`).`;
  console.log(summary);
  const bad = findings.filter((f) => f.outcome !== 'success' && f.outcome !== 'clean error');
  for (const f of bad) console.log(`- ${f.outcome}: ${f.seed.label} variant ${f.variant} (${f.damage}): ${f.message ?? ''}`);
  if (values.markdown) writeFileSync(values.markdown, `${summary}\n`);
  process.exitCode = bad.length ? 1 : 0;
}

void main();
