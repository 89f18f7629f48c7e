/**
 * The Analyze panel's folder pass in a real VS Code (code-server in headless Chromium, whose WebGL is
 * SwiftShader, so the webview runs on WebAssembly) against the engine's own feature pass in Node on
 * the same backend: the same Fashion-MNIST images through the sample model, the same batches, the same
 * layers (features of gap, channel peaks of conv3). What the ratio leaves to the webview is its
 * pipeline: the host's file reads, the messages, the decoding.
 *   CONVLENS_BENCH_IMAGES=2000 npm run bench -- analyze-webview   # the folder size (default 500)
 *
 * The engine is timed warm (after a pass), and so is the panel: a pass after another in the same
 * panel. The first pass of a new panel (code compiled, WebAssembly started) and the whole wait from
 * the menu are reported beside it. Engine and panel take turns, and each ratio is to the engine pass
 * just after: on a shared machine the load drifts more between minutes than between seconds.
 */
import { readdirSync, utimesSync } from 'node:fs';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { analyseFolder, defaultFeatureLayer, folderBatchSize } from '../src/engine/dataset/features';
import { imagesToInput, type Preprocessing } from '../src/engine/preprocess';
import { loadModel } from '../src/engine/readers';
import { fileModelSource } from '../src/node/fileModelSource';
import { useNodeBackend } from '../src/node/tfBackend';
import { codeServerInstalled, e2eCache, startCodeServer } from '../test/support/codeServer';
import { CLASS_FOLDERS, fashionMnistTest, skipWithoutFashionMnist, writeFashionFolder } from '../test/support/fashionMnist';
import { sampleModel, sampleWorkspace } from '../test/support/paths';
import {
  chooseFromContextMenu,
  launchBrowser,
  openWorkbench,
  pickModelIfAsked,
  revealInExplorer,
  webviewFrame,
} from '../test/support/workbench';
import { table } from './timing';

const REPEATS = 5;
const FOLDER = 'fashion-bench';
const PREPROCESSING: Preprocessing = { width: 28, height: 28, channels: 'gray', scale: '0-255' };
const BATCH = folderBatchSize('wasm', PREPROCESSING.width * PREPROCESSING.height);

export async function benchAnalyzeWebview(count = Number(process.env.CONVLENS_BENCH_IMAGES ?? 500)): Promise<string> {
  if (!codeServerInstalled()) return `Skipped: code-server is not installed in ${e2eCache} (run scripts/install-e2e.sh).`;
  if (skipWithoutFashionMnist) return `Skipped: ${skipWithoutFashionMnist}`;
  const { backend } = await useNodeBackend();
  if (backend !== 'wasm') return `Skipped: the engine runs on the ${backend} backend in Node, and the webview here on WebAssembly.`;
  const rates = await measure(count);
  const engine = median(rates.engine);
  const row = (label: string, values: number[]) => {
    // Each ratio against the engine pass timed just after it: the machine's load drifts during a run.
    const ratios = values.map((rate, i) => rate / rates.engine[i]);
    return [label, count, median(values).toFixed(0), median(ratios).toFixed(2)];
  };
  const list = (values: number[]) => values.map((r) => r.toFixed(0)).join(', ');
  console.error(
    `  images/s: engine ${list(rates.engine)}; pass ${list(rates.pass)}; from the layer chosen ${list(rates.fromSelect)}; first pass ${list(rates.first)}; from the menu ${list(rates.fromMenu)}`,
  );
  return table(
    [`Folder pass (WebAssembly, batches of ${BATCH})`, 'images', 'images/s', 'ratio'],
    [
      ['Engine in Node: decoded pixels → gap features, predictions, conv3 peaks (baseline)', count, engine.toFixed(0), '1.00'],
      row('Analyze panel in VS Code: host reads, messages, decoding, the same pass', rates.pass),
      row('  from choosing the layer to the features (the cache looked up, then the pass)', rates.fromSelect),
      row('  the first pass of a new panel', rates.first),
      row('  from the menu click to the features (panel, model, cache lookup and first pass)', rates.fromMenu),
    ],
  );
}

/**
 * REPEATS times: Analyze Images with Model on `count` images in a new panel, and in it a second pass
 * over gap's features (conv3's in between), then the engine's pass in Node. Before each panel's pass
 * one image's modification time moves, so the feature cache misses and the folder is read and run
 * again. The panel's pass is the webview's own measure of `analyseFolder`, the interval the engine is
 * timed over; its first batch is asked for while the cache is looked up, so the time from choosing
 * the layer is reported too.
 */
