/**
 * End to end, in a real VS Code: the first run. ConvLens is installed from its VSIX in the Extensions
 * view, as a user installs it; its walkthrough opens by itself with its five steps; "Open the Sample
 * Workspace" opens the sample (the SqueezeNet and the photos) in one click; and there the explain step
 * does what it says: Grad-CAM of the cat photo with the SqueezeNet says "cat".
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zipSync, type Zippable } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { type CodeServer, startCodeServer } from '../support/codeServer';
import { repoRoot, sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer } from '../support/session';
import { answerOpenDialog, chooseFromContextMenu, launchBrowser, revealInExplorer, screenshot, webviewFrame } from '../support/workbench';

/** What a VSIX of ConvLens holds (.vscodeignore lists it), under `extension/` as vsce packs it; source maps left out. */
const PACKAGED = ['package.json', 'package.nls.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist', 'media', 'sample'];
/** ImageNet's domestic cats: tabby, tiger cat, Persian, Siamese, Egyptian cat. */
const CAT_CLASSES = ['281', '282', '283', '284', '285'];

function writeVsix(file: string): void {
  const files: Zippable = {};
  const add = (relative: string) => {
    const full = path.join(repoRoot, relative);
    if (statSync(full).isDirectory()) for (const entry of readdirSync(full)) add(path.join(relative, entry));
    else if (!relative.endsWith('.map')) files[`extension/${relative.split(path.sep).join('/')}`] = readFileSync(full);
  };
  for (const item of PACKAGED) add(item);
  writeFileSync(file, zipSync(files, { level: 1 }));
}

describe('First run: the walkthrough in VS Code', { skip: skipWithoutCodeServer, timeout: 400_000 }, () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    server = await startCodeServer(sampleWorkspace, {
      userSettings: { 'workbench.welcomePage.walkthroughs.openOnInstall': true },
      installed: false,
      prepare: (workspace) => writeVsix(path.join(workspace, '..', 'convlens.vsix')),
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(server.workspace)}`);
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
    // The workbench takes commands once its extension host is up.
    await page.waitForTimeout(3000);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('installed from its VSIX, ConvLens opens its walkthrough with five steps', async () => {
    await runCommand(page, 'Extensions: Install from VSIX...');
    await answerOpenDialog(page, path.join(server.scratch, 'convlens.vsix'));
    const walkthrough = page.locator('.gettingStartedContainer');
    await walkthrough.getByText('Get Started with ConvLens', { exact: true }).waitFor({ timeout: 120_000 });
    const steps = (await walkthrough.locator('.getting-started-step .step-title').allTextContents()).map((t) => t.trim());
    assert.deepEqual(steps, ['Open the sample workspace', 'Open a model', 'Explain an image', 'Analyse a folder', 'Ask your agent']);
    assert.ok(!(await walkthrough.innerText()).includes('%'), 'every string comes from package.nls.json');
    await screenshot(page, 'walkthrough-first-run');
  });

  test('"Open the Sample Workspace" opens the sample: the SqueezeNet and the photos', async () => {
    await page.locator('.gettingStartedContainer').getByText('Open the Sample Workspace', { exact: true }).click();
    await page.waitForURL(/sample-workspace/, { timeout: 60_000 });
    for (const name of ['squeezenet', 'photos', 'fashion-mnist-cnn']) {
      await page.locator(`.explorer-folders-view .monaco-list-row[aria-label=${JSON.stringify(name)}]`).waitFor({ timeout: 60_000 });
    }
    assert.match(decodeURIComponent(page.url()), /globalStorage\/convlens\.convlens\/sample-workspace$/);
    await screenshot(page, 'walkthrough-sample-workspace');
  });

  test('the explain step: Grad-CAM of the cat photo with the SqueezeNet says "cat"', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="ConvLens"]').waitFor({ timeout: 60_000 });
    await chooseFromContextMenu(page, await revealInExplorer(page, 'photos', 'chelsea.png'), 'Explain with Grad-CAM');
    // The sample has two models: ConvLens asks which one explains.
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'SqueezeNet_fp16.onnx' }).first();
    await pick.waitFor({ timeout: 30_000 });
    await pick.click();
    const frame = await webviewFrame(page, '.card canvas', 180_000);
    await frame.waitForFunction(
      () => /^Grad-CAM for/.test(document.querySelector('.card .caption')?.textContent?.trim() ?? ''),
      undefined,
      {
        timeout: 180_000,
      },
    );
    const first = frame.locator('.card .prediction').first();
    const index = (await first.getAttribute('data-class')) ?? '';
    const label = ((await first.locator('.prediction-label').textContent()) ?? '').trim();
    assert.ok(CAT_CLASSES.includes(index) && /cat/.test(label), `the top prediction ${label} (class ${index}) is a cat`);
    await page.waitForTimeout(500);
    await screenshot(page, 'walkthrough-explain-photo');
  });
});

/** Runs a command from the Command Palette, as a user does (F1 is retried until the palette opens: the
 * workbench takes its first keys only once it has started). */
async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  for (let attempt = 0; attempt < 10; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    if (
      !(await input.waitFor({ timeout: 2000 }).then(
        () => true,
        () => false,
      ))
    )
      continue;
    await page.waitForTimeout(1000);
    await page.keyboard.type(title.replace(/\.+$/, ''));
    if (
      await row.waitFor({ timeout: 3000 }).then(
        () => true,
        () => false,
      )
    )
      break;
  }
  await row.click();
}
