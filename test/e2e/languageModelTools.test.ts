/**
 * End to end, in a real VS Code: ConvLens's language-model tools called as an agent calls them, through
 * `vscode.lm.invokeTool` (a second extension, test/support/toolDriver.ts, makes the calls; no chat model
 * is needed), on the sample workspace's ImageNet SqueezeNet and photos. Each returns what its
 * description promises; the explanation's text agrees with the map (its first region holds the map's
 * maximum, computed here independently); the folder analysis asks first and can be refused; a long
 * explanation stops when cancelled; and a path outside the workspace is refused in one sentence.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { explain } from '../../src/engine/explain';
import { openModel } from '../../src/engine/openModel';
import { imageToInput } from '../../src/engine/preprocess';
import { fileModelSource } from '../../src/node/fileModelSource';
import { readImageFile } from '../../src/node/imageFile';
import { useNodeBackend } from '../../src/node/tfBackend';
import { sampleWorkspace } from '../support/paths';
import { skipWithoutCodeServer, workbenchSession } from '../support/session';
import { installToolDriver, invokeTool, listTools, resultText, type ToolResponse } from '../support/toolDriver';
import { screenshot } from '../support/workbench';

const MODEL = 'squeezenet/SqueezeNet_fp16.onnx';
const CAT = 'photos/chelsea.png';
/** ImageNet's domestic cats: tabby, tiger cat, Persian, Siamese, Egyptian cat. */
const CAT_CLASSES = [281, 282, 283, 284, 285];

