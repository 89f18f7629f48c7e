/**
 * End to end, in a real VS Code: select two images in the explorer, choose Explain with Grad-CAM, and
 * check the Explain panel as a user sees it — predictions with class names, overlays, another method,
 * another class, methods side by side, PNG export, copying — in the dark, light and high-contrast
 * themes; and a file that is not an image is named and left out.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { assertWasmBadge, explainImages, screenshot, webviewFrame } from '../support/workbench';
import { waitFor } from '../support/waiting';

describe('Explain with Grad-CAM in VS Code', { skip: skipWithoutCodeServer, timeout: 300_000 }, () => {
  const session = workbenchSession(sampleWorkspace, {
    prepare: (workspace) => {
      writeFileSync(path.join(workspace, 'images', 'notes.png'), 'not a picture');
      // One model in the workspace, so Explain uses it without asking which.
      rmSync(path.join(workspace, 'squeezenet'), { recursive: true });
    },
  });
  let frame: Frame;

  test('two images selected in the explorer: top-5 predictions with class names and a Grad-CAM overlay each', async () => {
    frame = await explainImages(session.page, 'images', 'sneaker.png', 'trouser.png');
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
    await assertWasmBadge(frame);
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
    assert.equal(
      await frame.$eval('#layer-select', (el) => (el.closest('label') as HTMLElement).hidden),
      true,
      'no target layer for input-gradient methods',
    );
  });

  test('Export PNG saves the picture beside the image', async () => {
    await frame.locator('.card').first().getByRole('button', { name: 'Export PNG' }).click();
    // code-server's own save dialog: a quick input holding the suggested path.
    const input = session.page.locator('.quick-input-widget input');
    await input.waitFor();
    // The dialog fills in the suggested path a moment after it opens.
    await waitFor(
      async () => /images\/sneaker-guided\.png$/.test(await input.inputValue()),
      10_000,
      () => 'the save dialog never suggested images/sneaker-guided.png',
    );
    await input.press('Enter');
    const saved = path.join(session.server.workspace, 'images', 'sneaker-guided.png');
    await waitFor(() => existsSync(saved) && readFileSync(saved).length > 8);
    assert.deepEqual([...readFileSync(saved).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  test('Compare methods shows the chosen methods beside the main one, for every image', async () => {
    await frame.selectOption('#method-select', 'gradcam');
    await frame.click('#compare-summary');
    await frame.check('#compare-menu input[data-method="gradcam++"]');
    await frame.check('#compare-menu input[data-method="integrated"]');
    await frame.press('#compare-menu input[data-method="integrated"]', 'Escape');
    assert.equal(await frame.$eval('#compare-menu', (el) => (el as HTMLDetailsElement).open), false, 'Escape closes the menu');
    assert.equal((await frame.textContent('#compare-summary'))?.trim(), 'Compare methods (2)');
    for (const card of [0, 1]) {
      const figures = frame.locator('.card').nth(card).locator('figure');
      await waitFor(
        async () => /^Integrated gradients for/.test(((await figures.nth(2).locator('.caption').textContent()) ?? '').trim()),
        120_000,
        () => `card ${card} never showed integrated gradients`,
      );
      assert.deepEqual(await figures.evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.method)), [
        'gradcam',
        'gradcam++',
        'integrated',
      ]);
      const captions = (await figures.locator('.caption').allTextContents()).map((c) => c.trim());
      assert.match(captions[0], /^Grad-CAM for/);
      assert.match(captions[1], /^Grad-CAM\+\+ for/);
    }
    // The three pictures differ: they are three methods, not one picture drawn three times.
    const sums = await frame
      .locator('.card')
      .first()
      .locator('canvas')
      .evaluateAll((canvases) =>
        canvases.map((canvas) => {
          const c = canvas as HTMLCanvasElement;
          return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data).reduce((a, b) => a + b, 0);
        }),
      );
    assert.equal(new Set(sums).size, 3, `picture sums ${sums}`);
    await screenshot(session.page, 'explain-compare-dark');
  });

  test('Copy puts the picture on the clipboard as a PNG', async () => {
    await session.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await frame.locator('.card').first().locator('figure').first().getByRole('button', { name: 'Copy' }).click();
    await waitFor(
      async () => /^Copied Grad-CAM of sneaker\.png to the clipboard\.$/.test(((await frame.textContent('#explain-status')) ?? '').trim()),
      10_000,
      () => 'no copy confirmation',
    );
    const copied = await frame.evaluate(async () => {
      const [item] = await navigator.clipboard.read();
      const bitmap = await createImageBitmap(await item.getType('image/png'));
      return { types: item.types, width: bitmap.width, height: bitmap.height };
    });
    assert.deepEqual(copied, { types: ['image/png'], width: 28, height: 28 });
  });

  test('the panel follows the light theme', async () => {
    mkdirSync(path.join(session.server.workspace, '.vscode'), { recursive: true });
    writeFileSync(
      path.join(session.server.workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'workbench.colorTheme': 'Default Light Modern' }),
    );
    await frame.waitForFunction(() => document.body.classList.contains('vscode-light'), undefined, { timeout: 30_000 });
    const background = await frame.$eval('body', (body) => getComputedStyle(body).backgroundColor);
    assert.equal(background, 'rgb(255, 255, 255)');
    await screenshot(session.page, 'explain-gradcam-light');
  });

  test('and the high-contrast theme', async () => {
    writeFileSync(
      path.join(session.server.workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'workbench.colorTheme': 'Default High Contrast' }),
    );
    await frame.waitForFunction(() => document.body.classList.contains('vscode-high-contrast'), undefined, { timeout: 30_000 });
    // High contrast draws borders in its contrast colour around the cards and the pressed prediction.
    const border = await frame.$eval('.prediction[aria-pressed="true"]', (el) => getComputedStyle(el).borderTopColor);
    assert.notEqual(border, 'rgba(0, 0, 0, 0)');
    await screenshot(session.page, 'explain-gradcam-high-contrast');
  });

  test('a chosen file that is not an image is named and left out; the others are explained', async () => {
    await explainImages(session.page, 'images', 'bag.png', 'notes.png');
    // The first panel is still open behind this one: the new one is the frame that leaves a file out.
    const second = await webviewFrame(session.page, '.left-out', 120_000);
    assert.match(((await second.textContent('.left-out')) ?? '').trim(), /^Left out: notes\.png is not an image ConvLens can decode/);
    assert.deepEqual(await second.$$eval('.card', (els) => els.map((el) => (el as HTMLElement).dataset.image)), ['bag.png']);
    const messages = session.page.locator('.notification-toast .notification-list-item-message');
    await waitFor(
      async () => (await messages.allTextContents()).some((m) => /^notes\.png is not an image ConvLens can decode/.test(m.trim())),
      30_000,
      () => 'no notification named notes.png',
    );
    assert.equal(readFileSync(path.join(session.server.workspace, 'images', 'notes.png'), 'utf8'), 'not a picture');
    await screenshot(session.page, 'explain-left-out');
  });
});

async function caption(frame: Frame, index: number): Promise<string> {
  return ((await frame.locator('.card .caption').nth(index).textContent()) ?? '').trim();
}

async function waitForCaption(frame: Frame, index: number, pattern: RegExp): Promise<void> {
  await waitFor(
    async () => pattern.test(await caption(frame, index)),
    120_000,
    () => `caption ${index} never matched ${pattern}`,
  );
}