async function measure(count: number): Promise<Record<'engine' | 'pass' | 'fromSelect' | 'first' | 'fromMenu', number[]>> {
  const enginePass = await engine(count);
  const server = await startCodeServer(sampleWorkspace, {
    prepare: (workspace) => writeFashionFolder(path.join(workspace, FOLDER), count),
  });
  const browser = await launchBrowser();
  let touches = 0;
  const missTheCache = () => {
    const classFolder = path.join(server.workspace, FOLDER, CLASS_FOLDERS[0]);
    const time = new Date(Date.now() - 1000 * ++touches);
    utimesSync(path.join(classFolder, readdirSync(classFolder)[0]), time, time);
  };
  const rates = {
    engine: [] as number[],
    pass: [] as number[],
    fromSelect: [] as number[],
    first: [] as number[],
    fromMenu: [] as number[],
  };
  try {
    const page = await openWorkbench(browser, server.url, server.workspace);
    for (let i = 0; i < REPEATS; i++) {
      missTheCache();
      const start = performance.now();
      await chooseFromContextMenu(page, await revealInExplorer(page, FOLDER), 'Analyze Images with Model');
      // The sample workspace holds two models: the first panel asks which (then it is remembered).
      if (i === 0) await pickModelIfAsked(page, 'fashion-mnist-cnn/model.json');
      const frame = await webviewFrame(page, '#analyze-status', 120_000);
      await featuresOf(frame, 'gap', count);
      rates.fromMenu.push(count / ((performance.now() - start) / 1000));
      rates.first.push(count / ((await passMs(frame)) / 1000));
      await mapOf(frame, 'gap');
      for (const layer of ['conv3', 'gap']) {
        missTheCache();
        const chosen = performance.now();
        await frame.selectOption('#feature-layer', layer);
        await featuresOf(frame, layer, count);
        if (layer === 'gap') rates.fromSelect.push(count / ((performance.now() - chosen) / 1000));
        await mapOf(frame, layer);
      }
      rates.pass.push(count / ((await passMs(frame)) / 1000));
      await closeAnalyzePanel(page);
      // After the panel, not before: the first would run while the workbench is still starting.
      rates.engine.push(await enginePass.imagesPerSecond());
    }
    return rates;
  } finally {
    enginePass.dispose();
    await browser.close();
    await server.stop();
  }
}

/** The engine's feature pass over the images' pixels (decoded beforehand), warmed up by a first pass. */
async function engine(count: number): Promise<{ imagesPerSecond(): Promise<number>; dispose(): void }> {
  const model = await loadModel(fileModelSource(sampleModel));
  const { images } = fashionMnistTest(count);
  const pass = () =>
    analyseFolder(model, {
      count,
      loadBatch: async (start, end) => imagesToInput(images.slice(start, end), PREPROCESSING),
      featureLayer: defaultFeatureLayer(model),
      peakLayer: 'conv3',
      batchSize: BATCH,
    });
  await pass();
  return {
    async imagesPerSecond() {
      const start = performance.now();
      await pass();
      return count / ((performance.now() - start) / 1000);
    },
    dispose: () => model.dispose(),
  };
}

/** Waits until the panel says it computed (not read from the cache) the features of `layer`; `where`: "" or " (ONNX Runtime…)". */
export async function featuresOf(frame: Frame, layer: string, count: number, where = ''): Promise<void> {
  const done = `Features of ${layer} for ${count} images${where}.`;
  try {
    await frame.waitForFunction((text) => document.getElementById('analyze-status')?.textContent?.trim() === text, done, {
      timeout: Number(process.env.CONVLENS_BENCH_WAIT_MS ?? 600_000),
      polling: 20,
    });
  } catch (error) {
    const status = await frame.textContent('#analyze-status').catch(() => null);
    const notices = await frame
      .locator('.notice')
      .allTextContents()
      .catch(() => []);
    throw new Error(
      `the panel never said "${done}": it says "${status?.trim()}"${notices.length ? `, with notices ${JSON.stringify(notices)}` : ''} (${(error as Error).message})`,
    );
  }
}

/** Waits until the map shows `layer`'s features: the panel is idle again, as when a person looks at it. */
export async function mapOf(frame: Frame, layer: string): Promise<void> {
  await frame.waitForFunction(
    (prefix) => document.getElementById('map-note')?.textContent?.startsWith(prefix) ?? false,
    `PCA of ${layer} features`,
    { timeout: 600_000 },
  );
}

/** The webview's own measure of its last folder pass (User Timing, so DevTools shows it too). */
export async function passMs(frame: Frame): Promise<number> {
  const [durations, loading] = await frame.evaluate(() => {
    const passes = performance.getEntriesByName('ConvLens folder pass', 'measure');
    const last = passes.at(-1);
    // The time the last pass waited for its batches: the host's reads, the messages, the decoding.
    const loads = performance
      .getEntriesByName('ConvLens folder batch load', 'measure')
      .filter((entry) => last && entry.startTime >= last.startTime && entry.startTime <= last.startTime + last.duration);
    return [passes.map((entry) => entry.duration), loads.map((entry) => entry.duration)];
  });
  if (durations.length === 0) throw new Error('the Analyze webview recorded no folder pass');
  const waited = loading.reduce((sum, ms) => sum + ms, 0);
  console.error(
    `  pass ${durations.at(-1)!.toFixed(0)} ms, of which waiting for batches ${waited.toFixed(0)} ms (${loading.map((ms) => ms.toFixed(0)).join(' + ')})`,
  );
  return durations.at(-1)!;
}

export async function closeAnalyzePanel(page: Page, folder = FOLDER): Promise<void> {
  const tab = page.locator('.tabs-container .tab', { hasText: `Analyze: ${folder}` });
  await tab.hover();
  await tab.locator('.codicon-close').click();
  await tab.waitFor({ state: 'detached' });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
