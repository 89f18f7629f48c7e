/**
 * The Analyze panel's folder pass for an ONNX model in a real VS Code (code-server, headless Chromium):
 * the extension host runs it on ONNX Runtime in a worker thread (src/panels/analyze/nativePass.ts),
 * against PyTorch's forward pass over batches of 16 with all cores, measured in the same run. The
 * folder is 128 photos at 224×224 as JPEG files (bench/hostPass.ts), the model the seeded torchvision
 * ResNet-18 of section `torch`. The panel's time is the webview's own measure of its pass (files read,
 * decoded and run, summaries back); PyTorch's is the forward pass alone over a ready tensor.
 *   npm run bench -- analyze-native
 */
import { copyFileSync, mkdirSync, readdirSync, utimesSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { codeServerInstalled, e2eCache, startCodeServer } from '../test/support/codeServer';
import { sampleWorkspace } from '../test/support/paths';
import {
  chooseFromContextMenu,
  launchBrowser,
  openWorkbench,
  pickModelIfAsked,
  revealInExplorer,
  webviewFrame,
} from '../test/support/workbench';
import { closeAnalyzePanel, featuresOf, mapOf, median, passMs } from './analyzeWebview';
import { writePhotos } from './hostPass';
import { ensureTorch, PYTHON, SCRIPTS, torchRun } from './sideBySide';
import { table } from './timing';

const FOLDER = 'photos-224';
const COPIES = 32;
const REPEATS = 3;
const NATIVE = ' (ONNX Runtime in the extension host)';

export async function benchAnalyzeNative(modelsDir: string): Promise<string> {
  if (!codeServerInstalled()) return `Skipped: code-server is not installed in ${e2eCache} (run scripts/install-e2e.sh).`;
  if (!ensureTorch()) return `Skipped: ${PYTHON} has no torch and torchvision, and apt-get could not install them here.`;
  console.error(execFileSync(PYTHON, [path.join(SCRIPTS, 'export_models.py'), '--out', modelsDir], { encoding: 'utf8' }).trim());
  const cores = os.availableParallelism();
  const torchMs = torchRun(modelsDir, cores, ['resnet18'], ['batch16'], 3).results.resnet18.batch16;
  const torchRate = 16000 / torchMs;

  const count = COPIES * 4;
  const server = await startCodeServer(sampleWorkspace, {
    prepare: async (workspace) => {
      mkdirSync(path.join(workspace, 'resnet18'));
      copyFileSync(path.join(modelsDir, 'resnet18.onnx'), path.join(workspace, 'resnet18', 'resnet18.onnx'));
      await writePhotos(path.join(workspace, FOLDER), COPIES);
    },
  });
  const browser = await launchBrowser();
  const panel: number[] = [];
  let touches = 0;
  const missTheCache = () => {
    const folder = path.join(server.workspace, FOLDER);
    const time = new Date(Date.now() - 1000 * ++touches);
    utimesSync(path.join(folder, readdirSync(folder)[0]), time, time);
  };
  try {
    const page = await openWorkbench(browser, server.url, server.workspace);
    await chooseFromContextMenu(page, await revealInExplorer(page, FOLDER), 'Analyze Images with Model');
    await pickModelIfAsked(page, 'resnet18/resnet18.onnx');
    const frame = await webviewFrame(page, '#analyze-status', 120_000);
    const layer = await frame.inputValue('#feature-layer');
    await featuresOf(frame, layer, count, NATIVE);
    const first = count / ((await passMs(frame)) / 1000);
    await mapOf(frame, layer);
    const other = await frame.$eval(
      '#feature-layer',
      (select, chosen) => {
        const options = [...(select as HTMLSelectElement).options].map((o) => o.value);
        return options[options.indexOf(chosen as string) - 1];
      },
      layer,
    );
    for (let i = 0; i < REPEATS; i++) {
      for (const chosen of [other, layer]) {
        missTheCache();
        await frame.selectOption('#feature-layer', chosen);
        await featuresOf(frame, chosen, count, NATIVE);
        await mapOf(frame, chosen);
      }
      panel.push(count / ((await passMs(frame)) / 1000));
    }
    await closeAnalyzePanel(page, FOLDER);
    console.error(
      `  images/s: PyTorch ${torchRate.toFixed(1)}; panel first pass ${first.toFixed(1)}, then ${panel.map((r) => r.toFixed(1)).join(', ')}`,
    );
    const rate = median(panel);
    return table(
      [`ResNet-18, ${count} photos 224×224 (${cores} threads)`, 'images/s', 'ratio to PyTorch'],
      [
        ['PyTorch: forward over batches of 16 (baseline)', torchRate.toFixed(1), '1.00'],
        [
          "Analyze panel: the host's pass on ONNX Runtime (files read, decoded, run; summaries to the page)",
          rate.toFixed(1),
          (rate / torchRate).toFixed(2),
        ],
        ['  the first pass of a new panel (the worker started, the model opened)', first.toFixed(1), (first / torchRate).toFixed(2)],
      ],
    );
  } finally {
    await browser.close();
    await server.stop();
  }
}
