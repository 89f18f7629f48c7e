/**
 * Desktop VS Code launcher, kept for machines where @vscode/test-electron can download VS Code
 * (it needs the internet and a display). The suite in CI runs in code-server instead: see test/e2e.
 *   npm run test:desktop
 */
import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import * as esbuild from 'esbuild';
import { repoRoot, sampleWorkspace } from '../support/paths';

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'convlens-desktop-'));
  const workspace = path.join(scratch, 'workspace');
  cpSync(sampleWorkspace, workspace, { recursive: true });
  const suite = path.join(scratch, 'suite.js');
  await esbuild.build({
    entryPoints: [path.join(repoRoot, 'test', 'desktop', 'suite.ts')],
    outfile: suite,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
  });
  await runTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: suite,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
