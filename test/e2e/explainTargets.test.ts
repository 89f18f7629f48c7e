/**
 * End to end, in a real VS Code: photos explained with a segmentation model and with a detection model
 * (the seeded tiny models of test/fixtures/targets/, each in a workspace of its own with a labels file).
 * The segmentation page draws the predicted mask over each photo with a legend of the classes named from
 * labels.txt; clicking a class explains it over its pixels, and the mask can be hidden. The detection
 * page outlines the model's boxes and lists them; clicking an entry or a box explains that detection.
 * A class name written as markup stays text.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { repoRoot } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { temporaryFolder } from '../support/temporaryFolders';
import { explainImages, screenshot } from '../support/workbench';
import { waitFor } from '../support/waiting';

const skip = skipWithoutCodeServer;
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'targets');
const photos = path.join(repoRoot, 'sample', 'photos');
/** Class 3's name is markup: the page must show it as text. */
const SEGMENTATION_LABELS = ['background', 'sky', 'road', '<img src=x onerror=alert(1)>'];
const DETECTION_LABELS = ['background', 'ball', 'face'];

/** A workspace with one model in `model/` beside its labels.txt, and photos in `photos/`. */
function workspace(modelFile: string, labels: string[], photoNames: string[]): string {
  const folder = temporaryFolder('convlens-targets-');
  mkdirSync(path.join(folder, 'model'));
  copyFileSync(path.join(fixtures, modelFile), path.join(folder, 'model', modelFile));
  writeFileSync(path.join(folder, 'model', 'labels.txt'), labels.join('\n') + '\n');
  mkdirSync(path.join(folder, 'photos'));
  for (const name of photoNames) copyFileSync(path.join(photos, name), path.join(folder, 'photos', name));
  return folder;
}

describe('Explain photos with a segmentation model', { skip, timeout: 600_000 }, () => {
  const session = workbenchSession(skip ? '.' : workspace('seg_tiny.onnx', SEGMENTATION_LABELS, ['chelsea.png', 'coffee.png']));
  let frame: Frame;

  test('each photo shows the predicted mask and a legend of its classes by pixel share; the largest is explained', async () => {
    frame = await explainImages(session.page, 'photos', 'chelsea.png', 'coffee.png');
    await waitForCaption(frame, 0, /^Grad-CAM for “.+” \(segmentation, class \d\), score /);
    await screenshot(session.page, 'explain-targets-segmentation');
    assert.deepEqual(await frame.locator('.card h2').allTextContents(), ['chelsea.png', 'coffee.png']);
    for (const card of [0, 1]) {
      const legend = await legendOf(frame, card);
      assert.ok(legend.length >= 1, `card ${card} lists its classes`);
      for (const entry of legend) assert.equal(entry.label, SEGMENTATION_LABELS[entry.classIndex], 'named from labels.txt');
      const total = legend.reduce((sum, e) => sum + e.percent, 0);
      assert.ok(Math.abs(total - 100) < 0.5, `card ${card}: the shares add up to ${total}%`);
      assert.ok(
        legend.every((e, i) => i === 0 || legend[i - 1].percent >= e.percent),
        'largest share first',
      );
      const caption = await captionOf(frame, card);
      assert.ok(caption.startsWith(`Grad-CAM for “${legend[0].label}” (segmentation, class ${legend[0].classIndex})`), caption);
      assert.equal(await pressed(frame, card, '.legend-entry'), String(legend[0].classIndex));
    }
    assert.equal((await frame.textContent('#labels-origin'))?.trim(), 'labels.txt');
    assert.equal(await frame.locator('.check-button').count(), 0, 'class checks are not offered for segmentation targets');
    // The mask is drawn: hiding it changes most of the picture.
    const masked = await canvasPixels(frame, '.card >> nth=0 >> canvas.target-picture');
    await frame.locator('.card').nth(0).locator('.mask-toggle').uncheck();
    const plain = await canvasPixels(frame, '.card >> nth=0 >> canvas.target-picture');
    assert.ok(differing(masked, plain) > 0.5, `the mask changes ${(100 * differing(masked, plain)).toFixed(0)}% of the pixels`);
    await frame.locator('.card').nth(0).locator('.mask-toggle').check();
    await screenshot(session.page, 'explain-targets-segmentation');
  });

  test('clicking another class in the legend explains that class over its pixels', async () => {
    const card = await cardWithClasses(frame, 2);
    const legend = await legendOf(frame, card);
    const other = legend[1];
    const before = await canvasPixels(frame, `.card >> nth=${card} >> figure[data-method="gradcam"] canvas`);
    await frame.locator('.card').nth(card).locator(`.legend-entry[data-class="${other.classIndex}"]`).click();
    await waitForCaption(
      frame,
      card,
      new RegExp(`^Grad-CAM for “${escape(other.label)}” \\(segmentation, class ${other.classIndex}\\), score `),
    );
    assert.equal(await pressed(frame, card, '.legend-entry'), String(other.classIndex));
    const after = await canvasPixels(frame, `.card >> nth=${card} >> figure[data-method="gradcam"] canvas`);
    assert.ok(differing(before, after) > 0.05, 'the map drawn is the new class’s');
    // A name written as markup is shown as its text, and made no element.
    const names = await frame.locator('.legend-entry .prediction-label').allTextContents();
    if (names.some((n) => n.includes('<img'))) assert.equal(await frame.locator('.legend img').count(), 0);
    await frame.locator('.card').nth(card).scrollIntoViewIfNeeded();
    await screenshot(session.page, 'explain-targets-segmentation-class');
  });
});

