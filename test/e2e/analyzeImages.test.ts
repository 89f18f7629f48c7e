/**
 * End to end, in a real VS Code: right-click a folder of Fashion-MNIST images (one subfolder per
 * class, one file that is not an image) → Analyze Images with Model, and use every view as a person
 * would: the map (another method, a click on a dot), nearest neighbours, top patches with the
 * receptive field outlined, what a channel looks for (activation maximisation), the faithfulness of
 * two explanation methods over a sample, the confusion matrix and a mistake's Grad-CAM; then the
 * feature cache (a layer switched back, the folder analysed again).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { writePng } from '../../src/node/pngFile';
import { fashionMnistTest, skipWithoutFashionMnist, writeFashionFolder } from '../support/fashionMnist';
import { sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import {
  assertWasmBadge,
  chooseFromContextMenu,
  pickModelIfAsked,
  revealInExplorer,
  screenshot,
  webviewFrame,
  workerNames,
} from '../support/workbench';
import { DECODE_WORKER } from '../../webview/analyze/batchDecoding';
import { waitFor, waitForText } from '../support/waiting';

async function prepareWorkspace(workspace: string): Promise<void> {
  await writeFashionFolder(path.join(workspace, 'fashion'), 100);
  writeFileSync(path.join(workspace, 'fashion', 'bag', 'notes.png'), 'not a picture');
  // One model in the workspace, so Analyze uses it without asking which.
  rmSync(path.join(workspace, 'squeezenet'), { recursive: true });
}

describe('Analyze Images with Model in VS Code', { skip: skipWithoutCodeServer || skipWithoutFashionMnist, timeout: 400_000 }, () => {
  const session = workbenchSession(sampleWorkspace, { prepare: prepareWorkspace });
  let frame: Frame;

  test('right-click a folder: a PCA map of 100 images coloured by class folder; the file that is not an image is named', async () => {
    await chooseFromContextMenu(session.page, await revealInExplorer(session.page, 'fashion'), 'Analyze Images with Model');
    await pickModelIfAsked(session.page, 'fashion-mnist-cnn/model.json');
    frame = await webviewFrame(session.page, '#folder-name', 120_000);
    await waitForText(frame, '#map-note', /^PCA of gap features: 100 images/);
    assert.equal(await frame.textContent('#folder-name'), 'fashion');
    await assertWasmBadge(frame);
    assert.match((await frame.textContent('#classes')) ?? '', /^10 subfolders, 10 matching the model's classes$/);
    assert.match((await frame.textContent('.left-out')) ?? '', /^Left out: bag\/notes\.png is not an image ConvLens can decode/);
    assert.equal((await frame.textContent('#analyze-status'))?.trim(), 'Features of gap for 100 images.');
    // The images were decoded on the page's worker (dist/webview/decodeWorker.js, from a blob), which the policy lets run.
    const workers = await workerNames(session.page);
    assert.ok(workers.includes(DECODE_WORKER), `the workers that answer: ${workers.join(', ') || 'none'}`);
    const legend = (await frame.locator('.map-legend li').allTextContents()).map((t) => t.trim());
    assert.deepEqual(legend, ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    await screenshot(session.page, 'analyze-map-pca');
  });

  test('UMAP, then a click on a dot shows its image with what to do next', async () => {
    await frame.selectOption('#map-method', 'umap');
    await waitForText(frame, '#map-note', /^UMAP of gap features: 100 images/);
    await screenshot(session.page, 'analyze-map-umap');
    // Find a drawn dot the way a person finds one: by looking for colour on the canvas.
    const dot = await frame.$eval('.map-canvas', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const ratio = c.width / c.getBoundingClientRect().width;
      for (let y = 0; y < c.height; y++) {
        for (let x = 0; x < c.width; x++) {
          const i = (y * c.width + x) * 4;
          if (data[i + 3] === 255) return { x: (x + 2) / ratio, y: (y + 3) / ratio };
        }
      }
      return undefined;
    });
    assert.ok(dot, 'the map has dots');
    await frame.locator('.map-canvas').click({ position: dot! });
    await frame.locator('#image-preview[open]').waitFor();
    assert.match((await frame.textContent('#image-preview .caption')) ?? '', /^[a-z-]+\/test-\d{3}\.png · [a-z-]+ · predicted /);
    await frame.getByRole('button', { name: 'Nearest neighbours' }).click();
  });

  test('nearest neighbours of an image mostly share its class', async () => {
    await frame.fill('#neighbours-query', 'sneaker/test-009.png');
    await frame.press('#neighbours-query', 'Enter');
    await frame.dispatchEvent('#neighbours-query', 'change');
    await waitForText(frame, '.neighbours-results h3:nth-of-type(2)', /^10 nearest by cosine distance in gap$/);
    await waitFor(async () => ((await frame.textContent('.neighbours-results .tile-caption')) ?? '').startsWith('sneaker/test-009.png'));
    const captions = await frame.locator('.neighbours-results ul[aria-label="Nearest images"] .tile-caption').allTextContents();
    assert.equal(captions.length, 10);
    const sneakers = captions.filter((c) => / · sneaker$/.test(c.trim())).length;
    assert.ok(sneakers >= 6, `neighbours: ${captions.join(' | ')}`);
    await screenshot(session.page, 'analyze-neighbours');
  });

  test('top patches of a channel, each opening its image with the receptive field outlined', async () => {
    await frame.click('[data-tab="patches"]');
    await frame.fill('#patch-channel', '5');
    await frame.dispatchEvent('#patch-channel', 'change');
    await waitForText(
      frame,
      '#patch-note',
      /^The 16 images where conv3 channel 5 peaks highest, strongest first; each patch is the unit's receptive field, \d+×\d+ input pixels/,
    );
    assert.equal(await frame.locator('.patch-results .tile').count(), 16);
    await screenshot(session.page, 'analyze-top-patches');
    await frame.locator('.patch-results .tile-open').first().click();
    await waitForText(frame, '#image-preview .caption', /outlined: the unit's receptive field, x \d+–\d+, y \d+–\d+$/);
    await screenshot(session.page, 'analyze-patch-in-image');
    await frame.getByRole('button', { name: 'Close' }).click();
  });

  test("what a channel looks for: a synthesised image drawn live, beside the folder's top patches; Stop ends a run", async () => {
    await frame.click('[data-tab="patches"]');
    await frame.click('#patch-looks-for');
    assert.equal(await frame.getAttribute('[data-tab="maximize"]', 'aria-selected'), 'true');
    assert.equal(await frame.inputValue('#maximize-target'), 'conv3');
    assert.equal(await frame.inputValue('#maximize-channel'), '5');
    await frame.selectOption('#maximize-steps', '64');
    await frame.click('#maximize-run');
    await waitForText(frame, '#maximize-note', /^What conv3 channel 5 looks for: 64 steps of gradient ascent \(seed 1\)/);
    await waitFor(async () => (await frame.locator('.maximize-patches .tile').count()) === 9);
    const chart = (await frame.getAttribute('#maximize-chart', 'aria-label')) ?? '';
    const [first, last] = [...chart.matchAll(/-?\d+\.\d+/g)].map((m) => Number(m[0]));
    assert.ok(last > first + 0.5, `the objective rises: ${chart}`);
    // The picture is an image, not a flat grey square.
    const spread = await frame.$eval('#maximize-picture', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const values = Array.from({ length: data.length / 4 }, (_, i) => data[4 * i]);
      return { width: c.width, range: Math.max(...values) - Math.min(...values) };
    });
    assert.equal(spread.width, 28);
    assert.ok(spread.range > 100, `pixel range ${spread.range}`);
    await screenshot(session.page, 'analyze-looks-for');

    // Export PNG: saved beside the folder (in it, the picture would join the images analysed), enlarged
    // 8× with sharp pixels as shown (28 → 224).
    await frame.click('#maximize-export');
    const input = session.page.locator('.quick-input-widget input');
    await input.waitFor();
    await waitFor(
      async () => /workspace\/looks-for-conv3-channel-5\.png$/.test(await input.inputValue()),
      10_000,
      () => 'the save dialog never suggested workspace/looks-for-conv3-channel-5.png',
    );
    await input.press('Enter');
    const saved = path.join(session.server.workspace, 'looks-for-conv3-channel-5.png');
    await waitFor(() => existsSync(saved) && readFileSync(saved).length > 24);
    const png = readFileSync(saved);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [224, 224], 'width and height in the IHDR chunk');

    await frame.selectOption('#maximize-target', '(class score)');
    await frame.selectOption('#maximize-class', { label: 'Trouser' });
    await frame.selectOption('#maximize-steps', '512');
    await frame.click('#maximize-run');
    await waitForText(frame, '#maximize-note', /^Step \d+ of 512/);
    await frame.click('#maximize-stop');
    await waitForText(frame, '#maximize-note', /^Stopped/);
    assert.equal(await frame.locator('.maximize-patches .tile').count(), 0, 'a class has no top patches');
  });

  test('faithfulness of two methods on a sample of 8 images: means ± standard errors, the most faithful marked, sortable', async () => {
    await frame.click('[data-tab="faithfulness"]');
    await frame.selectOption('#faithfulness-count', '8');
    for (const box of await frame.locator('#faithfulness-methods input[type="checkbox"]').all()) await box.setChecked(false);
    await frame.check('#faithfulness-method-gradcam');
    await frame.check('#faithfulness-method-saliency');
    await frame.click('#faithfulness-run');
    await waitForText(frame, '#faithfulness-note', /^Faithfulness of 2 methods on 8 images \(a sample spread over the classes\)/);
    const header = (await frame.locator('#faithfulness-table thead th').allTextContents()).map((t) => t.trim());
    assert.deepEqual(header, [
      'Method',
      'ROAD combined',
      'ROAD MoRF',
      'ROAD LeRF',
      'Deletion AUC',
      'Insertion AUC',
      'Average drop %',
      'Increase in confidence %',
    ]);
    const table = async () =>
      frame
        .locator('#faithfulness-table tbody tr')
        .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent!.trim())));
    const rows = await table();
    assert.deepEqual(
      rows.map((row) => row[0]),
      ['Grad-CAM', 'Gradient saliency'],
    );
    // Probability differences, areas under curves of probabilities, percentages.
    const ranges: [number, number][] = [
      [-1, 1],
      [-1, 1],
      [-1, 1],
      [0, 1],
      [0, 1],
      [0, 100],
      [0, 100],
    ];
    const cells = rows.map((row) =>
      row.slice(1).map((text) => {
        const match = /^(-?\d+\.\d+) ± (\d+\.\d+)( ★)?$/.exec(text);
        assert.ok(match, `a mean ± standard error: "${text}"`);
        return { mean: Number(match[1]), error: Number(match[2]), best: match[3] !== undefined };
      }),
    );
    ranges.forEach(([low, high], column) => {
      for (const row of cells) {
        const { mean, error } = row[column];
        assert.ok(mean >= low && mean <= high && error >= 0 && error <= high - low, `${header[column + 1]}: ${mean} ± ${error}`);
      }
      assert.equal(cells.filter((row) => row[column].best).length, 1, `one most faithful method for ${header[column + 1]}`);
    });
    const deletionBest = cells.findIndex((row) => row[3].best);
    assert.equal(cells[deletionBest][3].mean, Math.min(...cells.map((row) => row[3].mean)), 'a lower deletion AUC is more faithful');
    await screenshot(session.page, 'analyze-faithfulness');

    // Sorted by deletion AUC, most faithful (lowest) first, then the other way.
    await frame.click('#faithfulness-table th button[data-column="deletionAuc"]');
    const sorted = (await table()).map((row) => Number(row[4].split(' ')[0]));
    assert.deepEqual(
      sorted,
      [...sorted].sort((a, b) => a - b),
    );
    await frame.click('#faithfulness-table th button[data-column="deletionAuc"]');
    const reversed = (await table()).map((row) => Number(row[4].split(' ')[0]));
    assert.deepEqual(
      reversed,
      [...reversed].sort((a, b) => b - a),
    );
  });

  test('the confusion matrix, and a mistake explained with Grad-CAM', async () => {
    await frame.click('[data-tab="confusion"]');
    await waitForText(frame, '#accuracy', /^Accuracy \d+\.\d% on 100 labelled images; \d+ mistakes\.$/);
    assert.equal(await frame.locator('#confusion-matrix tbody tr').count(), 10);
    const diagonal = (await frame.locator('#confusion-matrix td.diagonal').allTextContents()).reduce((n, t) => n + Number(t), 0);
    const accuracy = Number(/Accuracy (\d+\.\d)%/.exec((await frame.textContent('#accuracy'))!)![1]);
    assert.equal(diagonal, Math.round(accuracy), 'the diagonal holds the correct predictions');
    await screenshot(session.page, 'analyze-confusion');
    await frame.locator('.confusion-results .tile').first().getByRole('button', { name: 'Grad-CAM' }).click();
    const explain = await webviewFrame(session.page, '.card canvas', 120_000);
    await waitForText(explain, '.card .caption', /^Grad-CAM for/);
  });

  test('features come from the cache: when the layer comes back, and when the folder is analysed again unchanged; not after an image changes', async () => {
    const analyzeTab = session.page.locator('.tabs-container .tab', { hasText: 'Analyze: fashion' });
    await analyzeTab.click();
    await frame.selectOption('#feature-layer', 'conv3');
    await waitForText(frame, '#analyze-status', /^Features of conv3 for 100 images\.$/);
    await frame.selectOption('#feature-layer', 'gap');
    await waitForText(frame, '#analyze-status', /^Features of gap for 100 images, from the cache\.$/);

    const reopen = async () => {
      await analyzeTab.hover();
      await analyzeTab.locator('.codicon-close').click();
      await analyzeTab.waitFor({ state: 'detached' });
      await chooseFromContextMenu(session.page, await revealInExplorer(session.page, 'fashion'), 'Analyze Images with Model');
      frame = await webviewFrame(session.page, '#analyze-status:not(:empty)', 120_000);
      await waitForText(frame, '#analyze-status', /^Features of gap for 100 images/);
      return (await frame.textContent('#analyze-status'))!.trim();
    };
    assert.equal(await reopen(), 'Features of gap for 100 images, from the cache.');

    // Another picture under the same name: the cache no longer describes the folder.
    const changed = path.join(session.server.workspace, 'fashion', 'trouser', 'test-002.png');
    const { images } = fashionMnistTest(1);
    await writePng(changed, images[0]);
    assert.equal(await reopen(), 'Features of gap for 100 images.');
  });
});
