/**
 * End to end, in a real VS Code: Analyze Images with an ONNX model runs its folder pass on ONNX Runtime
 * in the extension host (a worker thread) rather than in the webview, and the panel shows the same
 * views from it: the sample's SqueezeNet over its photos (real photos, PNG and JPEG, larger than the
 * model's input), a file that is not an image left out by name, top patches from a second native pass;
 * and when the model file is replaced by another network (a new checkpoint), the pass runs on the new one.
 */
import assert from 'node:assert/strict';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { repoRoot, sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { chooseFromContextMenu, pickModelIfAsked, revealInExplorer, screenshot, webviewFrame } from '../support/workbench';
import { waitFor, waitForText } from '../support/waiting';

function prepareWorkspace(workspace: string): void {
  writeFileSync(path.join(workspace, 'photos', 'notes.png'), 'not a picture');
  // One model in the workspace, so Analyze uses it without asking which.
  rmSync(path.join(workspace, 'fashion-mnist-cnn'), { recursive: true });
}

describe('Analyze Images with an ONNX model: the pass on the extension host', { skip: skipWithoutCodeServer, timeout: 300_000 }, () => {
  const session = workbenchSession(sampleWorkspace, {
    prepare: prepareWorkspace,
    userSettings: { 'convlens.reloadOnModelChange': 'always' },
  });
  let frame: Frame;

  test('the features come from ONNX Runtime in the extension host; the file that is not an image is named', async () => {
    await chooseFromContextMenu(session.page, await revealInExplorer(session.page, 'photos'), 'Analyze Images with Model');
    await pickModelIfAsked(session.page, 'squeezenet/SqueezeNet_fp16.onnx');
    frame = await webviewFrame(session.page, '#folder-name', 120_000);
    await waitForText(frame, '#map-note', /^PCA of \S+ features: 4 images/, 120_000);
    assert.match(
      (await frame.textContent('#analyze-status')) ?? '',
      /^Features of \S+ for 4 images \(ONNX Runtime in the extension host\)\.$/,
    );
    assert.match((await frame.textContent('.left-out')) ?? '', /^Left out: notes\.png is not an image ConvLens can decode/);
    await screenshot(session.page, 'analyze-native-map');
  });

  test('top patches of a channel: a second pass on the host, four images ranked', async () => {
    await frame.click('[data-tab="patches"]');
    await frame.fill('#patch-channel', '3');
    await frame.dispatchEvent('#patch-channel', 'change');
    await waitForText(frame, '#patch-note', /^The 4 images where \S+ channel 3 peaks highest, strongest first/, 120_000);
    assert.equal(await frame.locator('.patch-results .tile').count(), 4);
    await screenshot(session.page, 'analyze-native-patches');
  });

  test('the model file replaced by another network: the page reloads and the host runs the new one', async () => {
    const model = path.join(session.server.workspace, 'squeezenet', 'SqueezeNet_fp16.onnx');
    copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'explain', 'resnet_small.onnx'), model);
    // The panel rebuilds its page on the new file (convlens.reloadOnModelChange: always).
    const old = frame;
    await waitFor(
      () => old.isDetached(),
      60_000,
      () => 'the page was not rebuilt on the new model file',
    );
    frame = await webviewFrame(session.page, '#folder-name', 120_000);
    // The small ResNet's penultimate layer; run on the workers' old SqueezeNet it would not exist.
    await waitForText(
      frame,
      '#analyze-status',
      /^Features of \S*[Ff]latten\S* for 4 images \(ONNX Runtime in the extension host\)\.$/,
      120_000,
    );
    await screenshot(session.page, 'analyze-native-new-checkpoint');
  });
});
