/**
 * End to end, in a real VS Code, with a real photo and a real ImageNet model: a workspace holding the
 * shared caffe2 SqueezeNet and a photo of a cat. Explain with Grad-CAM, with no setting touched, says
 * "cat" (the preprocessing comes from the file: a caffe2 export takes BGR, 0–255, mean-subtracted);
 * with a wrong preprocessing in the sidecar it offers the right one, and one click saves it and fixes
 * the prediction, keeping the user's own keys in the sidecar.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { WORKER_NAME } from '../../src/engine/metrics/perturbationThread';
import { OVERLAY_PAINTED, type OverlayPainted } from '../../src/shared/explainProtocol';
import { sharedModels } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { temporaryFolder } from '../support/temporaryFolders';
import { chooseFromContextMenu, revealInExplorer, runCommand, screenshot, webviewFrame, workerNames } from '../support/workbench';
import { waitFor } from '../support/waiting';

const modelFolder = path.join(sharedModels, 'onnx-squeezenet1.0-fp16-imagenet');
const catPhoto = path.join(sharedModels, '..', 'images', 'chelsea.png');
const skip =
  skipWithoutCodeServer ||
  (existsSync(modelFolder) && existsSync(catPhoto) ? false : `shared model or photo not found: ${modelFolder}, ${catPhoto}`);
/** ImageNet's domestic cats: tabby, tiger cat, Persian, Siamese, Egyptian cat. */
const CAT_CLASSES = ['281', '282', '283', '284', '285'];
const SIDECAR = 'SqueezeNet_fp16.onnx.convlens.json';

/** The workspace a user would have: the model folder as downloaded, and their photo. */
function photoWorkspace(): string {
  const workspace = temporaryFolder('convlens-photo-');
  mkdirSync(path.join(workspace, 'squeezenet'));
  for (const file of readdirSync(modelFolder)) copyFileSync(path.join(modelFolder, file), path.join(workspace, 'squeezenet', file));
  copyFileSync(catPhoto, path.join(workspace, 'chelsea.png'));
  return workspace;
}

