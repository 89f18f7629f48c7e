/**
 * End to end, in a real VS Code: with a second checkpoint of the sample model in the workspace (one
 * epoch, another seed: test/fixtures/checkpoints/), select both model.json files in the explorer,
 * choose Compare Models, and check the panel as a user sees it — a row per layer with how far its
 * weights moved, the images whose prediction changed, and each image's maps under both models with
 * their difference; then another method and the table sorted by change.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { repoRoot, sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { assertWasmBadge, chooseForSelection, explorerRow, revealInExplorer, screenshot, webviewFrame } from '../support/workbench';
import { waitFor } from '../support/waiting';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'checkpoints');
/** The reference's model A is the sample model; here the checkpoint is selected first, so it is model A. */
const reference: { weights: { layers: { layer: string }[] }; images: { name: string; a: { index: number }[]; b: { index: number }[] }[] } =
  JSON.parse(readFileSync(path.join(fixtures, 'reference.json'), 'utf8'));
const changedImages = reference.images.filter((image) => image.a[0].index !== image.b[0].index).map((image) => image.name);

describe('Compare Models in VS Code', { skip: skipWithoutCodeServer, timeout: 300_000 }, () => {
  const session = workbenchSession(sampleWorkspace, {
    prepare: (workspace) =>
      cpSync(path.join(fixtures, 'fashion-mnist-epoch1'), path.join(workspace, 'checkpoints', 'fashion-mnist-epoch1'), { recursive: true }),
  });
  let frame: Frame;

  test('two model files selected in the explorer: weight change per layer and the images that changed prediction', async () => {
    // Both folders open first: clicking a folder would select it instead of the first model.
    await revealInExplorer(session.page, 'checkpoints', 'fashion-mnist-epoch1', 'model.json');
    await revealInExplorer(session.page, 'fashion-mnist-cnn', 'labels.txt');
    const sample = explorerRow(session.page, 'model.json').nth(1);
    await chooseForSelection(
      session.page,
      [explorerRow(session.page, 'model.json').first(), sample],
      'Compare Models',
      'Compare: checkpoints/fashion-mnist-epoch1/model.json ↔ fashion-mnist-cnn/model.json',
    );

    frame = await webviewFrame(session.page, '#weights-table', 120_000);
    assert.equal((await frame.textContent('#model-a'))?.trim(), 'checkpoints/fashion-mnist-epoch1/model.json');
    assert.equal((await frame.textContent('#model-b'))?.trim(), 'fashion-mnist-cnn/model.json');
    await assertWasmBadge(frame);

    // One row per layer with weights, each moved (two trainings from different seeds), with its histogram.
    const rows = await frame.$$eval('.weights-row', (els) =>
      els.map((el) => ({
        layer: (el as HTMLElement).dataset.layer,
        change: Number((el as HTMLElement).dataset.change),
        shown: el.querySelector('.change-value')!.textContent,
        histogram: el.querySelector('canvas') !== null,
      })),
    );
    assert.deepEqual(
      rows.map((r) => r.layer),
      reference.weights.layers.map((l) => l.layer),
    );
    for (const row of rows) {
      assert.ok(row.change > 0.1, `${row.layer} moved ${row.change}`);
      assert.equal(row.shown, row.change.toFixed(3));
      assert.ok(row.histogram, `${row.layer} has a histogram`);
    }

    // Which images changed prediction, said once and marked on each card.
    assert.ok(changedImages.length > 0);
    assert.equal(
      (await frame.textContent('#compare-summary'))?.trim(),
      `${changedImages.length} of ${reference.images.length} images changed prediction`,
    );
    const cards = await frame.$$eval('.compare-card', (els) =>
      els.map((el) => ({
        name: (el as HTMLElement).dataset.image,
        changed: el.classList.contains('changed'),
        badge: el.querySelector('.changed-badge')?.textContent?.trim(),
        topA: el.querySelector('.predictions[data-model="A"] .prediction-label')!.textContent,
        topB: el.querySelector('.predictions[data-model="B"] .prediction-label')!.textContent,
        predictions: el.querySelectorAll('.prediction').length,
      })),
    );
    assert.deepEqual(
      cards.map((c) => c.name),
      reference.images.map((i) => i.name),
    );
    for (const card of cards) {
      assert.equal(card.predictions, 6, `${card.name}: top-3 under each model`);
      assert.equal(card.changed, changedImages.includes(card.name!), card.name);
      assert.equal(card.badge, card.changed ? 'prediction changed' : undefined, card.name);
      assert.equal(card.topA !== card.topB, card.changed, `${card.name}: ${card.topA} → ${card.topB}`);
    }
    await screenshot(session.page, 'compare-models-weights');
  });

  test('each image: Grad-CAM under A and B, and their difference', async () => {
    await waitForCaptions(frame, /^A: Grad-CAM for “.+” at conv3$/);
    const figures = await frame.$$eval('.compare-card', (els) =>
      els.map((el) =>
        [...el.querySelectorAll('figure')].map((figure) => {
          const canvas = figure.querySelector('canvas') as HTMLCanvasElement;
          const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let sum = 0;
          for (let i = 0; i < data.length; i += 4) sum += data[i] + 2 * data[i + 1] + 3 * data[i + 2];
          return { map: (figure as HTMLElement).dataset.map, size: [canvas.width, canvas.height], sum };
        }),
      ),
    );
    for (const card of figures) {
      assert.deepEqual(
        card.map((f) => f.map),
        ['A', 'B', 'B − A'],
      );
      for (const figure of card) assert.deepEqual(figure.size, [28, 28]);
      // Three different pictures: A's map, B's map, and the difference in another colormap.
      assert.equal(new Set(card.map((f) => f.sum)).size, 3);
    }
    const captions = await frame.locator('.compare-card').first().locator('figcaption').allTextContents();
    assert.match(captions[1], /^B: Grad-CAM for “.+” at conv3$/);
    assert.match(captions[2], /^B − A: red where B looks more, blue less \(largest \d\.\d\d\)$/);
    await frame.locator('.compare-card.changed').first().scrollIntoViewIfNeeded();
    await screenshot(session.page, 'compare-models-images');
  });

  test('another method re-explains under both models; the table sorts by change', async () => {
    await frame.selectOption('#method-select', 'gradcam++');
    await waitForCaptions(frame, /^A: Grad-CAM\+\+ for/);
    await frame.selectOption('#class-select', 'b');
    const changed = frame.locator('.compare-card.changed').first();
    const topB = ((await changed.locator('.predictions[data-model="B"] .prediction-label').first().textContent()) ?? '').trim();
    await waitFor(
      async () => ((await changed.locator('figcaption').first().textContent()) ?? '').includes(`“${topB}”`),
      60_000,
      () => `the maps never explained B's prediction ${topB}`,
    );
    await frame.selectOption('#weights-order', 'change');
    const changes = await frame.$$eval('.weights-row', (els) => els.map((el) => Number((el as HTMLElement).dataset.change)));
    assert.deepEqual(
      changes,
      [...changes].sort((x, y) => y - x),
    );
    await frame.locator('#weights-table').scrollIntoViewIfNeeded();
    await screenshot(session.page, 'compare-models-sorted');
  });
});

async function waitForCaptions(frame: Frame, pattern: RegExp): Promise<void> {
  await waitFor(
    async () => {
      const captions = await frame.$$eval('.compare-card figure:first-child figcaption', (els) => els.map((el) => el.textContent ?? ''));
      return captions.length > 0 && captions.every((c) => pattern.test(c));
    },
    120_000,
    () => `the captions never matched ${pattern}`,
  );
}
