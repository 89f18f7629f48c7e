/**
 * End to end, in a real VS Code: the Map tab of Analyze Images over 200 Fashion-MNIST test images,
 * with the classifier's decision regions behind the PCA, t-SNE and UMAP maps (the note states how often
 * the region under a dot is the model's prediction: every time for PCA, at least 95% for the others,
 * since cells are split where a dot disagrees with its cell), then the dots coloured by their dominant
 * concept from deep feature factorisation, with a legend of each concept's top classes and a strip of
 * each concept's top images.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { skipWithoutFashionMnist, writeFashionFolder } from '../support/fashionMnist';
import { sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { chooseFromContextMenu, pickModelIfAsked, revealInExplorer, screenshot, webviewFrame } from '../support/workbench';
import { waitFor, waitForText } from '../support/waiting';

const IMAGES = 200;

describe(
  'Decision regions and concepts on the Analyze map',
  { skip: skipWithoutCodeServer || skipWithoutFashionMnist, timeout: 400_000 },
  () => {
    const session = workbenchSession(sampleWorkspace, {
      prepare: (workspace) => writeFashionFolder(path.join(workspace, 'regions'), IMAGES),
    });
    let frame: Frame;

    test('the PCA map over its decision regions: the region under every dot is its prediction', async () => {
      await chooseFromContextMenu(session.page, await revealInExplorer(session.page, 'regions'), 'Analyze Images with Model');
      await pickModelIfAsked(session.page, 'fashion-mnist-cnn/model.json');
      frame = await webviewFrame(session.page, '#folder-name', 120_000);
      await waitForText(frame, '#map-note', new RegExp(`^PCA of gap features: ${IMAGES} images`));
      const before = await canvasColours(frame);
      await frame.check('#map-regions');
      await waitForText(frame, '#regions-note', /agree\)\.$/);
      assert.equal(await agreementIn(frame), 100);
      assert.match(
        (await frame.textContent('#regions-note')) ?? '',
        new RegExp(
          `^Decision regions: the background shows the class the classifier after gap gives at each point of the map \\(256×256 cells, ` +
            `halved up to 6 times where a dot's prediction differs, .*The region under a dot is the model's prediction for ${IMAGES} of ${IMAGES} images`,
        ),
      );
      // The background is painted: far more distinct colours than the dots alone on the empty canvas.
      const after = await canvasColours(frame);
      assert.ok(after.painted > before.painted * 5, `painted pixels ${before.painted} → ${after.painted}`);
      // Dots keep the class folders' colours; the legend lists every class.
      assert.equal(await frame.locator('.map-legend li').count(), 10);
      await screenshot(session.page, 'analyze-regions-pca');
    });

    test('t-SNE over its regions', async () => {
      await frame.selectOption('#map-method', 'tsne');
      await waitForText(frame, '#map-note', new RegExp(`^t-SNE of gap features: ${IMAGES} images`));
      await waitForText(frame, '#regions-note', /agree\)\.$/);
      const agreement = await agreementIn(frame);
      assert.ok(agreement >= 95, `agreement ${agreement}%`);
      await screenshot(session.page, 'analyze-regions-tsne');
    });

    test('UMAP over its regions', async () => {
      await frame.selectOption('#map-method', 'umap');
      await waitForText(frame, '#map-note', new RegExp(`^UMAP of gap features: ${IMAGES} images`));
      await waitForText(frame, '#regions-note', /agree\)\.$/);
      const agreement = await agreementIn(frame);
      assert.ok(agreement >= 95, `agreement ${agreement}%`);
      await screenshot(session.page, 'analyze-regions-umap');
    });

    test('colour by concepts: a legend of each concept with its top classes, and its top images', async () => {
      await frame.uncheck('#map-regions');
      await frame.selectOption('#map-colour', 'concepts');
      await waitFor(
        async () => (await frame.locator('.concept-row').count()) === 5,
        120_000,
        () => 'no five concept rows',
      );
      const legend = (await frame.locator('.map-legend li').allTextContents()).map((t) => t.trim());
      assert.equal(legend.length, 5);
      for (const [j, line] of legend.entries()) assert.match(line, new RegExp(`^Concept ${j + 1}: [^,]+ \\d+%, [^,]+ \\d+%, [^,]+ \\d+%$`));
      assert.match((await frame.textContent('.concepts h3')) ?? '', /^Concepts of conv3 \(deep feature factorisation, k = 5\)$/);
      await waitFor(
        async () => (await frame.locator('.concept-strip canvas').count()) === 30,
        30_000,
        () => 'the strips have no 6 images each',
      );
      await screenshot(session.page, 'analyze-concepts');
      await frame.locator('.concepts').scrollIntoViewIfNeeded();
      await screenshot(session.page, 'analyze-concepts-strip');

      // An image of the first concept's strip: its concepts drawn over it, and their shares.
      const tile = frame.locator('.concept-row[data-concept="0"] .concept-strip button').first();
      const share = /· (\d+)% concept 1$/.exec((await tile.getAttribute('title')) ?? '')?.[1];
      assert.ok(share, 'the tile says its share of concept 1');
      await tile.click();
      await waitForText(frame, '.concept-image .caption', /^Concepts in /, 30_000);
      const entries = (await frame.locator('.concept-image-legend li').allTextContents()).map((t) => t.trim());
      assert.equal(entries.length, 5);
      const shares = entries.map((entry) => Number(/^(\d+)%/.exec(entry)?.[1]));
      assert.deepEqual(
        shares,
        [...shares].sort((a, b) => b - a),
        'largest share first',
      );
      assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 100) <= 3, `shares ${shares.join(', ')} sum to 100%`);
      assert.ok(
        entries.some((entry) => entry.startsWith(`${share}% · Concept 1: `)),
        `concept 1 at ${share}% in ${JSON.stringify(entries)}`,
      );
      const colours = await frame.$eval('.concept-image-canvas', (c) => {
        const canvas = c as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        const seen = new Set<string>();
        for (let i = 0; i < data.length; i += 4) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
        return seen.size;
      });
      assert.ok(colours > 20, `the concepts are drawn (${colours} colours)`);
      await frame.locator('.concept-image').scrollIntoViewIfNeeded();
      await screenshot(session.page, 'analyze-image-concepts');
      await frame.selectOption('#map-concepts', '3');
      await waitFor(
        async () => (await frame.locator('.concept-row').count()) === 3,
        120_000,
        () => 'no three concept rows',
      );
      assert.equal(await frame.locator('.map-legend li').count(), 3);
    });
  },
);

/** The agreement figure of the regions note, in percent. */
async function agreementIn(frame: Frame): Promise<number> {
  const text = (await frame.textContent('#regions-note')) ?? '';
  const match = /\((\d+(?:\.\d+)?)% agree\)/.exec(text);
  assert.ok(match, text);
  return Number(match[1]);
}

/** How many of the map's pixels are painted (not transparent). */
async function canvasColours(frame: Frame): Promise<{ painted: number }> {
  return frame.$eval('.map-canvas', (canvas) => {
    const c = canvas as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return { painted };
  });
}