describe('Explain a photo with a detection model that outputs boxes', { skip, timeout: 600_000 }, () => {
  const session = workbenchSession(skip ? '.' : workspace('det_boxes_tiny.onnx', DETECTION_LABELS, ['astronaut.png']));
  let frame: Frame;

  test('the detections are outlined on the photo and listed, strongest first; the strongest is explained', async () => {
    frame = await explainImages(session.page, 'photos', 'astronaut.png');
    await waitForCaption(frame, 0, /^Grad-CAM for detection 1, “(ball|face)” \(class [12], anchor \d+\), score /);
    const entries = frame.locator('.detection-entry');
    assert.equal(await entries.count(), 8);
    for (const text of await entries.locator('.prediction-label').allTextContents()) assert.match(text.trim(), /^\d\. (ball|face)$/);
    assert.match((await frame.textContent('.detection-note')) ?? '', /^The boxes the model outputs/);
    assert.equal(await pressed(frame, 0, '.detection-entry'), '0');
    // Boxes in the class colours are drawn over the photo.
    const picture = await canvasPixels(frame, 'canvas.target-picture');
    const outlined = await frame.$eval('canvas.target-picture', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        // Tableau's orange (class 1) and green (class 2).
        if ((r === 255 && g === 127 && b === 14) || (r === 44 && g === 160 && b === 44)) count++;
      }
      return count;
    });
    assert.ok(outlined > 200, `${outlined} outline pixels of ${picture.length / 4}`);
    await screenshot(session.page, 'explain-targets-detection');
  });

  test('clicking a listed detection, then a box on the photo, explains that detection', async () => {
    await frame.locator('.detection-entry[data-rank="2"]').click();
    await waitForCaption(frame, 0, /^Grad-CAM for detection 3, /);
    assert.equal(await pressed(frame, 0, '.detection-entry'), '2');

    // The smallest box on the photo: a click at its centre picks it.
    const places = (await frame.locator('.detection-place').allTextContents()).map((text) => {
      const [x1, x2, y1, y2] = (/x (\d+)–(\d+), y (\d+)–(\d+)/.exec(text) ?? []).slice(1).map(Number);
      return { x1, x2, y1, y2, area: (x2 - x1) * (y2 - y1) };
    });
    const rank = places.reduce((best, p, i) => (p.area < places[best].area ? i : best), 0);
    const target = places[rank];
    const canvas = frame.locator('canvas.target-picture');
    const bounds = (await canvas.boundingBox())!;
    const input = 64; // det_boxes_tiny's input size: boxes are listed in its pixels.
    await canvas.click({
      position: { x: (((target.x1 + target.x2) / 2) * bounds.width) / input, y: (((target.y1 + target.y2) / 2) * bounds.height) / input },
    });
    await waitForCaption(frame, 0, new RegExp(`^Grad-CAM for detection ${rank + 1}, `));
    assert.equal(await pressed(frame, 0, '.detection-entry'), String(rank));
    await screenshot(session.page, 'explain-targets-detection-click');
  });
});

