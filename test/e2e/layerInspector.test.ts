/**
 * End to end, in a real VS Code: Visualize Layers on the sample model, then the inspector beside the
 * tree — a layer's filters (hover values, per-filter scale, a dense matrix), its feature maps for an
 * image chosen in the file dialog or in the explorer (hover, zoom, Alt+↓ to the next layer) — in the
 * dark and the light theme.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { waitFor, waitForText } from '../support/waiting';
import { answerOpenDialog, clickContextMenu, screenshot, webviewFrame } from '../support/workbench';

describe('the layer inspector in VS Code', { skip: skipWithoutCodeServer, timeout: 300_000 }, () => {
  const session = workbenchSession(sampleWorkspace, {
    prepare: (workspace) => writeFileSync(path.join(workspace, 'images', 'notes.png'), 'not a picture'),
  });
  let frame: Frame;

  test('Visualize Layers opens on the first layer with weights: conv1’s 16 filters, with values under the pointer', async () => {
    await clickContextMenu(session.page, 'Visualize Layers', 'fashion-mnist-cnn', 'model.json');
    frame = await webviewFrame(session.page, '#filters-canvas', 120_000);
    assert.equal(await text(frame, '#inspector-title'), 'conv1');
    await frame.waitForFunction(() => (document.getElementById('filters-description')?.textContent ?? '').startsWith('16 filters'));
    // 16 tiles of 3×3 in a 4 × 4 grid with one-pixel gaps.
    assert.deepEqual(await canvasSize(frame, '#filters-canvas'), [15, 15]);
    assert.match(await text(frame, '#filters-description'), /^16 filters of 3×3\./);
    assert.notEqual(await text(frame, '#model-preprocessing'), 'reading…');
    await hoverPixel(frame, '#filters-canvas', 5, 1);
    assert.match(await text(frame, '#panel-filters .readout'), /^filter 1 at \(1, 1\): -?\d+\.\d{4}$/);
    const shared = await pixels(frame, '#filters-canvas');
    await frame.selectOption('#filters-scaling', 'per-filter');
    await frame.waitForFunction(() => (document.getElementById('filters-legend')?.textContent ?? '').includes('each filter'));
    assert.notDeepEqual(await pixels(frame, '#filters-canvas'), shared, 'per-filter scaling changes the colours');
    await screenshot(session.page, 'filters-dark');
  });

  test('choosing the dense layer shows its weight matrix', async () => {
    await frame.locator('vscode-tree-item[data-layer-id="predictions"] .layer-name').click();
    await frame.waitForFunction(() => document.getElementById('inspector-title')?.textContent === 'predictions');
    await frame.waitForFunction(() => (document.getElementById('filters-description')?.textContent ?? '').startsWith('10 units'));
    assert.deepEqual(await canvasSize(frame, '#filters-canvas'), [48, 10]);
    assert.match(await text(frame, '#filters-description'), /^10 units \(rows\) × 48 inputs \(columns\)/);
  });

  test('feature maps of an image chosen in the file dialog: every channel, hover, zoom, and Alt+↓ to the next layer', async () => {
    await frame.locator('vscode-tree-item[data-layer-id="conv1"] .layer-name').click();
    await frame.click('[data-tab="feature-maps"]');
    assert.match(await text(frame, '#feature-status'), /^Choose an image/);
    await frame.click('#choose-image');
    await answerOpenDialog(session.page, path.join(session.server.workspace, 'images', 'sneaker.png'));
    await frame.waitForFunction(
      () => (document.getElementById('feature-status')?.textContent ?? '').startsWith('conv1: 16 channels'),
      undefined,
      { timeout: 60_000 },
    );
    assert.equal(await text(frame, '#feature-image'), 'sneaker.png');
    // 16 channels of 28×28 in a 4 × 4 grid.
    assert.deepEqual(await canvasSize(frame, '#feature-maps-canvas'), [4 * 29 - 1, 4 * 29 - 1]);
    assert.ok(new Set(await pixels(frame, '#feature-maps-canvas')).size > 20, 'the maps are not blank');
    await hoverPixel(frame, '#feature-maps-canvas', 29 + 14, 10);
    assert.match(await text(frame, '#panel-feature-maps .picture-pane .readout'), /^channel 1 at \(10, 14\): -?[\d.e+-]+ — click to zoom$/);
    await screenshot(session.page, 'feature-maps-dark');

    await clickPixel(frame, '#feature-maps-canvas', 29 + 14, 10);
    await frame.waitForFunction(() => !(document.getElementById('zoom-pane') as HTMLElement).hidden);
    assert.equal(await text(frame, '#zoom-title'), 'conv1, channel 1 of 16');
    assert.deepEqual(await canvasSize(frame, '#zoom-canvas'), [28, 28]);
    // Beside it, the deconvnet projection of the channel to the image's pixels: from its strongest position, then from all of it.
    await waitForText(
      frame,
      '#projection-caption',
      /^Deconvnet projection of channel 1 from its strongest position \(row \d+, column \d+\)/,
      60_000,
    );
    assert.deepEqual(await canvasSize(frame, '#projection-canvas'), [28, 28]);
    const fromStrongest = await pixels(frame, '#projection-canvas');
    assert.ok(new Set(fromStrongest).size > 3, 'the projection is not blank');
    await screenshot(session.page, 'feature-projection');
    await frame.selectOption('#projection-unit', 'sum');
    await waitForText(frame, '#projection-caption', /^Deconvnet projection of channel 1 from the whole channel/, 60_000);
    assert.notDeepEqual(await pixels(frame, '#projection-canvas'), fromStrongest);
    await frame.locator('#zoom-pane button', { hasText: 'All channels' }).press('Escape');
    await frame.waitForFunction(() => (document.getElementById('zoom-pane') as HTMLElement).hidden);

    await frame.locator('.feature-maps').press('Alt+ArrowDown');
    await frame.waitForFunction(() =>
      (document.getElementById('feature-status')?.textContent ?? '').startsWith('pool1: 16 channels of 14×14'),
    );
    assert.equal(await text(frame, '#inspector-title'), 'pool1');
    const selected = await frame.$$eval('vscode-tree-item', (items) =>
      items.filter((i) => (i as unknown as { selected: boolean }).selected).map((i) => (i as HTMLElement).dataset.layerId),
    );
    assert.deepEqual(selected, ['pool1'], 'the tree follows');
  });

  test('Show Feature Maps on an image in the explorer runs it through the open model', async () => {
    await clickContextMenu(session.page, 'Show Feature Maps', 'images', 'trouser.png');
    frame = await webviewFrame(session.page, '#feature-maps-canvas');
    await frame.waitForFunction(() => document.getElementById('feature-image')?.textContent === 'trouser.png', undefined, {
      timeout: 60_000,
    });
    await frame.waitForFunction(() =>
      (document.getElementById('feature-status')?.textContent ?? '').endsWith(
        'for trouser.png. Hover for values, click a channel to zoom.',
      ),
    );
  });

  test('preprocessing edited in the summary is saved to the sidecar and used at once', async () => {
    assert.equal(await text(frame, '#model-preprocessing'), '28x28, gray, scale 0-255');
    const mapsBefore = await pixels(frame, '#feature-maps-canvas');
    await frame.click('#edit-preprocessing');
    await frame.fill('#preprocessing-size', '28 by 28');
    await frame.click('#save-preprocessing');
    assert.match(await text(frame, '#preprocessing-problem'), /size must be WIDTHxHEIGHT/);
    await frame.fill('#preprocessing-size', '28x28');
    await frame.selectOption('#preprocessing-scale', '0-1');
    await frame.click('#save-preprocessing');
    await frame.waitForFunction(
      () => document.getElementById('model-preprocessing')?.textContent === '28x28, gray, scale 0-1 (from model.json.convlens.json)',
    );
    const sidecar = JSON.parse(readFileSync(path.join(session.server.workspace, 'fashion-mnist-cnn', 'model.json.convlens.json'), 'utf8'));
    assert.deepEqual(sidecar, { size: '28x28', channels: 'gray', scale: '0-1' });
    // The feature maps on screen are computed again from pixels scaled to 0-1 (the model rescales them once more).
    await waitFor(
      async () => JSON.stringify(await pixels(frame, '#feature-maps-canvas')) !== JSON.stringify(mapsBefore),
      30_000,
      () => 'the feature maps never changed',
    );
  });

  test('bad input gets a message naming the file, and the user’s files stay as they are', async () => {
    // A file named .png that is no image.
    await clickContextMenu(session.page, 'Show Feature Maps', 'images', 'notes.png');
    await notification(session.page, /^notes\.png is not an image ConvLens can decode/);
    assert.equal(await text(frame, '#feature-image'), 'trouser.png', 'the maps shown stay');
    // A sidecar broken by hand is not overwritten.
    const sidecar = path.join(session.server.workspace, 'fashion-mnist-cnn', 'model.json.convlens.json');
    writeFileSync(sidecar, '{"scale": "0-1",');
    await frame.click('#edit-preprocessing');
    await frame.click('#save-preprocessing');
    await notification(session.page, /^model\.json\.convlens\.json is not a JSON object; fix or delete it, then save again\.$/);
    assert.equal(readFileSync(sidecar, 'utf8'), '{"scale": "0-1",');
    writeFileSync(sidecar, JSON.stringify({ size: '28x28', channels: 'gray', scale: '0-1' }));
  });

  test('the inspector follows the light theme', async () => {
    mkdirSync(path.join(session.server.workspace, '.vscode'), { recursive: true });
    writeFileSync(
      path.join(session.server.workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'workbench.colorTheme': 'Default Light Modern' }),
    );
    await frame.waitForFunction(() => document.body.classList.contains('vscode-light'), undefined, { timeout: 30_000 });
    assert.equal(await frame.$eval('body', (body) => getComputedStyle(body).backgroundColor), 'rgb(255, 255, 255)');
    await screenshot(session.page, 'feature-maps-light');
    await frame.click('[data-tab="filters"]');
    await frame.locator('vscode-tree-item[data-layer-id="conv2"] .layer-name').click();
    await frame.waitForFunction(() =>
      (document.getElementById('filters-description')?.textContent ?? '').startsWith('32 filters (rows) × 16 input channels'),
    );
    await screenshot(session.page, 'filters-light');
  });
});

async function notification(page: Page, pattern: RegExp): Promise<void> {
  const messages = page.locator('.notification-toast .notification-list-item-message');
  await waitFor(
    async () => (await messages.allTextContents()).some((m) => pattern.test(m.trim())),
    30_000,
    () => `no notification matched ${pattern}`,
  );
}

async function text(frame: Frame, selector: string): Promise<string> {
  return ((await frame.textContent(selector)) ?? '').trim();
}

async function canvasSize(frame: Frame, selector: string): Promise<[number, number]> {
  return frame.$eval(selector, (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height] as [number, number]);
}

async function pixels(frame: Frame, selector: string): Promise<number[]> {
  return frame.$eval(selector, (c) => {
    const canvas = c as HTMLCanvasElement;
    return [...canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data];
  });
}

/** The point on screen over picture pixel (x, y) of an enlarged canvas. */
async function pixelPosition(frame: Frame, selector: string, x: number, y: number): Promise<{ x: number; y: number }> {
  return frame.$eval(
    selector,
    (c, [px, py]) => {
      const canvas = c as HTMLCanvasElement;
      const box = canvas.getBoundingClientRect();
      return { x: ((px + 0.5) / canvas.width) * box.width, y: ((py + 0.5) / canvas.height) * box.height };
    },
    [x, y],
  );
}

async function hoverPixel(frame: Frame, selector: string, x: number, y: number): Promise<void> {
  await frame.locator(selector).hover({ position: await pixelPosition(frame, selector, x, y) });
}

async function clickPixel(frame: Frame, selector: string, x: number, y: number): Promise<void> {
  await frame.locator(selector).click({ position: await pixelPosition(frame, selector, x, y) });
}
