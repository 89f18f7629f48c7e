/**
 * End to end, the browser build (dist/web/extension.js, as vscode.dev and github.dev load it) in a real
 * VS Code's web worker extension host: code-server runs web extensions there, and the user setting
 * `remote.extensionKind: ui` makes it prefer that host to its Node one for ConvLens. With no disk of its
 * own, the extension reads every file through `vscode.workspace.fs`. It opens a TensorFlow.js and an
 * ONNX model and explains an image with Grad-CAM, as a user of vscode.dev would.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { repoRoot, sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { clickContextMenu, revealInExplorer, chooseFromContextMenu, screenshot, webviewFrame } from '../support/workbench';

describe('The browser build in a web worker extension host', { skip: skipWithoutCodeServer, timeout: 300_000 }, () => {
  const session = workbenchSession(sampleWorkspace, {
    userSettings: { 'remote.extensionKind': { 'convlens.convlens': ['ui'] } },
    prepare: (workspace) => {
      mkdirSync(path.join(workspace, 'resnet-onnx'));
      copyFileSync(
        path.join(repoRoot, 'test', 'fixtures', 'onnx', 'resnet-basic-opset9', 'resnet-basic-opset9.onnx'),
        path.join(workspace, 'resnet-onnx', 'resnet.onnx'),
      );
    },
  });

  test('Visualize Layers on a TensorFlow.js model: the layer tree, in the webview and the sidebar', async () => {
    await clickContextMenu(session.page, 'Visualize Layers', 'fashion-mnist-cnn', 'model.json');
    const frame = await webviewFrame(session.page, '#layer-tree vscode-tree-item');
    assert.equal(await text(frame, '#model-name'), 'fashion_mnist_cnn');
    assert.equal(await text(frame, '#model-input'), '(None, 28, 28, 1)');
    assert.equal(await text(frame, '#model-params'), '19,162 (19,162 trainable)');
    await session.page.locator('.activitybar .action-item a[aria-label^="ConvLens"]').click();
    await session.page.waitForFunction(() =>
      [...document.querySelectorAll('.monaco-list-row')].some((row) => row.getAttribute('aria-label')?.startsWith('conv1,')),
    );
    await screenshot(session.page, 'web-tfjs-layers');
    await session.page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
  });

  test('the extension runs in the web worker extension host, not in Node', async () => {
    await session.page.keyboard.press('F1');
    await session.page.keyboard.type('Developer: Show Running Extensions');
    await session.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show Running Extensions' }).first().waitFor();
    await session.page.keyboard.press('Enter');
    const row = session.page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'ConvLens' });
    await row.waitFor({ timeout: 30_000 });
    assert.match(await row.innerText(), /web worker/);
    await screenshot(session.page, 'web-running-extensions');
    await session.page.keyboard.press('Control+W');
  });

  test('Visualize Layers on an ONNX export, then Grad-CAM of an image with it', async () => {
    await clickContextMenu(session.page, 'Visualize Layers', 'resnet-onnx', 'resnet.onnx');
    const viewer = await webviewFrame(session.page, '#layer-tree vscode-tree-item[data-layer-id="/conv1/Conv"]');
    assert.equal(await text(viewer, '#model-input'), '(None, 3, 64, 64)');
    await screenshot(session.page, 'web-onnx-layers');

    // The model open in the active viewer explains the image.
    await chooseFromContextMenu(session.page, await revealInExplorer(session.page, 'images', 'sneaker.png'), 'Explain with Grad-CAM');
    const frame = await webviewFrame(session.page, '.card canvas', 120_000);
    await frame.waitForFunction(() => /^Grad-CAM for/.test(document.querySelector('.card .caption')?.textContent ?? ''), undefined, {
      timeout: 120_000,
    });
    assert.match(await text(frame, '.card .caption'), /^Grad-CAM for “.+” \(class \d+, score [-\d.]+\) at .+$/);
    const range = await frame.$eval('.card canvas', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let min = 255;
      let max = 0;
      for (let i = 0; i < data.length; i += 4) [min, max] = [Math.min(min, data[i]), Math.max(max, data[i])];
      return max - min;
    });
    assert.ok(range > 100, `the overlay's red channel spans ${range}`);
    await screenshot(session.page, 'web-onnx-gradcam');
  });
});

async function text(frame: Frame, selector: string): Promise<string> {
  return ((await frame.textContent(selector)) ?? '').trim();
}
