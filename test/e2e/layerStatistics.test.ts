/**
 * End to end, in a real VS Code: the layer inspector's Statistics tab on the sample model — conv2's
 * weight statistics and histograms, then the loss gradient for an image chosen in the file dialog (for
 * the predicted class, then for a class picked by hand), and the overview of every layer, sorted and
 * used to move to another layer. The numbers shown are checked against the engine run here in Node.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { weightGradients } from '../../src/engine/inspect/weightGradients';
import { tensorStatistics, type ValueStatistics } from '../../src/engine/inspect/weightStatistics';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { imageToInput } from '../../src/engine/preprocess';
import { fileModelSource } from '../../src/node/fileModelSource';
import { readImageFile } from '../../src/node/imageFile';
import { useNodeBackend } from '../../src/node/tfBackend';
import { sampleModel, sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { waitFor } from '../support/waiting';
import { answerOpenDialog, clickContextMenu, screenshot, webviewFrame } from '../support/workbench';

describe('the Statistics tab of the layer inspector in VS Code', { skip: skipWithoutCodeServer, timeout: 300_000 }, () => {
  const session = workbenchSession(sampleWorkspace);
  let frame: Frame;
  let opened: OpenedModel;

  before(async () => {
    await useNodeBackend();
    opened = await openModel(fileModelSource(sampleModel));
  });
  after(() => opened?.model.dispose());

  /** The gradient statistics of conv2's weights, as the engine computes them in Node. */
  async function expectedGradients(image: string, classIndex?: number): Promise<{ stats: ValueStatistics[]; classIndex: number }> {
    const input = imageToInput(await readImageFile(path.join(sampleWorkspace, 'images', image)), opened.input.preprocessing);
    const gradients = await weightGradients(opened.model, input, classIndex === undefined ? {} : { classIndex });
    try {
      const stats = await Promise.all(gradients.byLayer.get('conv2')!.map((g) => tensorStatistics(g!)));
      return { stats, classIndex: gradients.classIndex[0] };
    } finally {
      gradients.dispose();
      input.dispose();
    }
  }

  test('conv2’s weights: shape, every statistic, a histogram per tensor, and every layer in the overview', async () => {
    await closeWalkthroughIfShown(session.page);
    await clickContextMenu(session.page, 'Visualize Layers', 'fashion-mnist-cnn', 'model.json');
    frame = await webviewFrame(session.page, '#filters-canvas', 120_000);
    await frame.locator('vscode-tree-item[data-layer-id="conv2"] .layer-name').click();
    await frame.waitForFunction(() => document.getElementById('inspector-title')?.textContent === 'conv2');
    await frame.click('[data-tab="statistics"]');
    await frame.waitForSelector('.weight-card[data-weight="bias"]');
    assert.equal(await frame.getAttribute('[data-tab="statistics"]', 'aria-selected'), 'true');
    assert.equal(await text(frame, '.weight-card[data-weight="kernel"] h4'), 'kernel [3, 3, 16, 32] · 4,608 values');
    assert.equal(await text(frame, '.weight-card[data-weight="bias"] h4'), 'bias [32] · 32 values');
    assert.match(await text(frame, '#statistics-status'), /^Choose an image/);

    const weights = await Promise.all(opened.model.weights('conv2').map((w) => tensorStatistics(w)));
    for (const [i, name] of ['kernel', 'bias'].entries()) {
      const shown = await shownStatistics(frame, name, 'weights');
      for (const key of ['min', 'max', 'mean', 'std', 'norm'] as const) assertClose(shown[key], weights[i][key], `${name} ${key}`);
      assert.ok(Math.abs(shown.zeros! - weights[i].zeros * 100) <= 0.05, `${name} zeros: shown ${shown.zeros}%`);
      assert.deepEqual(await shownStatistics(frame, name, 'gradient'), {}, 'no gradient before an image is chosen');
      assert.ok(
        (await inkedColumns(frame, `.weight-card[data-weight="${name}"] canvas[data-of="weights"]`)) > 4,
        `${name}: the histogram has bars`,
      );
    }
    assert.deepEqual(await overviewLayers(frame), ['conv1', 'conv2', 'conv3', 'predictions']);
    assert.deepEqual(await overviewColumn(frame, 'ratio'), ['—', '—', '—', '—']);
  });

  test('an image chosen in the dialog gives the loss gradient beside the weights, for the predicted class', async () => {
    await frame.click('#statistics-choose-image');
    await answerOpenDialog(session.page, path.join(session.server.workspace, 'images', 'sneaker.png'));
    await frame.waitForFunction(
      () => (document.getElementById('statistics-status')?.textContent ?? '').startsWith('Loss gradient for sneaker.png'),
      undefined,
      {
        timeout: 60_000,
      },
    );
    assert.equal(await frame.isHidden('#panel-statistics'), false, 'the Statistics tab stays open');
    const expected = await expectedGradients('sneaker.png');
    const label = opened.labels!.names[expected.classIndex];
    assert.ok(
      (await text(frame, '#statistics-status')).endsWith(`for class ${expected.classIndex} (${label}).`),
      'the predicted class, by name',
    );
    await assertGradientsShown(expected.stats);
    const ratios = (await overviewColumn(frame, 'ratio')).map(Number);
    assert.ok(
      ratios.every((r) => r > 0 && Number.isFinite(r)),
      `every layer has a gradient ratio: ${ratios}`,
    );
    await screenshot(session.page, 'statistics-dark');
  });

  test('a class picked by hand changes the loss and the gradients', async () => {
    const before = await text(frame, '#statistics-status');
    await frame.selectOption('#statistics-class', '1');
    await frame.waitForFunction((old) => document.getElementById('statistics-status')?.textContent !== old, before);
    await frame.waitForFunction(() => (document.getElementById('statistics-status')?.textContent ?? '').endsWith('for class 1 (Trouser).'));
    await assertGradientsShown((await expectedGradients('sneaker.png', 1)).stats);
  });

  test('the overview sorts by gradient ratio, and a click there selects the layer', async () => {
    await frame.click('#statistics-overview th[data-sort="ratio"] button');
    await frame.waitForFunction(
      () => document.querySelector('#statistics-overview th[data-sort="ratio"]')?.getAttribute('aria-sort') === 'descending',
    );
    const ratios = (await overviewColumn(frame, 'ratio')).map(Number);
    assert.deepEqual(
      ratios,
      [...ratios].sort((a, b) => b - a),
      'largest ratio first',
    );
    const top = (await overviewLayers(frame))[0];
    await frame.click(`#statistics-overview tr[data-layer-id="${top}"] th button`);
    await frame.waitForFunction((name) => document.getElementById('inspector-title')?.textContent === name, top);
    await frame.waitForSelector('#statistics-overview tr.current[data-layer-id="' + top + '"]');
    await screenshot(session.page, 'statistics-sorted-dark');
  });

  async function assertGradientsShown(expected: ValueStatistics[]): Promise<void> {
    await frame.locator('vscode-tree-item[data-layer-id="conv2"] .layer-name').click();
    await frame.waitForFunction(() => document.getElementById('inspector-title')?.textContent === 'conv2');
    for (const [i, name] of ['kernel', 'bias'].entries()) {
      await waitFor(
        async () => {
          const shown = await shownStatistics(frame, name, 'gradient');
          return shown.norm !== undefined && Math.abs(shown.norm - expected[i].norm) <= 2e-3 * expected[i].norm;
        },
        30_000,
        () => `${name}: the gradient norm shown is not ${expected[i].norm}`,
      );
      const shown = await shownStatistics(frame, name, 'gradient');
      for (const key of ['min', 'max', 'std', 'norm'] as const) assertClose(shown[key], expected[i][key], `${name} gradient ${key}`);
      const weightNorm = (await shownStatistics(frame, name, 'weights')).norm!;
      assertClose(shown.ratio, expected[i].norm / weightNorm, `${name} ‖∇‖/‖W‖`);
      assert.ok(
        (await inkedColumns(frame, `.weight-card[data-weight="${name}"] canvas[data-of="gradient"]`)) > 4,
        `${name}: the gradient histogram has bars`,
      );
    }
  }
});

