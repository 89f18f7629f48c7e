/**
 * A real VS Code for end-to-end tests: code-server (the VS Code workbench and extension host, from the
 * npm registry) with ConvLens installed, serving a copy of a workspace on a local port.
 * scripts/install-e2e.sh installs code-server into the cache folder this reads from.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './paths';

export const e2eCache = process.env.CONVLENS_E2E_CACHE ?? path.join(os.homedir(), '.cache', 'convlens-e2e');
const codeServerEntry = path.join(e2eCache, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

export interface CodeServer {
  url: string;
  workspace: string;
  /** Everything the server wrote: logs, user data, the staged extension. */
  scratch: string;
  stop(): Promise<void>;
}

export function codeServerInstalled(): boolean {
  return existsSync(codeServerEntry);
}

/** Copies the built extension as code-server expects an installed one: `<publisher>.<name>-<version>/`. */
export function stageExtension(extensionsDir: string): void {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const target = path.join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
  if (!existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: run `npm run build` first');
  }
  for (const item of ['package.json', 'package.nls.json', 'dist', 'media', 'sample', 'README.md']) {
    const from = path.join(repoRoot, item);
    if (existsSync(from)) cpSync(from, path.join(target, item), { recursive: true });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForHttp(url: string, server: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`code-server exited with ${server.exitCode}:\n${log()}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer within ${timeoutMs} ms:\n${log()}`);
}

export interface CodeServerOptions {
  /** Adds files to the workspace copy before the server starts. */
  prepare?: (workspace: string) => void | Promise<void>;
  /** A fixed port (the demo prints its address); a free one otherwise. */
  port?: number;
  /** User settings added to (or replacing) the tests' defaults. */
  userSettings?: Record<string, unknown>;
  /** Whether ConvLens is installed before the server starts (yes unless false: a test installs it as a user would). */
  installed?: boolean;
}

/**
 * Starts code-server on a copy of `workspaceSource` (so tests never modify the repository's files).
 */
export async function startCodeServer(workspaceSource: string, options: CodeServerOptions = {}): Promise<CodeServer> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'convlens-e2e-'));
  const workspace = path.join(scratch, 'workspace');
  const userData = path.join(scratch, 'user-data');
  const extensions = path.join(scratch, 'extensions');
  cpSync(workspaceSource, workspace, { recursive: true });
  await options.prepare?.(workspace);
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  const settings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    // ConvLens opens its walkthrough on its first run; tests other than the walkthrough's do without.
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.colorTheme': 'Default Dark Modern',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'telemetry.telemetryLevel': 'off',
    ...options.userSettings,
  };
  writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(settings));
  // Machine-scoped settings reach code-server's extension host from the machine's own settings file.
  mkdirSync(path.join(userData, 'Machine'), { recursive: true });
  const machineScoped = ['workbench.welcomePage.walkthroughs.openOnInstall'] as const;
  writeFileSync(
    path.join(userData, 'Machine', 'settings.json'),
    JSON.stringify(Object.fromEntries(machineScoped.map((key) => [key, settings[key]]))),
  );
  if (options.installed !== false) stageExtension(extensions);

  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const server = spawn(
    process.execPath,
    [
      codeServerEntry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--user-data-dir',
      userData,
      '--extensions-dir',
      extensions,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      workspace,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (chunk) => (output += chunk));
  server.stderr!.on('data', (chunk) => (output += chunk));
  await waitForHttp(url, server, () => output, 60_000);

  return {
    url,
    workspace,
    scratch,
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
      writeFileSync(path.join(scratch, 'code-server.log'), output);
      if (!process.env.CONVLENS_E2E_KEEP) rmSync(scratch, { recursive: true, force: true });
    },
  };
}
