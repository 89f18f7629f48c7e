/**
 * End to end, in a real VS Code: a training run overwrites the model while its views are open. The
 * viewer, Explain and Analyze notice, ask once, and rebuild on the new checkpoint, keeping what the
 * user chose (Explain's method, Analyze's tab); with "Always Reload" the next checkpoint is taken without asking.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { repoRoot, sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { chooseFromContextMenu, clickContextMenu, revealInExplorer, screenshot, webviewFrame } from '../support/workbench';

/** A second checkpoint of the sample model: one epoch from another seed (sample/training/train_fashion_mnist.py). */
const epoch1 = path.join(repoRoot, 'test', 'fixtures', 'checkpoints', 'fashion-mnist-epoch1');

describe('Open views follow a model retrained on disk', { skip: skipWithoutCodeServer, timeout: 300_000 }, () => {
  const session = workbenchSession(sampleWorkspace);
  const sampleModel = () => path.join(session.server.workspace, 'fashion-mnist-cnn');
  let explain: Frame;
  let before: string[];

  test('with the viewer and Explain open, copying another checkpoint over the model asks once, and Reload rebuilds both', async () => {
    await clickContextMenu(session.page, 'Visualize Layers', 'fashion-mnist-cnn', 'model.json');
    await webviewFrame(session.page, '#layer-tree vscode-tree-item');
    await chooseFromContextMenu(session.page, await revealInExplorer(session.page, 'images', 'sneaker.png'), 'Explain with Grad-CAM');
    explain = await webviewFrame(session.page, '.card .prediction');
    await explain.selectOption('#method-select', 'gradcam++');
    await explain.waitForFunction(() => /^Grad-CAM\+\+ for/.test(document.querySelector('.card .caption')?.textContent ?? ''));
    before = await predictions(explain);

    overwriteCheckpoint(sampleModel());
    const reload = session.page.locator('.notification-toast', { hasText: 'model.json changed on disk.' });
    await reload.waitFor({ timeout: 30_000 });
    assert.equal(await session.page.locator('.notification-toast', { hasText: 'model.json changed on disk.' }).count(), 1, 'one question');
    await screenshot(session.page, 'reload-question');
    await reload.getByRole('button', { name: 'Reload', exact: true }).click();

    explain = await waitForNewPredictions(session.page, before);
    const after = await predictions(explain);
    assert.notDeepEqual(after, before, 'the new checkpoint predicts otherwise');
    assert.equal(await explain.inputValue('#method-select'), 'gradcam++', 'the method chosen is kept');
    await explain.waitForFunction(() => /^Grad-CAM\+\+ for/.test(document.querySelector('.card .caption')?.textContent ?? ''));
    await screenshot(session.page, 'reload-explain');
  });

  test('Analyze keeps its tab through a reload; Always Reload takes later checkpoints without asking', async () => {
    await clickContextMenu(session.page, 'Analyze Images with Model', 'images');
    let analyze = await webviewFrame(session.page, '[data-tab="confusion"]');
    await analyze.click('[data-tab="neighbours"]');
    overwriteCheckpoint(sampleModel(), path.join(repoRoot, 'sample', 'fashion-mnist-cnn'));
    const reload = session.page.locator('.notification-toast', { hasText: 'model.json changed on disk.' });
    await reload.waitFor({ timeout: 30_000 });
    await reload.getByRole('button', { name: 'Always Reload' }).click();
    await session.page.waitForTimeout(2000);
    analyze = await webviewFrame(session.page, '[data-tab="neighbours"][aria-selected="true"]', 60_000);
    assert.equal(await analyze.getAttribute('[data-tab="neighbours"]', 'aria-selected'), 'true');

    overwriteCheckpoint(sampleModel());
    await session.page.waitForTimeout(4000);
    assert.equal(await session.page.locator('.notification-toast', { hasText: 'changed on disk' }).count(), 0, 'no second question');
    await screenshot(session.page, 'reload-analyze');
  });
});

/** Copies a checkpoint's model.json and weight shards over the model folder, as a training script saving it would. */
function overwriteCheckpoint(modelFolder: string, from = epoch1): void {
  for (const file of readdirSync(from).filter((name) => name === 'model.json' || name.endsWith('.bin'))) {
    copyFileSync(path.join(from, file), path.join(modelFolder, file));
  }
}

async function predictions(frame: Frame): Promise<string[]> {
  return frame.$$eval('.card .prediction', (rows) => rows.map((row) => (row.textContent ?? '').replace(/\s+/g, ' ').trim()));
}

/** The Explain page built again: its predictions differ from `before` (the old page's frame is gone). */
async function waitForNewPredictions(page: Page, before: string[]): Promise<Frame> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const shown = await predictions(frame).catch(() => []);
      if (shown.length > 0 && JSON.stringify(shown) !== JSON.stringify(before)) return frame;
    }
    await page.waitForTimeout(500);
  }
  throw new Error(`the Explain panel still shows ${JSON.stringify(before)}`);
}
