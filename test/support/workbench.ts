/**
 * Driving the VS Code workbench in Chromium as a person would: explorer rows, context menus,
 * the activity bar, and the webview inside its nested iframes.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Frame, type Locator, type Page } from 'playwright-core';
import { repoRoot } from './paths';
import { waitFor } from './waiting';

export const screenshotDir = path.join(repoRoot, 'test-results', 'e2e');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CONVLENS_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
}

export async function openWorkbench(browser: Browser, url: string, folder: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  // Menus and views contributed by extensions appear once the extensions are scanned; the activity bar
  // icon is the visible sign of that.
  await page.locator('.activitybar .action-item a[aria-label^="ConvLens"]').waitFor({ timeout: 60_000 });
  return page;
}

export function explorerRow(page: Page, name: string) {
  return page.locator(`.explorer-folders-view .monaco-list-row[aria-label=${JSON.stringify(name)}]`);
}

/**
 * Expands folders along `segments` and returns the row of the last one. Rows of the same name (two
 * folders' model.json) are told apart by position: the one just below its folder's row. The list
 * reuses its DOM nodes, so DOM order is not the order on screen.
 */
export async function revealInExplorer(page: Page, ...segments: string[]) {
  let parentTop = -Infinity;
  for (const [i, name] of segments.entries()) {
    const row = await rowBelow(page, name, parentTop);
    // Taken before the row is clicked open: a compacted folder's row ("checkpoints / epoch1") changes its name then.
    parentTop = (await row.boundingBox())?.y ?? parentTop;
    if (i < segments.length - 1 && (await row.getAttribute('aria-expanded')) !== 'true') {
      await row.click();
      // Its rows appear a moment later; until then the row "just below" can be another folder's file of the
      // same name.
      await waitFor(async () => (await row.getAttribute('aria-expanded', { timeout: 1000 }).catch(() => 'true')) === 'true', 3000).catch(
        () => undefined,
      );
      await page.waitForTimeout(300);
    }
    if (i === segments.length - 1) return row;
  }
  throw new Error('revealInExplorer needs a path');
}

/** The first row named `name` on screen below `top`. */
async function rowBelow(page: Page, name: string, top: number): Promise<Locator> {
  const rows = explorerRow(page, name);
  await rows.first().waitFor();
  let best: { row: Locator; y: number } | undefined;
  for (const row of await rows.all()) {
    const y = (await row.boundingBox())?.y;
    if (y !== undefined && y > top && (!best || y < best.y)) best = { row, y };
  }
  return best?.row ?? rows.first();
}

/**
 * Selects explorer rows together, as a person does: a click on the first, Ctrl+click on the rest. The
 * click opens the first file's editor, and once that editor is up VS Code reveals its file in the
 * explorer, selecting it alone; so the rest are added after that, and the selection is checked whole.
 */
export async function selectInExplorer(page: Page, rows: Locator[]): Promise<void> {
  const selected = page.locator('.explorer-folders-view .monaco-list-row[aria-selected="true"]');
  for (let attempt = 0; attempt < 3; attempt++) {
    await rows[0].click();
    const name = (await rows[0].getAttribute('aria-label')) ?? '';
    await page
      .locator('.tabs-container .tab.active', { hasText: name })
      .waitFor({ timeout: 30_000 })
      .catch(() => undefined);
    await page.waitForTimeout(500);
    for (const row of rows.slice(1)) await row.click({ modifiers: ['Control'] });
    const all = async () => {
      const states = await Promise.all(rows.map((row) => row.getAttribute('aria-selected')));
      return states.every((s) => s === 'true') && (await selected.count()) === rows.length;
    };
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !(await all())) await page.waitForTimeout(200);
    // Held for a moment: a reveal that lands late would undo it.
    await page.waitForTimeout(500);
    if (await all()) return;
  }
  assert.fail(`the explorer did not keep ${rows.length} rows selected together`);
}

/**
 * Images in one folder selected together and explained from the context menu, as a person does; the
 * Explain panel's frame once its first card has a canvas (the first such frame: with one Explain panel open).
 */
export async function explainImages(page: Page, folder: string, ...names: string[]): Promise<Frame> {
  await revealInExplorer(page, folder, names[0]);
  const rows = names.map((name) => explorerRow(page, name).first());
  await chooseForSelection(page, rows, 'Explain with Grad-CAM', `Explain: ${names.join(', ')}`);
  return webviewFrame(page, '.card canvas', 120_000);
}

/**
 * Explorer rows selected together and `label` chosen from the last one's context menu, until the active
 * tab's title starts with `title`. A selection undone between the check and the right-click (a late
 * reveal of the editor the first click opened) acts on fewer files, and a menu click can be dropped: the
 * person closes what opened instead (a panel for fewer files, a quick pick asking for the rest) and
 * chooses again.
 */
