/**
 * End to end, in a real VS Code: select two images in the explorer, choose Explain with Grad-CAM, and
 * check the Explain panel as a user sees it — predictions with class names, overlays, another method,
 * another class, PNG export — in the dark and the light theme.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { chooseFromContextMenu, explorerRow, revealInExplorer, screenshot, webviewFrame } from '../support/workbench';

describe('Explain with Grad-CAM in VS Code', { skip: skipWithoutCodeServer, timeout: 300_000 }, () => {
  const session = workbenchSession(sampleWorkspace);
  let frame: Frame;

  test('two images selected in the explorer: top-5 predictions with class names and a Grad-CAM overlay each', async () => {
    const sneaker = await revealInExplorer(session.page, 'images', 'sneaker.png');
    await sneaker.click();
    // The click opens the image's preview; select the second image once that has settled.
    await session.page.waitForTimeout(1500);
    await explorerRow(session.page, 'trouser.png').first().click({ modifiers: ['Control'] });
    await session.page.locator('.explorer-folders-view .monaco-list-row[aria-selected="true"][aria-label="trouser.png"]').waitFor();
    await chooseFromContextMenu(session.page, explorerRow(session.page, 'trouser.png').first(), 'Explain with Grad-CAM');

    frame = await webviewFrame(session.page, '.card canvas', 120_000);
    await waitForCaption(frame, 0, /^Grad-CAM for/);
    await waitForCaption(frame, 1, /^Grad-CAM for/);
    const cards = await frame.$$eval('.card', (els) => els.map((el) => (el as HTMLElement).dataset.image));
    assert.deepEqual(cards, ['sneaker.png', 'trouser.png']);
    const top = await frame.$$eval('.card', (els) =>
      els.map((el) => [...el.querySelectorAll('.prediction')].map((b) => b.querySelector('.prediction-label')!.textContent)),
    );
    assert.equal(top[0].length, 5);
    assert.equal(top[0][0], 'Sneaker');
    assert.equal(top[1][0], 'Trouser');
    assert.match(await caption(frame, 0), /^Grad-CAM for “Sneaker” \(class 7, score [-\d.]+\) at conv3$/);
    assert.equal(await frame.textContent('#labels-origin'), 'labels.txt');
    // The overlay is a picture at the image's size, not blank: its pixels vary.
    const spread = await frame.$eval('.card canvas', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let min = 255;
      let max = 0;
      for (let i = 0; i < data.length; i += 4) {
        min = Math.min(min, data[i]);
        max = Math.max(max, data[i]);
      }
      return { width: c.width, height: c.height, range: max - min };
    });
    assert.deepEqual([spread.width, spread.height], [28, 28]);
    assert.ok(spread.range > 100, `overlay red channel spans ${spread.range}`);
    await screenshot(session.page, 'explain-gradcam-dark');
  });

  test('choosing another method, layer and class re-explains', async () => {
    await frame.selectOption('#method-select', 'scorecam');
    await waitForCaption(frame, 0, /^Score-CAM for “Sneaker”/);
    await frame.selectOption('#layer-select', 'conv2');
    await waitForCaption(frame, 0, /^Score-CAM for “Sneaker” .* at conv2$/);
    const second = frame.locator('.card').nth(1).locator('.prediction').nth(1);
    const label = ((await second.locator('.prediction-label').textContent()) ?? '').trim();
    await second.click();
    await waitForCaption(frame, 1, new RegExp(`^Score-CAM for “${label}”`));
    assert.equal(await second.getAttribute('aria-pressed'), 'true');
    await frame.selectOption('#method-select', 'guided');
    await waitForCaption(frame, 0, /^Guided backprop for “Sneaker”/);
    assert.equal(await frame.$eval('#layer-select', (el) => (el.closest('label') as HTMLElement).hidden), true, 'no target layer for input-gradient methods');
  });

  test('Export PNG saves the picture beside the image', async () => {
    await frame.locator('.card').first().getByRole('button', { name: 'Export PNG' }).click();
    // code-server's own save dialog: a quick input holding the suggested path.
    const input = session.page.locator('.quick-input-widget input');
    await input.waitFor();
    // The dialog fills in the suggested path a moment after it opens.
    await waitFor(async () => /images\/sneaker-guided\.png$/.test(await input.inputValue()), 10_000, () => 'the save dialog never suggested images/sneaker-guided.png');
    await input.press('Enter');
    const saved = path.join(session.server.workspace, 'images', 'sneaker-guided.png');
    await waitFor(() => existsSync(saved) && readFileSync(saved).length > 8);
    assert.deepEqual([...readFileSync(saved).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  test('the panel follows the light theme', async () => {
    await frame.selectOption('#method-select', 'gradcam');
    await waitForCaption(frame, 0, /^Grad-CAM for/);
    mkdirSync(path.join(session.server.workspace, '.vscode'), { recursive: true });
    writeFileSync(path.join(session.server.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'workbench.colorTheme': 'Default Light Modern' }));
    await frame.waitForFunction(() => document.body.classList.contains('vscode-light'), undefined, { timeout: 30_000 });
    const background = await frame.$eval('body', (body) => getComputedStyle(body).backgroundColor);
    assert.equal(background, 'rgb(255, 255, 255)');
    await screenshot(session.page, 'explain-gradcam-light');
  });
});

async function caption(frame: Frame, index: number): Promise<string> {
  return ((await frame.locator('.card .caption').nth(index).textContent()) ?? '').trim();
}

async function waitForCaption(frame: Frame, index: number, pattern: RegExp): Promise<void> {
  await waitFor(async () => pattern.test(await caption(frame, index)), 120_000, () => `caption ${index} never matched ${pattern}`);
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 30_000, describe = () => 'condition not met'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${describe()} within ${timeoutMs / 1000} s`);
}
