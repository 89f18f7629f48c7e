/**
 * Runs the `convlens` command line on hostile input in a child process and reports what a user would
 * see and what it cost: the exit code, the text, the peak resident memory and the wall time. A run that
 * does not end within `killAfterMs` is killed and reported as hung, so a hostile file cannot stall the
 * test suite; the time is reported, not asserted (tests assert memory and the message).
 * With CONVLENS_HOSTILE_LOG=FILE each run appends one JSON line there (the figures in docs/security.md).
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';

export interface BoundedRun {
  code: number | null;
  /** What the command printed (stdout and stderr together), without the trailing newline. */
  output: string;
  /** Peak resident set size of the child, in bytes; undefined when it was killed. */
  maxRssBytes?: number;
  seconds: number;
  hung: boolean;
}

// Runs the CLI's `run` as bin.ts does, then reports its peak memory on a line of its own.
const CHILD = `
const { run } = require(${JSON.stringify(path.join(repoRoot, 'src', 'cli', 'main.ts'))});
run(process.argv.slice(1)).then(({ code, output }) => {
  process.stdout.write(output + '\\n');
  process.stdout.write('\\u0000maxRss=' + process.resourceUsage().maxRSS * 1024 + '\\n');
  process.exitCode = code;
});`;

export function runCliBounded(args: string[], { killAfterMs = 60_000, env = {} as NodeJS.ProcessEnv } = {}): Promise<BoundedRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', CHILD, '--', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const marker = text.lastIndexOf('\u0000maxRss=');
      const maxRssBytes = marker >= 0 ? Number(text.slice(marker + 8).trim()) : undefined;
      const output = (marker >= 0 ? text.slice(0, marker) : text).replace(/\n+$/, '');
      const run = { code, output, maxRssBytes, seconds: (performance.now() - started) / 1000, hung };
      if (process.env.CONVLENS_HOSTILE_LOG) appendFileSync(process.env.CONVLENS_HOSTILE_LOG, `${JSON.stringify({ args, ...run })}\n`);
      resolve(run);
    });
  });
}

/** The memory every hostile input must stay under (issue: "under 1 GB RSS"). */
export const HOSTILE_RSS_LIMIT = 1e9;