describe('Explain a photo with a real ImageNet model', { skip, timeout: 600_000 }, () => {
  const session = workbenchSession(skip ? '.' : photoWorkspace());

  test('with no setting touched, the caffe2 SqueezeNet says the cat is a cat', async () => {
    await explainCat();
    const frame = await webviewFrame(session.page, '.card canvas', 180_000);
    await waitForCaption(frame, /^Grad-CAM for/);
    const top = await topPrediction(frame);
    assert.ok(CAT_CLASSES.includes(top.index), `top prediction ${top.label} (class ${top.index}) is a cat`);
    assert.match(top.label, /cat/);
    assert.match((await frame.textContent('#preprocessing')) ?? '', /^224x224, bgr, scale caffe$/);
    assert.match((await frame.textContent('#preprocessing-reason')) ?? '', /caffe2 export: BGR, 0–255, mean-subtracted/);
    assert.equal(await frame.$eval('#preprocessing-suggestion', (el) => (el as HTMLElement).hidden), true, 'nothing to suggest');
    assert.equal(existsSync(path.join(session.server.workspace, 'squeezenet', SIDECAR)), false, 'no file written');
    await screenshot(session.page, 'explain-photo-cat');
  });

  test("the first overlay comes from VS Code's side while the model loads into the panel, then the panel's own, of the same class", async () => {
    const frame = await webviewFrame(session.page, '.card .caption');
    const painted = await frame.evaluate(
      (name) => performance.getEntriesByName(name).map((mark) => (mark as PerformanceMark).detail as OverlayPainted),
      OVERLAY_PAINTED,
    );
    assert.deepEqual(
      painted.map((p) => p.from),
      ['host', 'page'],
    );
    assert.deepEqual(painted[0].classIndex, painted[1].classIndex);
    assert.ok(CAT_CLASSES.includes(String(painted[0].classIndex[0])), `the host's class ${painted[0].classIndex[0]} is a cat`);
  });

  test('Segment object cuts the cat out of the photo along its Grad-CAM map', async () => {
    const frame = await webviewFrame(session.page, '.card .segment-button');
    await frame.click('.card .segment-button');
    await frame.waitForSelector('.segmentation-caption', { timeout: 60_000 });
    const caption = ((await frame.textContent('.segmentation-caption')) ?? '').trim();
    const match = /^The object as Grad-CAM seeds it: ([\d.]+)% of the image, x (\d+)–(\d+), y (\d+)–(\d+)\.$/.exec(caption);
    assert.ok(match, caption);
    const share = Number(match[1]);
    assert.ok(share > 10 && share < 95, `the cat covers ${share}% of the photo`);
    // The outline is drawn in cyan over the photo.
    const cyan = await frame.$eval('.segmentation-outline', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let count = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] === 0 && data[i + 1] === 255 && data[i + 2] === 255) count++;
      return count;
    });
    assert.ok(cyan > 100, `${cyan} outline pixels`);
    await screenshot(session.page, 'explain-photo-segment');
  });

  test("Check this explanation on the photo: ROAD's imputations run on the page's worker", async () => {
    const frame = await webviewFrame(session.page, '.card .caption');
    const card = frame.locator('.card').first();
    await card.getByRole('button', { name: 'Check this explanation' }).click();
    const results = card.locator('.check-results');
    await results.waitFor({ timeout: 300_000 });
    const metric = async (key: string) => Number(((await results.locator(`[data-metric="${key}"] dd`).textContent()) ?? '').trim());
    const morf = await metric('road-morf');
    const lerf = await metric('road-lerf');
    assert.ok(Number.isFinite(morf) && Number.isFinite(lerf) && Math.abs(morf) <= 1 && Math.abs(lerf) <= 1, `MoRF ${morf}, LeRF ${lerf}`);
    // At 224 × 224 the page starts its imputation worker (dist/webview/imputationWorker.js, from a blob), and
    // the policy lets it run: it answers from inside (the workbench has blob workers of its own).
    const names = await workerNames(session.page);
    assert.ok(names.includes(WORKER_NAME), `the workers that answer: ${names.join(', ') || 'none'}`);
    await results.scrollIntoViewIfNeeded();
    await screenshot(session.page, 'explain-photo-check');
  });

  test('a wrong preprocessing in the sidecar gets the suggestion; one click saves it and the cat is back', async () => {
    // The first panel closed, as a user done with it would: an open one would rightly offer to reload on the new sidecar.
    await runCommand(session.page, 'View: Close All Editors');
    await session.page.locator('.tab', { hasText: 'Explain:' }).first().waitFor({ state: 'detached' });
    const sidecar = path.join(session.server.workspace, 'squeezenet', SIDECAR);
    writeFileSync(sidecar, JSON.stringify({ scale: 'torch', channels: 'rgb', note: 'kept' }));
    await explainCat();
    const frame = await webviewFrame(session.page, '#preprocessing-suggestion:not([hidden])', 240_000);
    const wrong = await topPrediction(frame);
    assert.ok(!CAT_CLASSES.includes(wrong.index), `with torch mean/std the model says ${wrong.label}`);
    const offer = (await frame.textContent('#preprocessing-suggestion')) ?? '';
    assert.match(
      offer,
      /^Predictions look uncertain \(“.+” \d+\.\d%\)\. With BGR, 0–255, mean-subtracted \(caffe\) the model says “Egyptian cat” 6\d\.\d%\./,
    );
    assert.match(
      (await frame.textContent('#use-suggestion')) ?? '',
      /^Use BGR, 0–255, mean-subtracted \(caffe\) \(saves SqueezeNet_fp16\.onnx\.convlens\.json\)$/,
    );
    await screenshot(session.page, 'explain-photo-suggestion');

    await frame.click('#use-suggestion');
    await waitFor(
      async () =>
        /caffe \(from SqueezeNet_fp16\.onnx\.convlens\.json\)$/.test((await frame.textContent('#preprocessing').catch(() => '')) ?? ''),
      120_000,
      () => 'the page never restarted with the saved preprocessing',
    );
    await waitForCaption(frame, /^Grad-CAM for/);
    const fixed = await topPrediction(frame);
    assert.ok(CAT_CLASSES.includes(fixed.index), `after the click the model says ${fixed.label}`);
    assert.deepEqual(JSON.parse(readFileSync(sidecar, 'utf8')), { scale: 'caffe', channels: 'bgr', note: 'kept' });
    assert.equal(await frame.$eval('#preprocessing-suggestion', (el) => (el as HTMLElement).hidden), true);
    // The user saved it by clicking: ConvLens does not then ask whether to reload for a changed file.
    await session.page.waitForTimeout(3000);
    const notes = await session.page.locator('.notification-toast .notification-list-item-message').allTextContents();
    assert.deepEqual(
      notes.filter((note) => /changed on disk/.test(note)),
      [],
    );
    await screenshot(session.page, 'explain-photo-fixed');
  });

  /** Runs a command from the Command Palette, as a user does (F1 again until the palette opens). */
  async function explainCat(): Promise<void> {
    const row = await revealInExplorer(session.page, 'chelsea.png');
    await row.click();
    await session.page.waitForTimeout(1500);
    await chooseFromContextMenu(session.page, row, 'Explain with Grad-CAM');
  }
});

async function topPrediction(frame: Frame): Promise<{ index: string; label: string }> {
  const first = frame.locator('.card .prediction').first();
  return {
    index: (await first.getAttribute('data-class')) ?? '',
    label: ((await first.locator('.prediction-label').textContent()) ?? '').trim(),
  };
}

async function waitForCaption(frame: Frame, pattern: RegExp): Promise<void> {
  await waitFor(
    async () => pattern.test(((await frame.locator('.card .caption').first().textContent()) ?? '').trim()),
    180_000,
    () => `the caption never matched ${pattern}`,
  );
}
