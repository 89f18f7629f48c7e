/**
 * End to end, in a real VS Code: right-click the sample model in the explorer, choose Visualize Layers,
 * and check the layer tree in the webview and in the ConvLens sidebar, as a user would see them.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { repoRoot, sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { assertWasmBadge, clickContextMenu, contextMenuLabels, screenshot, webviewFrame } from '../support/workbench';

describe('Visualize Layers in VS Code', { skip: skipWithoutCodeServer, timeout: 240_000 }, () => {
  const session = workbenchSession(sampleWorkspace, {
    prepare: (workspace) => {
      writeFileSync(path.join(workspace, 'fashion-mnist-cnn', 'broken_model.json'), '{"modelTopology": {"class_name": "Seq');
      mkdirSync(path.join(workspace, 'xception'));
      copyFileSync(
        path.join(repoRoot, 'test', 'fixtures', 'keras', 'fer2013_mini_XCEPTION.102-0.66.hdf5'),
        path.join(workspace, 'xception', 'mini_xception.hdf5'),
      );
      mkdirSync(path.join(workspace, 'resnet-onnx'));
      copyFileSync(
        path.join(repoRoot, 'test', 'fixtures', 'onnx', 'resnet-basic-opset9', 'resnet-basic-opset9.onnx'),
        path.join(workspace, 'resnet-onnx', 'resnet.onnx'),
      );
    },
  });

  test('the explorer offers Visualize Layers on model files and Explain with Grad-CAM on images only', async () => {
    const onModel = await contextMenuLabels(session.page, 'fashion-mnist-cnn', 'model.json');
    await session.page.keyboard.press('Escape');
    const onImage = await contextMenuLabels(session.page, 'images', 'sneaker.png');
    await session.page.keyboard.press('Escape');
    const onLabels = await contextMenuLabels(session.page, 'fashion-mnist-cnn', 'labels.txt');
    await session.page.keyboard.press('Escape');
    assert.ok(onModel.includes('Visualize Layers'), `model.json menu: ${onModel.join(', ')}`);
    assert.ok(!onModel.includes('Explain with Grad-CAM'));
    assert.ok(onImage.includes('Explain with Grad-CAM'), `image menu: ${onImage.join(', ')}`);
    assert.ok(!onImage.includes('Visualize Layers'));
    assert.ok(!onLabels.includes('Visualize Layers') && !onLabels.includes('Explain with Grad-CAM'));
  });

  test('Visualize Layers shows the layer tree with output shapes and parameter counts in the webview', async () => {
    await clickContextMenu(session.page, 'Visualize Layers', 'fashion-mnist-cnn', 'model.json');
    const frame = await webviewFrame(session.page, '#layer-tree vscode-tree-item');
    assert.equal(await text(frame, '#model-name'), 'fashion_mnist_cnn');
    assert.equal(await text(frame, '#model-input'), '(None, 28, 28, 1)');
    assert.equal(await text(frame, '#model-output'), '(None, 10)');
    assert.equal(await text(frame, '#model-params'), '19,162 (19,162 trainable)');
    const rows = await frame.$$eval('#layer-tree vscode-tree-item .layer-row', (els) =>
      els.map((el) => [...el.children].map((c) => c.textContent)),
    );
    assert.deepEqual(rows, [
      ['rescale', 'Rescaling', '(None, 28, 28, 1)', '0'],
      ['conv1', 'Conv2D', '(None, 28, 28, 16)', '160'],
      ['pool1', 'MaxPooling2D', '(None, 14, 14, 16)', '0'],
      ['conv2', 'Conv2D', '(None, 14, 14, 32)', '4,640'],
      ['pool2', 'MaxPooling2D', '(None, 7, 7, 32)', '0'],
      ['conv3', 'Conv2D', '(None, 7, 7, 48)', '13,872'],
      ['gap', 'GlobalAveragePooling2D', '(None, 48)', '0'],
      ['predictions', 'Dense', '(None, 10)', '490'],
    ]);
    // WebGL is SwiftShader in this headless Chromium: TensorFlow.js runs on WebAssembly instead, and says so.
    await assertWasmBadge(frame);
    await screenshot(session.page, 'visualize-layers');
  });

  test('the ConvLens sidebar lists the same layers, and choosing one selects it in the webview', async () => {
    await session.page.locator('.activitybar .action-item a[aria-label^="ConvLens"]').click();
    const sidebarRows = session.page.locator('.pane:has(.pane-header:has-text("Layers")) .monaco-list-row');
    await sidebarRows.first().waitFor();
    const labels = await sidebarRows.evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label')));
    assert.deepEqual(labels, [
      'rescale, Rescaling · (None, 28, 28, 1) · 0 params',
      'conv1, Conv2D · (None, 28, 28, 16) · 160 params',
      'pool1, MaxPooling2D · (None, 14, 14, 16) · 0 params',
      'conv2, Conv2D · (None, 14, 14, 32) · 4,640 params',
      'pool2, MaxPooling2D · (None, 7, 7, 32) · 0 params',
      'conv3, Conv2D · (None, 7, 7, 48) · 13,872 params',
      'gap, GlobalAveragePooling2D · (None, 48) · 0 params',
      'predictions, Dense · (None, 10) · 490 params',
    ]);
    await session.page.locator('.pane:has(.pane-header:has-text("Layers")) .monaco-list-row[aria-label^="conv2,"]').click();
    const frame = await webviewFrame(session.page, '#layer-tree vscode-tree-item');
    await frame.waitForFunction(
      () => (document.querySelector('vscode-tree-item[data-layer-id="conv2"]') as { selected?: boolean } | null)?.selected === true,
    );
    const selected = await frame.$$eval('vscode-tree-item', (items) =>
      items.filter((i) => (i as unknown as { selected: boolean }).selected).map((i) => (i as HTMLElement).dataset.layerId),
    );
    assert.deepEqual(selected, ['conv2']);
    await screenshot(session.page, 'sidebar-layers');
  });

  test('a branching Keras model reads as folded blocks, which open to show their layers', async () => {
    await session.page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
    await clickContextMenu(session.page, 'Visualize Layers', 'xception', 'mini_xception.hdf5');
    const frame = await webviewFrame(session.page, '#layer-tree vscode-tree-item[data-layer-id="block:add_1"]');
    const top = await frame.$$eval('#layer-tree > vscode-tree-item', (items) => items.map((i) => (i as HTMLElement).dataset.layerId));
    assert.equal(top.length, 14);
    assert.deepEqual(
      top.filter((id) => id!.startsWith('block:')),
      ['block:add_1', 'block:add_2', 'block:add_3', 'block:add_4'],
    );
    const block = frame.locator('vscode-tree-item[data-layer-id="block:add_2"]');
    assert.equal(await block.evaluate((item) => (item as unknown as { open: boolean }).open), false, 'blocks start folded');
    // The block's own row (first) counts the parameters of the layers inside it.
    const [own, ...inside] = (await block.locator('.layer-params').allTextContents()).map((t) => Number(t.replace(/,/g, '')));
    assert.equal(inside.length, 9);
    assert.equal(
      own,
      inside.reduce((a, b) => a + b, 0),
    );
    await block.locator('.layer-name').first().click();
    const isOpen = () => block.evaluate((item) => (item as unknown as { open: boolean }).open);
    if (!(await isOpen())) await session.page.keyboard.press('ArrowRight');
    await frame.waitForFunction(
      () => (document.querySelector('vscode-tree-item[data-layer-id="block:add_2"]') as unknown as { open: boolean }).open,
    );
    // The first convolution's filters come from the weights, which the page reads with h5wasm: a script of
    // its own, which the page loads for HDF5 files only.
    await frame.waitForFunction(
      () => /^8 filters of 3×3/.test(document.getElementById('filters-description')?.textContent ?? ''),
      undefined,
      { timeout: 120_000 },
    );
    await screenshot(session.page, 'layer-blocks');
  });

  test('an ONNX export from PyTorch shows its own NCHW shapes: input, layers, sidebar and kernel', async () => {
    await clickContextMenu(session.page, 'Visualize Layers', 'resnet-onnx', 'resnet.onnx');
    const frame = await webviewFrame(session.page, '#layer-tree vscode-tree-item[data-layer-id="/conv1/Conv"]');
    assert.equal(await text(frame, '#model-input'), '(None, 3, 64, 64)');
    assert.equal(await text(frame, '#model-output'), '(None, 10)');
    const rows = await frame.$$eval('#layer-tree vscode-tree-item .layer-row', (els) =>
      els.slice(0, 4).map((el) => [...el.children].map((c) => c.textContent)),
    );
    assert.deepEqual(rows, [
      ['/conv1/Conv', 'Conv', '(None, 8, 32, 32)', '1,184'],
      ['/relu/Relu', 'Relu', '(None, 8, 32, 32)', '0'],
      ['/maxpool/MaxPool', 'MaxPool', '(None, 8, 16, 16)', '0'],
      ['/layer1/layer1.0/conv1/Conv', 'Conv', '(None, 8, 16, 16)', '584'],
    ]);
    // The inspector opens on the first convolution: its kernel as PyTorch holds it, (out, in, height, width).
    await frame.waitForFunction(() => (document.getElementById('filters-description')?.textContent ?? '').includes('Kernel shape'));
    assert.match(await text(frame, '#filters-description'), /Kernel shape \[8, 3, 7, 7\]\.$/);
    assert.equal(await text(frame, '#inspector-subtitle'), 'Conv · (None, 8, 32, 32) · 1,184 params');
    await screenshot(session.page, 'onnx-nchw-shapes');

    await session.page.locator('.activitybar .action-item a[aria-label^="ConvLens"]').click();
    const sidebarRow = session.page.locator('.pane:has(.pane-header:has-text("Layers")) .monaco-list-row').first();
    await session.page.waitForFunction(() =>
      [...document.querySelectorAll('.monaco-list-row')].some((row) => row.getAttribute('aria-label')?.startsWith('/conv1/Conv,')),
    );
    assert.equal(await sidebarRow.getAttribute('aria-label'), '/conv1/Conv, Conv · (None, 8, 32, 32) · 1,184 params');
    await screenshot(session.page, 'onnx-nchw-sidebar');
    await session.page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
  });

  test('a broken model file gets a one-sentence message naming it, not a stack trace', async () => {
    await clickContextMenu(session.page, 'Visualize Layers', 'fashion-mnist-cnn', 'broken_model.json');
    const frame = await webviewFrame(session.page, '#model-error');
    const message = await text(frame, '#model-error p');
    assert.equal(message, 'broken_model.json is not valid JSON, so it cannot be a TensorFlow.js model.');
    await screenshot(session.page, 'broken-model');
  });
});

async function text(frame: Frame, selector: string): Promise<string> {
  return ((await frame.textContent(selector)) ?? '').trim();
}
