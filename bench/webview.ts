/**
 * What the user waits for in VS Code, measured in a real one (code-server in headless Chromium, whose
 * WebGL is SwiftShader, so models run on WebAssembly): from choosing Visualize Layers in the explorer's menu to the first layer tree on
 * screen, and from choosing Explain with Grad-CAM to the overlay. The baseline, measured in the same
 * run, is VS Code's own image preview opened from the same menu: another webview editor showing a file.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { codeServerInstalled, e2eCache, startCodeServer } from '../test/support/codeServer';
import { sampleWorkspace } from '../test/support/paths';
import { chooseFromContextMenu, launchBrowser, openWorkbench, revealInExplorer, webviewFrame } from '../test/support/workbench';
import { OVERLAY_PAINTED } from '../src/shared/explainProtocol';
import { table } from './timing';

interface WebviewBenchModel {
  label: string;
  /** Explorer path of the model in the bench workspace. */
  segments: string[];
}

const REPEATS = 3;

/** `exported`: the folder of bench/pytorch/export_models.py, whose ResNet-18 is timed where it was written. */
export async function benchWebview(sharedModels: string, exported: string): Promise<string> {
  if (!codeServerInstalled()) return `Skipped: code-server is not installed in ${e2eCache} (run scripts/install-e2e.sh).`;
  const models: WebviewBenchModel[] = [
    { label: 'sample Fashion-MNIST CNN (tfjs-layers, 28×28)', segments: ['fashion-mnist-cnn', 'model.json'] },
    { label: 'MobileNetV2 0.35 (ONNX from torchvision, 64×64)', segments: ['mobilenet-onnx', 'mobilenet_small.onnx'] },
  ];
  const teachable = path.join(sharedModels, 'tfjs-layers-teachable-machine-7segment');
  const resnet = path.join(exported, 'resnet18.onnx');
  const server = await startCodeServer(sampleWorkspace, {
    prepare: (workspace) => {
      mkdirSync(path.join(workspace, 'mobilenet-onnx'));
      copyFileSync(
        path.join(__dirname, '..', 'test', 'fixtures', 'explain', 'mobilenet_small.onnx'),
        path.join(workspace, 'mobilenet-onnx', 'mobilenet_small.onnx'),
      );
      if (existsSync(teachable)) cpSync(teachable, path.join(workspace, 'mobilenet-teachable'), { recursive: true });
      if (existsSync(resnet)) {
        mkdirSync(path.join(workspace, 'resnet18-onnx'));
        copyFileSync(resnet, path.join(workspace, 'resnet18-onnx', 'resnet18.onnx'));
      }
    },
  });
  if (existsSync(teachable))
    models.push({ label: 'MobileNetV2 0.35 (Teachable Machine, tfjs-layers, 224×224)', segments: ['mobilenet-teachable', 'model.json'] });
  if (existsSync(resnet))
    models.push({ label: 'ResNet-18 (ONNX from torchvision, 224×224)', segments: ['resnet18-onnx', 'resnet18.onnx'] });

  const browser = await launchBrowser();
  try {
    const page = await openWorkbench(browser, server.url, server.workspace);
    const baseline = await median(page, async () => {
      await chooseFromContextMenu(page, await revealInExplorer(page, 'images', 'sneaker.png'), 'Open to the Side');
      await webviewFrame(page, 'body > img');
    });
    const rows: (string | number)[][] = [['VS Code image preview (baseline)', baseline.toFixed(0), '1.00', '', '']];
    console.error(`  baseline ${baseline.toFixed(0)} ms`);
    for (const model of models) {
      const tree = await median(page, async () => {
        await chooseFromContextMenu(page, await revealInExplorer(page, ...model.segments), 'Visualize Layers');
        await webviewFrame(page, '#layer-tree vscode-tree-item');
      });
      // Explain uses the model of the viewer opened last: open it (untimed), then time the explanation.
      const overlay = await median(
        page,
        async () => {
          await chooseFromContextMenu(page, await revealInExplorer(page, 'images', 'trouser.png'), 'Explain with Grad-CAM');
          const frame = await webviewFrame(page, '.card canvas', 300_000);
          await frame.waitForFunction(() => /^Grad-CAM for/.test(document.querySelector('.card .caption')?.textContent ?? ''), undefined, {
            timeout: 300_000,
          });
          // When the page painted the overlay: the harness may get to ask only later, while the page works on.
          return frame.evaluate((name) => {
            // The first: the host's first overlays, when it sends them, else the page's own.
            const mark = performance.getEntriesByName(name)[0];
            return mark ? performance.timeOrigin + mark.startTime : undefined;
          }, OVERLAY_PAINTED);
        },
        async () => {
          await chooseFromContextMenu(page, await revealInExplorer(page, ...model.segments), 'Visualize Layers');
          await webviewFrame(page, '#layer-tree vscode-tree-item');
        },
      );
      console.error(`  ${model.label}: tree ${tree.toFixed(0)} ms, Grad-CAM ${overlay.toFixed(0)} ms`);
      rows.push([model.label, tree.toFixed(0), (tree / baseline).toFixed(2), overlay.toFixed(0), (overlay / baseline).toFixed(2)]);
    }
    return table(['Model', 'Menu → layer tree (ms)', 'ratio', 'Menu → Grad-CAM overlay (ms)', 'ratio'], rows);
  } finally {
    await browser.close();
    await server.stop();
  }
}

/** Median of REPEATS timed runs, each from a workbench with no editor open (after `setup`, untimed). */
async function median(page: Page, run: () => Promise<number | undefined | void>, setup?: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    await closeAllEditors(page);
    await setup?.();
    const start = Date.now();
    // `run` may say when (epoch ms) what it waited for happened, if it learnt that after the fact.
    const end = (await run()) ?? Date.now();
    times.push(end - start);
  }
  await closeAllEditors(page);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function closeAllEditors(page: Page): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill('>View: Close All Editors');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'View: Close All Editors' }).first().waitFor();
  await input.press('Enter');
  await page
    .locator('.editor-group-container .tab')
    .first()
    .waitFor({ state: 'detached', timeout: 10_000 })
    .catch(() => undefined);
  await page.waitForTimeout(500);
}