/**
 * ConvLens opens its walkthrough once it has started, on its first run: closed here (when it comes within a
 * few seconds) so that it takes neither the context menu nor the viewer's place.
 */
async function closeWalkthroughIfShown(page: Page): Promise<void> {
  const tab = page.locator('.tab', { hasText: 'Walkthrough: ConvLens' });
  const shown = await tab
    .waitFor({ timeout: 15_000 })
    .then(() => true)
    .catch(() => false);
  if (shown) await tab.locator('.codicon-close').click();
}

/** The numbers in a weight card's column (`weights` or `gradient`), by statistic; "—" cells left out. */
async function shownStatistics(frame: Frame, weight: string, of: 'weights' | 'gradient'): Promise<Partial<Record<string, number>>> {
  return frame.$$eval(
    `.weight-card[data-weight="${weight}"] tr[data-stat] td[data-of="${of}"]`,
    (cells) =>
      Object.fromEntries(
        cells
          .map((cell) => [(cell.parentElement as HTMLElement).dataset.stat!, (cell.textContent ?? '').trim()] as const)
          .filter(([, value]) => value !== '—')
          .map(([key, value]) => [key, parseFloat(value)]),
      ) as Record<string, number>,
  );
}

/** Shown to four significant digits. */
function assertClose(shown: number | undefined, expected: number, what: string): void {
  assert.ok(
    shown !== undefined && Math.abs(shown - expected) <= 2e-3 * Math.abs(expected) + 1e-9,
    `${what}: shown ${shown}, expected ${expected}`,
  );
}

async function overviewLayers(frame: Frame): Promise<string[]> {
  return frame.$$eval('#statistics-overview tbody tr', (rows) => rows.map((row) => (row as HTMLElement).dataset.layerId!));
}

async function overviewColumn(frame: Frame, stat: 'std' | 'ratio'): Promise<string[]> {
  return frame.$$eval(`#statistics-overview tbody td[data-stat="${stat}"]`, (cells) =>
    cells.map((cell) => (cell.textContent ?? '').trim()),
  );
}

/** Columns of a canvas with any opaque pixel: the histogram's bars. */
async function inkedColumns(frame: Frame, selector: string): Promise<number> {
  return frame.$eval(selector, (c) => {
    const canvas = c as HTMLCanvasElement;
    const { data, width, height } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let columns = 0;
    for (let x = 0; x < width; x++) {
      for (let y = 0; y < height; y++) {
        if (data[(y * width + x) * 4 + 3] > 0) {
          columns++;
          break;
        }
      }
    }
    return columns;
  });
}

async function text(frame: Frame, selector: string): Promise<string> {
  return ((await frame.textContent(selector)) ?? '').trim();
}
