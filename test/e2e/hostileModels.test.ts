/**
 * End to end, in a real VS Code: models from a stranger's repository. One names a weight file outside
 * its folder, one reaches outside through a symbolic link, one names itself and its layers with HTML
 * and script. Each is opened as a user would (right-click → Visualize Layers): the first two end in one
 * sentence in the view and a notification, with nothing read from outside; the third shows its names as
 * text, and none of them runs.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { repoRoot, sampleModel, sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { clickContextMenu, runCommand, screenshot, webviewFrame } from '../support/workbench';

const hostileNames = path.join(repoRoot, 'test', 'fixtures', 'hostile', 'html-names');
const shard = path.join(path.dirname(sampleModel), 'group1-shard1of1.bin');

/** The sample model, with every weight path in its manifest replaced. */
function modelNamingWeights(weightPath: string): string {
  const json = JSON.parse(readFileSync(sampleModel, 'utf8'));
  for (const group of json.weightsManifest) group.paths = [weightPath];
  return JSON.stringify(json);
}

describe('Models from a stranger in VS Code', { skip: skipWithoutCodeServer, timeout: 240_000 }, () => {
  const session = workbenchSession(sampleWorkspace, {
    prepare: (workspace) => {
      // Weights the hostile models reach for, in the workspace but outside their folders.
      mkdirSync(path.join(workspace, 'elsewhere'));
      copyFileSync(shard, path.join(workspace, 'elsewhere', 'secret.bin'));
      mkdirSync(path.join(workspace, 'traversal'));
      writeFileSync(path.join(workspace, 'traversal', 'model.json'), modelNamingWeights('../elsewhere/secret.bin'));
      mkdirSync(path.join(workspace, 'linked'));
      writeFileSync(path.join(workspace, 'linked', 'model.json'), modelNamingWeights('weights.bin'));
      symlinkSync(path.join('..', 'elsewhere', 'secret.bin'), path.join(workspace, 'linked', 'weights.bin'));
      mkdirSync(path.join(workspace, 'html-names'));
      for (const name of ['html-names.onnx', 'labels.txt'])
        copyFileSync(path.join(hostileNames, name), path.join(workspace, 'html-names', name));
    },
  });

  test('a weight file named with ../ is refused in one sentence, in the view and in a notification', async () => {
    await clickContextMenu(session.page, 'Visualize Layers', 'traversal', 'model.json');
    const expected = `model.json lists the weight file "../elsewhere/secret.bin", which is outside the model's folder; ConvLens reads only files in the model's folder.`;
    await expectRefusal(session.page, expected);
    await screenshot(session.page, 'hostile-traversal');
  });

  test('a weight file that is a symbolic link to outside the folder is refused the same way', async () => {
    await closeNotifications(session.page);
    // One viewer at a time: the refusal is looked for in the open one.
    await runCommand(session.page, 'View: Close All Editors');
    await clickContextMenu(session.page, 'Visualize Layers', 'linked', 'model.json');
    const expected = `model.json lists the weight file "weights.bin", which leads through a symbolic link to outside the model's folder; ConvLens reads only files in the model's folder.`;
    await expectRefusal(session.page, expected);
    await screenshot(session.page, 'hostile-symlink');
  });

  test('model and layer names made of HTML and script show as text and run nothing', async () => {
    await closeNotifications(session.page);
    await runCommand(session.page, 'View: Close All Editors');
    await clickContextMenu(session.page, 'Visualize Layers', 'html-names', 'html-names.onnx');
    const frame = await webviewFrame(session.page, '#layer-tree vscode-tree-item');
    assert.equal(((await frame.textContent('#model-name')) ?? '').trim(), '<b>bold</b> & <i>italic</i>');
    const names = await frame.$$eval('#layer-tree vscode-tree-item .layer-name', (els) => els.map((el) => el.textContent));
    for (const name of [
      `<img src=x onerror="document.title='pwned-img'">`,
      `"><svg onload="document.title='pwned-svg'">`,
      `<script>document.title='pwned-script'</script>`,
    ]) {
      assert.ok(names.includes(name), `${name} is shown as text (names: ${names.join(' | ')})`);
    }
    // Select a layer, so the inspector (title, weights) shows a hostile name too.
    await frame.locator('vscode-tree-item .layer-name', { hasText: '<img src=x' }).first().click();
    await frame.waitForFunction(() => document.querySelector('#inspector-title')?.textContent?.includes('<img'));
    const injected = await frame.evaluate(() => ({
      elements: document.querySelectorAll('#app img, #app svg[onload], #app script, #app b, #app i').length,
      title: document.title,
    }));
    assert.equal(injected.elements, 0, 'no element was made from a name');
    assert.doesNotMatch(injected.title, /pwned/);
    assert.doesNotMatch(await session.page.title(), /pwned/);
    await screenshot(session.page, 'hostile-html-names');
  });
});

/**
 * The refusal in the inspector (select a layer with weights to load them) and as a notification. The
 * viewer asked for is found by what it says: a viewer closed a moment ago can still be in the page.
 */
async function expectRefusal(page: Page, expected: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  const clicked = new Set<Frame>();
  let shown: Frame | undefined;
  while (!shown && Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (!(await frame.$('#layer-tree vscode-tree-item').catch(() => null))) continue;
      if (await frame.evaluate((text) => document.body.textContent?.includes(text) ?? false, expected).catch(() => false)) shown = frame;
      else if (!clicked.has(frame)) {
        clicked.add(frame);
        await frame
          .locator('vscode-tree-item[data-layer-id="conv1"] .layer-name')
          .first()
          .click({ timeout: 5000 })
          .catch(() => undefined);
      }
    }
    if (!shown) await page.waitForTimeout(500);
  }
  if (!shown) throw new Error(`no viewer says "${expected}"; screenshot: ${await screenshot(page, 'hostile-refusal-missing')}`);
  const notification = page.locator('.notification-toast', { hasText: expected });
  await notification.first().waitFor({ timeout: 30_000 });
  assert.equal(await notification.count(), 1);
}

async function closeNotifications(page: Page): Promise<void> {
  for (const close of await page.locator('.notification-toast .codicon-notifications-clear').all())
    await close.click().catch(() => undefined);
}