describe('Explain a photo with a raw SSD head', { skip, timeout: 600_000 }, () => {
  const session = workbenchSession(skip ? '.' : workspace('det_tiny.onnx', ['background', 'cat', 'dog', 'cup', 'person'], ['chelsea.png']));

  test("each detection is marked at its anchor's cell, the page says boxes are not decoded, and a click explains it", async () => {
    const frame = await explainImages(session.page, 'photos', 'chelsea.png');
    await waitForCaption(frame, 0, /^Grad-CAM for detection 1, “(cat|dog|cup|person)” \(class [1-4], anchor \d+\), score /);
    assert.match((await frame.textContent('.detection-note')) ?? '', /boxes are not decoded/);
    const places = await frame.locator('.detection-place').allTextContents();
    assert.equal(places.length, 8);
    // det_tiny's head is an 8×8 grid on a 32×32 input: each cell is 4 pixels wide.
    for (const place of places) {
      const [x1, x2, y1, y2] = (/^cell x (\d+)–(\d+), y (\d+)–(\d+)$/.exec(place.trim()) ?? []).slice(1).map(Number);
      assert.deepEqual([x2 - x1, y2 - y1, x1 % 4, y1 % 4], [4, 4, 0, 0], place);
    }
    await frame.locator('.detection-entry[data-rank="1"]').click();
    await waitForCaption(frame, 0, /^Grad-CAM for detection 2, /);
    assert.equal(await pressed(frame, 0, '.detection-entry'), '1');
    await screenshot(session.page, 'explain-targets-ssd-cells');
  });
});

async function captionOf(frame: Frame, card: number): Promise<string> {
  return ((await frame.locator('.card').nth(card).locator('figure[data-method] .caption').first().textContent()) ?? '').trim();
}

async function waitForCaption(frame: Frame, card: number, pattern: RegExp): Promise<void> {
  let seen = '';
  await waitFor(
    async () => pattern.test((seen = await captionOf(frame, card).catch(() => ''))),
    180_000,
    () => `card ${card}'s caption never matched ${pattern} (it says “${seen}”)`,
  );
}

async function legendOf(frame: Frame, card: number): Promise<{ classIndex: number; label: string; percent: number }[]> {
  const entries = frame.locator('.card').nth(card).locator('.legend-entry');
  const result = [];
  for (let i = 0; i < (await entries.count()); i++) {
    const entry = entries.nth(i);
    result.push({
      classIndex: Number(await entry.getAttribute('data-class')),
      label: ((await entry.locator('.prediction-label').textContent()) ?? '').trim(),
      percent: Number(((await entry.locator('.prediction-probability').textContent()) ?? '').replace('%', '')),
    });
  }
  return result;
}

/** The first card whose legend has at least `count` classes. */
async function cardWithClasses(frame: Frame, count: number): Promise<number> {
  for (const card of [0, 1]) if ((await legendOf(frame, card)).length >= count) return card;
  throw new Error(`no photo has ${count} predicted classes`);
}

/** The data-class or data-rank of the card's pressed entry. */
async function pressed(frame: Frame, card: number, selector: string): Promise<string | null> {
  const entry = frame.locator('.card').nth(card).locator(`${selector}[aria-pressed="true"]`);
  return (await entry.getAttribute('data-class').catch(() => null)) ?? (await entry.getAttribute('data-rank'));
}

async function canvasPixels(frame: Frame, selector: string): Promise<number[]> {
  return frame.locator(selector).evaluate((canvas) => {
    const c = canvas as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  });
}

/** The share of pixels that differ between two pictures of one size. */
function differing(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  let count = 0;
  for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) count++;
  return count / (a.length / 4);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
