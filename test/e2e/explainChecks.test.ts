/**
 * End to end, in a real VS Code: two images explained with Grad-CAM, then "Check this explanation" on
 * each (deletion and insertion curves drawn, ROAD and the randomisation strip, numbers in range), the
 * method report (a row per method with its maps, sortable, a row click shows that method), and a report
 * cancelled mid-way from VS Code's progress notification.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Frame, Locator } from 'playwright-core';
import { LONG_METHODS, METHODS } from '../../src/engine/explain/methods';
import { sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { explainImages, screenshot } from '../support/workbench';
import { waitFor } from '../support/waiting';

const REPORTED = ['gradcam', 'gradcam++', 'layercam', 'saliency', 'guided'];

describe('Checking explanations in VS Code', { skip: skipWithoutCodeServer, timeout: 600_000 }, () => {
  const session = workbenchSession(sampleWorkspace, {
    // One model in the workspace, so Explain uses it without asking which.
    prepare: (workspace) => rmSync(path.join(workspace, 'squeezenet'), { recursive: true }),
  });
  let frame: Frame;

  test('Check this explanation on two images: curves, ROAD and the randomisation strip', async () => {
    frame = await explainImages(session.page, 'images', 'sneaker.png', 'trouser.png');
    await waitFor(
      async () => (await frame.locator('.card .caption').allTextContents()).filter((c) => /^Grad-CAM for/.test(c.trim())).length === 2,
      120_000,
      () => 'the two Grad-CAM overlays never appeared',
    );

    for (const card of [0, 1]) {
      const cardLocator = frame.locator('.card').nth(card);
      await cardLocator.getByRole('button', { name: 'Check this explanation' }).click();
      const results = cardLocator.locator('.check-results');
      await results.waitFor({ timeout: 180_000 });
      assert.match((await results.locator('h3').textContent()) ?? '', /^Check: Grad-CAM for “(Sneaker|Trouser)” \(class \d\) at conv3$/);
      for (const chart of ['deletion', 'insertion']) {
        assert.ok(await drawnPixels(results.locator(`[data-chart="${chart}"] canvas`)), `the ${chart} curve is drawn`);
      }
      const metric = async (key: string) => ((await results.locator(`[data-metric="${key}"] dd`).textContent()) ?? '').trim();
      for (const key of ['deletion-auc', 'insertion-auc']) {
        const value = Number(await metric(key));
        assert.ok(value >= 0 && value <= 1, `${key} ${value}`);
      }
      const morf = Number(await metric('road-morf'));
      const lerf = Number(await metric('road-lerf'));
      assert.ok(Math.abs(Number(await metric('road-combined')) - (lerf - morf) / 2) < 2e-3, 'ROAD combined is (LeRF − MoRF) / 2');
      assert.match(await metric('confidence'), /^[\d.]+% → [\d.]+%$/);
      // The original map and one step per layer with weights (predictions, conv3, conv2, conv1).
      const steps = results.locator('.randomisation-strip li');
      assert.deepEqual(await steps.evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.step)), ['0', '1', '2', '3', '4']);
      const spearmans = (await results.locator('.randomisation-strip .spearman').allTextContents()).map((t) =>
        Number(t.replace('ρ', '').trim()),
      );
      assert.equal(spearmans.length, 4);
      for (const rho of spearmans) assert.ok(rho >= -1 && rho <= 1, `Spearman ${rho}`);
      assert.ok(await drawnPixels(results.locator('.randomisation-strip canvas').first()), 'the original map is drawn');
      assert.ok(await drawnPixels(results.locator('.randomisation canvas.line-chart')), 'the Spearman/SSIM chart is drawn');
      assert.match(
        (await results.locator('.check-verdict').textContent()) ?? '',
        /^With all 4 layers randomised the map keeps a rank correlation of/,
      );
    }
    await frame.locator('.card').first().locator('.check-results').scrollIntoViewIfNeeded();
    await screenshot(session.page, 'explain-check');
    await frame.locator('.card').nth(1).locator('.check-results').scrollIntoViewIfNeeded();
    await screenshot(session.page, 'explain-check-second');
  });

  test('the method report: fast methods ticked, a row each with its maps, sortable; a row click shows that method', async () => {
    await frame.click('#report-toggle');
    const ticked = await frame.$$eval('#report-methods input:checked', (els) => els.map((el) => (el as HTMLInputElement).value));
    assert.deepEqual(ticked.sort(), METHODS.filter((m) => !LONG_METHODS.includes(m)).sort(), 'every fast method, no long one');
    for (const method of METHODS) await frame.setChecked(`#report-methods input[value="${method}"]`, REPORTED.includes(method));
    await frame.click('#report-run');
    const rows = frame.locator('#report-table tbody tr');
    await waitFor(
      async () => (await rows.count()) === REPORTED.length,
      300_000,
      () => 'the report table never appeared',
    );
    assert.deepEqual((await rows.evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.method))).sort(), [...REPORTED].sort());
    // Each row: a thumbnail per image, drawn; the numbers in range; one ★ per column.
    for (let r = 0; r < REPORTED.length; r++) {
      const thumbnails = rows.nth(r).locator('td.maps canvas');
      assert.equal(await thumbnails.count(), 2);
      assert.ok(await drawnPixels(thumbnails.first()));
      const deletion = parseFloat((await rows.nth(r).locator('td[data-column="deletionAuc"]').textContent()) ?? '');
      assert.ok(deletion >= 0 && deletion <= 1, `deletion AUC ${deletion}`);
      const rho = parseFloat((await rows.nth(r).locator('td[data-column="randomisedSpearman"]').textContent()) ?? '');
      assert.ok(rho >= -1 && rho <= 1, `Spearman ${rho}`);
    }
    assert.equal(await frame.locator('#report-table td.best[data-column="insertionAuc"]').count(), 1);
    assert.match((await frame.textContent('#report-note')) ?? '', /^5 methods on 2 images/);
    await frame.locator('#method-report').scrollIntoViewIfNeeded();
    await screenshot(session.page, 'explain-method-report');

    // Sorting by deletion AUC: lowest (most faithful) first, then the other way round.
    const column = async () =>
      (await frame.locator('#report-table tbody td[data-column="deletionAuc"]').allTextContents()).map((t) => parseFloat(t));
    await frame.click('#report-table button[data-column="deletionAuc"]');
    const ascending = await column();
    assert.deepEqual(
      ascending,
      [...ascending].sort((a, b) => a - b),
    );
    await frame.click('#report-table button[data-column="deletionAuc"]');
    const descending = await column();
    assert.deepEqual(descending, [...ascending].reverse());
    assert.equal(await frame.getAttribute('#report-table th:has(button[data-column="deletionAuc"])', 'aria-sort'), 'descending');

    await frame.click('#report-table tbody tr[data-method="guided"]');
    assert.equal(await frame.inputValue('#method-select'), 'guided');
    await waitFor(
      async () => /^Guided backprop for/.test(((await frame.locator('.card .caption').first().textContent()) ?? '').trim()),
      120_000,
      () => 'the panel never showed guided backprop',
    );
    assert.equal(await frame.getAttribute('#report-table tbody tr[data-method="guided"]', 'aria-current'), 'true');
  });

  test('Cancel in VS Code’s progress notification stops a report mid-way and says so', async () => {
    for (const method of METHODS) await frame.setChecked(`#report-methods input[value="${method}"]`, true);
    await frame.click('#report-run');
    const toast = session.page.locator('.notification-toast', { hasText: 'method report' });
    await toast.first().waitFor({ timeout: 60_000 });
    await screenshot(session.page, 'explain-method-report-running');
    await toast.first().getByRole('button', { name: 'Cancel' }).click();
    await waitFor(
      async () => ((await frame.textContent('#report-note')) ?? '').trim() === 'The report was cancelled.',
      60_000,
      () => 'the report did not stop',
    );
    assert.equal(await frame.isDisabled('#report-run'), false, 'Run report is offered again');
    // The previous report stays on screen.
    assert.equal(await frame.locator('#report-table tbody tr').count(), REPORTED.length);
    await waitFor(
      async () => (await toast.count()) === 0,
      30_000,
      () => 'the progress notification stayed',
    );
    await screenshot(session.page, 'explain-method-report-cancelled');
  });
});

/** Whether a canvas holds a picture: more than one colour among its pixels. */
async function drawnPixels(canvas: Locator): Promise<boolean> {
  return canvas.evaluate((element) => {
    const c = element as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2] | (data[i + 3] << 24));
    return colours.size > 1;
  });
}