describe('Language-model tools in VS Code', { skip: skipWithoutCodeServer, timeout: 600_000 }, () => {
  let requests = '';
  const session = workbenchSession(sampleWorkspace, {
    prepare: (workspace) => {
      requests = installToolDriver(workspace);
      // A folder labelled by class: the espresso right, the tabby cat taken for an Egyptian cat.
      for (const [folder, photo] of [
        ['espresso', 'coffee.png'],
        ['281', 'chelsea.png'],
      ]) {
        mkdirSync(path.join(workspace, 'labelled', folder), { recursive: true });
        copyFileSync(path.join(workspace, 'photos', photo), path.join(workspace, 'labelled', folder, photo));
      }
    },
  });

  test('the editor lists the four tools with their descriptions and inputs', async () => {
    const tools = (await listTools(requests)).filter((tool) => tool.name.startsWith('convlens_'));
    assert.deepEqual(tools.map((tool) => tool.name).sort(), [
      'convlens_analyzeFolder',
      'convlens_describeModel',
      'convlens_explain',
      'convlens_predict',
    ]);
    for (const tool of tools) {
      assert.ok(!tool.description.startsWith('%'), `${tool.name}'s description is localised: ${tool.description}`);
      assert.ok(tool.inputSchema?.required?.includes('model'), `${tool.name} requires a model`);
    }
    assert.match(tools.find((tool) => tool.name === 'convlens_explain')!.description, /why an image classifier/);
  });

  test('convlens_describeModel: the layer table, shapes, parameters and preprocessing', async () => {
    const text = resultText(await invokeTool(requests, { tool: 'convlens_describeModel', input: { model: MODEL } }));
    assert.match(text, /^squeezenet_old \(ONNX model, SqueezeNet_fp16\.onnx\)$/m);
    assert.match(text, /^Input \(None, 3, 224, 224\) {2}Output \(None, 1000, 1, 1\)$/m);
    assert.match(text, /^Conv_0 +Conv +\(None, 64, 111, 111\) +1,792$/m);
    assert.equal(text.match(/^\S+ +Conv +\(/gm)?.length, 26, '26 convolutions');
    assert.match(text, /^Total params: 1,2\d\d,\d\d\d$/m);
    assert.match(text, /^Preprocessing: 224x224, bgr, scale caffe/m);
    assert.match(text, /^Classes: 1000, named by Labels\.txt$/m);
  });

  test('convlens_predict: a cat for the cat, espresso for the coffee', async () => {
    const text = resultText(
      await invokeTool(requests, { tool: 'convlens_predict', input: { model: MODEL, images: [CAT, 'photos/coffee.png'], top: 3 } }),
    );
    const blocks = text.split(/\n\n/).slice(1);
    assert.equal(blocks.length, 2, text);
    const top = (block: string) => /^ +([\d.]+)% +(.+) +\(class (\d+)\)$/m.exec(block)!;
    assert.match(blocks[0], /^photos\/chelsea\.png:/);
    assert.ok(CAT_CLASSES.includes(Number(top(blocks[0])[3])), `chelsea.png: ${top(blocks[0])[2]}`);
    assert.equal(blocks[0].trim().split('\n').length, 4, 'three classes');
    assert.equal(top(blocks[1])[2].trim(), 'espresso');
    assert.ok(Number(top(blocks[1])[1]) > 90);
  });

  test("convlens_explain: the overlay as a PNG, and regions whose first holds the map's maximum", async () => {
    const response = await invokeTool(requests, { tool: 'convlens_explain', input: { model: MODEL, image: CAT, method: 'gradcam' } });
    const text = resultText(response);
    const headline =
      /^Grad-CAM of "(.+)" \(class (\d+), probability ([\d.]+)%\) at layer (\S+) for photos\/chelsea\.png \(451×300 pixels\)\.$/m.exec(
        text,
      );
    assert.ok(headline, text);
    const classIndex = Number(headline[2]);
    assert.ok(CAT_CLASSES.includes(classIndex), `explained ${headline[1]}`);
    const first =
      /^1\. ([a-z ]+): box (\d+),(\d+)–(\d+),(\d+), peak ([\d.]+) at (\d+),(\d+), (\d+)% of the map on (\d+)% of the image$/m.exec(text);
    assert.ok(first, text);
    const [x0, y0, x1, y1] = first.slice(2, 6).map(Number);
    assert.equal(first[6], '1.00', 'the first region has the peak of a map scaled to [0, 1]');

    // The same map, computed here: its maximum must lie in the first region's box.
    await useNodeBackend();
    const opened = await openModel(fileModelSource(path.join(sampleWorkspace, MODEL)));
    const photo = await readImageFile(path.join(sampleWorkspace, CAT));
    const x = imageToInput(photo, opened.input.preprocessing);
    const explanation = await explain(opened.model, x, { method: 'gradcam', classIndex });
    const [, height, width] = explanation.maps.shape;
    const map = await explanation.maps.data();
    tf.dispose([x, explanation.maps]);
    opened.model.dispose();
    let best = 0;
    for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
    const peakX = ((best % width) + 0.5) * (photo.width / width);
    const peakY = (Math.floor(best / width) + 0.5) * (photo.height / height);
    assert.ok(x0 <= peakX && peakX <= x1 && y0 <= peakY && peakY <= y1, `the maximum at ${peakX},${peakY} lies in ${x0},${y0}–${x1},${y1}`);
    assert.ok(
      Math.abs(Number(first[7]) - peakX) <= 2 && Math.abs(Number(first[8]) - peakY) <= 2,
      `peak reported at ${first[7]},${first[8]}`,
    );
    // Shares are parts of one whole: the listed regions and the rest add up to 100%.
    const listed = [...text.matchAll(/^\d\. .*, (\d+)% of the map on/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    const weaker = Number(/ hold (\d+)% of the map\.$/m.exec(text)?.[1] ?? 0);
    const rest = Number(/^Outside the regions: (\d+)%/m.exec(text)![1]);
    assert.ok(Math.abs(listed + weaker + rest - 100) <= 3, text);

    // The picture: a PNG at the photo's size, named in the text.
    const file = /is the PNG file (.+\.png)$/m.exec(text)?.[1];
    assert.ok(file && existsSync(file), `the overlay file ${file}`);
    const png = PNG.sync.read(readFileSync(file));
    assert.deepEqual([png.width, png.height], [451, 300]);
    // VS Code 1.100 has image parts only as a proposal: the text names the file, and no data part comes.
    assert.ok(response.ok && response.parts.every((part) => 'text' in part));
    copyFileSync(file, path.join(path.dirname(await screenshot(session.page, 'lm-tools-workbench')), 'lm-tools-explain-overlay.png'));
  });

  test('convlens_analyzeFolder asks first; once allowed: accuracy, the confusion and the most confident mistake', async () => {
    const pending = invokeTool(requests, { tool: 'convlens_analyzeFolder', input: { model: MODEL, folder: 'labelled' } });
    const detail = await answerConfirmation(session.page, 'Yes', 'lm-tools-confirm-analyze');
    assert.match(detail, /run squeezenet\/SqueezeNet_fp16\.onnx over 2 images in labelled/);
    const text = resultText(await pending);
    assert.match(text, /^2 images in labelled\.$/m);
    assert.match(text, /^Accuracy: 50\.0% \(1 of 2 labelled images right\)\.$/m);
    assert.match(text, /^ {2}tabby, tabby cat → Egyptian cat: 1$/m);
    assert.match(text, /^ {2}281\/chelsea\.png: labelled tabby, tabby cat, predicted Egyptian cat with [\d.]+%$/m);
  });

  test('refused in the confirmation, the analysis does not run', async () => {
    const pending = invokeTool(requests, { tool: 'convlens_analyzeFolder', input: { model: MODEL, folder: 'photos' } });
    await answerConfirmation(session.page, 'Cancel');
    const response = await pending;
    assert.equal(response.ok, false);
    assert.equal((response as Extract<ToolResponse, { ok: false }>).cancelled, true, JSON.stringify(response));
  });

  test('a long explanation stops working when its call is cancelled', async (t) => {
    // The editor answers a cancelled call at once whatever the tool does; the extension host's CPU time
    // shows whether the tool itself stopped.
    const before = await extensionHostCpuSeconds(session.server.scratch);
    const pending = invokeTool(requests, {
      tool: 'convlens_explain',
      input: { model: MODEL, image: CAT, method: 'scorecam' },
      // Counted from the call, the confirmation included: long enough for a loaded machine to show it.
      cancelAfterMs: 20_000,
    });
    pending.catch(() => undefined); // awaited below; a failure before then must not surface unhandled
    const detail = await answerConfirmation(session.page, 'Yes');
    assert.match(detail, /Run Score-CAM\?.*runs the network many times/);
    const response = await pending;
    assert.equal(response.ok, false, 'cancelled before it finished');
    assert.equal((response as Extract<ToolResponse, { ok: false }>).cancelled, true, JSON.stringify(response));
    const atCancel = await extensionHostCpuSeconds(session.server.scratch);
    await new Promise((r) => setTimeout(r, 3000));
    const after = await extensionHostCpuSeconds(session.server.scratch);
    t.diagnostic(`CPU: ${(atCancel - before).toFixed(1)} s until the cancel, ${(after - atCancel).toFixed(2)} s in the 3 s after it`);
    assert.ok(atCancel - before > 1, `the explanation was running: ${(atCancel - before).toFixed(1)} s of CPU`);
    assert.ok(after - atCancel < 0.5, `and stopped: ${(after - atCancel).toFixed(2)} s of CPU in the 3 s after the cancel`);
  });

  test('paths outside the workspace and missing files are refused in one sentence', async () => {
    const outside = await invokeTool(requests, { tool: 'convlens_predict', input: { model: MODEL, images: ['../../../etc/hostname'] } });
    assert.deepEqual(
      outside.ok ? undefined : outside.message,
      '../../../etc/hostname is outside the workspace; ConvLens tools read only files in the open folders.',
    );
    const absolute = await invokeTool(requests, { tool: 'convlens_describeModel', input: { model: '/etc/hostname' } });
    assert.deepEqual(
      absolute.ok ? undefined : absolute.message,
      '/etc/hostname is outside the workspace; ConvLens tools read only files in the open folders.',
    );
    const missing = await invokeTool(requests, { tool: 'convlens_explain', input: { model: MODEL, image: 'photos/dog.png' } });
    assert.deepEqual(missing.ok ? undefined : missing.message, 'photos/dog.png: no such file or folder in the workspace.');
    const notImage = await invokeTool(requests, { tool: 'convlens_predict', input: { model: MODEL, images: ['photos/SOURCES.md'] } });
    assert.deepEqual(
      notImage.ok ? undefined : notImage.message,
      'SOURCES.md is not an image ConvLens can decode (png, jpeg, bmp, tiff or webp)',
    );
  });
});

/** CPU seconds used so far by the extension host of the code-server in `scratch` (Linux's /proc). */
async function extensionHostCpuSeconds(scratch: string): Promise<number> {
  const logs = path.join(scratch, 'user-data', 'logs');
  const pids = () =>
    readdirSync(logs)
      .map((session) => path.join(logs, session, 'exthost1', 'remoteexthost.log'))
      .filter((file) => existsSync(file))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/Extension host with pid (\d+) started/g)].map((m) => m[1]));
  // The log is written a little after the host starts.
  for (let wait = 0; wait < 100 && pids().length === 0; wait++) await new Promise((r) => setTimeout(r, 300));
  assert.ok(pids().length, 'the extension host logged its process id');
  const fields = readFileSync(`/proc/${pids().at(-1)}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  // utime and stime, fields 14 and 15 of the line, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Answers the editor's confirmation dialog with `button`; returns its text. */
async function answerConfirmation(page: Page, button: string, shot?: string): Promise<string> {
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 60_000 });
  const text = (await dialog.textContent()) ?? '';
  if (shot) await screenshot(page, shot);
  await dialog.locator('.monaco-button', { hasText: new RegExp(`^${button}$`) }).click();
  await dialog.waitFor({ state: 'detached' });
  return text;
}