export async function chooseForSelection(page: Page, rows: Locator[], label: string, title: string): Promise<void> {
  const kind = title.slice(0, title.indexOf(':') + 1);
  const tab = page.locator('.tabs-container .tab.active');
  const quickPick = page.locator('.quick-input-widget');
  for (let attempt = 1; ; attempt++) {
    await selectInExplorer(page, rows);
    await chooseFromContextMenu(page, rows[rows.length - 1], label);
    const deadline = Date.now() + 60_000;
    let shown = '';
    let asked = false;
    while (Date.now() < deadline && !shown && !asked) {
      if (await tab.filter({ hasText: kind }).count())
        shown = ((await tab.getAttribute('aria-label')) ?? (await tab.textContent()) ?? '').trim();
      else asked = await quickPick.isVisible();
      if (!shown && !asked) await page.waitForTimeout(250);
    }
    if (shown.startsWith(title)) return;
    const what = shown ? `the panel "${shown}"` : asked ? 'a quick pick' : 'nothing';
    if (attempt === 3) assert.fail(`${label} opened ${what}, not ${title}`);
    if (shown) await tab.locator('.codicon-close').click();
    else if (asked) await page.keyboard.press('Escape');
  }
}

/** Right-clicks an explorer row and returns the labels of its context menu. */
export async function contextMenuLabels(page: Page, ...segments: string[]): Promise<string[]> {
  const row = await revealInExplorer(page, ...segments);
  await row.click({ button: 'right' });
  const items = page.locator('.context-view .monaco-menu .action-item:not(.disabled) .action-label');
  await items.first().waitFor();
  return (await items.allTextContents()).map((t) => t.trim()).filter(Boolean);
}

export async function clickContextMenu(page: Page, label: string, ...segments: string[]): Promise<void> {
  await chooseFromContextMenu(page, await revealInExplorer(page, ...segments), label);
}

/** Right-clicks `target` (e.g. an explorer row, keeping the current selection) and chooses `label`. */
export async function chooseFromContextMenu(page: Page, target: Locator, label: string): Promise<void> {
  await target.click({ button: 'right' });
  // Menus closed earlier can linger in the DOM: only the visible one counts.
  const item = page.locator('.context-view .monaco-menu .action-item .action-label:visible', { hasText: label }).first();
  await item.waitFor();
  await item.hover();
  await item.click();
  // A click that lands while the menu is still settling is dropped; the keyboard then chooses the item.
  const menu = page.locator('.context-view .monaco-menu:visible');
  if (await menu.isVisible().catch(() => false)) {
    await page.waitForTimeout(300);
    if (await menu.isVisible().catch(() => false)) await page.keyboard.press('Enter');
  }
}

/** The frame of the webview whose document holds `selector` (webviews are nested iframes). */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.$(selector).catch(() => null)) return frame;
    }
    await page.waitForTimeout(250);
  }
  // Say what the user would have seen instead: notifications, and a screenshot of the window.
  const shot = await screenshot(page, `no-webview-${selector.replace(/[^a-z0-9]+/gi, '-')}`);
  const notes = await page
    .locator('.notification-toast .notification-list-item-message')
    .allTextContents()
    .catch(() => []);
  throw new Error(`no webview frame shows ${selector}; notifications: ${JSON.stringify(notes)}; screenshot: ${shot}`);
}

/** The names of the window's Web Workers that answer (the workbench runs workers of its own, some busy). */
export async function workerNames(page: Page): Promise<string[]> {
  const names = await Promise.all(
    page
      .workers()
      .map((worker) =>
        Promise.race([worker.evaluate(() => self.name), new Promise<string>((resolve) => setTimeout(() => resolve(''), 5_000))]).catch(
          () => '',
        ),
      ),
  );
  return names.filter(Boolean);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Answers code-server's own open dialog (a quick input taking a path) with `filePath`. The dialog
 * fills in its starting folder a moment after it opens; typing before that would be overwritten.
 */
export async function answerOpenDialog(page: Page, filePath: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !(await input.inputValue()).startsWith('/')) await page.waitForTimeout(100);
  await page.waitForTimeout(300);
  await input.fill(filePath);
  await page.waitForTimeout(300);
  await input.press('Enter');
}

/**
 * The backend badge in a webview, once TensorFlow.js has started. This headless Chromium draws WebGL
 * with SwiftShader, a software renderer, so the webviews run on WebAssembly and the badge's tooltip
 * says why; that is the expected choice, not a fallback, so no notice is shown.
 */
export async function assertWasmBadge(frame: Frame): Promise<void> {
  await frame.waitForFunction(() => {
    const badge = document.getElementById('backend')?.textContent?.trim();
    return badge !== undefined && badge !== 'starting…';
  });
  assert.equal((await frame.textContent('#backend'))?.trim(), 'WASM');
  assert.match(
    (await frame.getAttribute('#backend', 'title')) ?? '',
    /^TensorFlow\.js backend: WebGL here is a software renderer \(Google SwiftShader\), so models run on WebAssembly, which is faster\.$/,
  );
  assert.equal(await frame.locator('#backend-notice:not([hidden])').count(), 0, 'no backend notice');
}

/** The workspace holds more than one model: the first time, VS Code asks which one explains (then remembers it). */
export async function pickModelIfAsked(page: Page, model: string): Promise<void> {
  const picker = page.locator('.quick-input-widget', { hasText: 'with which model?' });
  const asked = await picker.waitFor({ state: 'visible', timeout: 15_000 }).then(
    () => true,
    () => false,
  );
  if (!asked) return;
  await picker.locator('input').fill(model);
  await picker.locator('.monaco-list-row', { hasText: model }).first().waitFor();
  await picker.locator('input').press('Enter');
}

/** Runs a command from the Command Palette by its title, as a person would (F1, type, Enter). */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 0; attempt < 20 && !(await input.isVisible()); attempt++) {
    await page.keyboard.press('F1');
    await page.waitForTimeout(500);
  }
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}
