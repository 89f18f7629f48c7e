/**
 * What the Explain page offers a segmentation or detection model: the model's kind, a legend of the
 * predicted classes named from the labels file, the detections placed on the image (the model's own
 * boxes against PyTorch's, test/fixtures/targets/make_decoded_detector.py; a raw SSD head's anchors at
 * the cells torchvision's head flattens them from, on one level and two, by hand), the target each choice explains and its
 * caption words, and the pictures drawn (mask blended per class, outlines, which box a click picks).
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { anchorCells, boxesAreDecoded, detections, segmentationClasses, type Box } from '../../src/engine/explain/detections';
import { targetKindOf } from '../../src/engine/explain/targets';
import type { RunnableModel } from '../../src/engine/graph';
import { openModel } from '../../src/engine/openModel';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { readNchwAsNhwc } from '../support/fixtureModels';
import { repoRoot } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';
import { temporaryFolder } from '../support/temporaryFolders';
import { describeChoice, findPageTargets, firstChoice, targetOf } from '../../webview/explain/pageTargets';
import {
  classColour,
  detectionAt,
  legendEntries,
  maskOverlay,
  outlineDetections,
  toImagePixels,
} from '../../webview/explain/targetPictures';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'targets');
const open = (file: string): Promise<RunnableModel> => loadModel(fileModelSource(path.join(fixtures, file)));
const input = (file: string): tf.Tensor4D => readNchwAsNhwc(path.join(fixtures, file));

before(async () => {
  await useNodeBackend();
});

describe('which targets a model offers', () => {
  test('a per-pixel output segments, a box and class head detects, anything else (a 1 × 1 map of scores too) classifies', async () => {
    const kinds: Record<string, string> = {};
    for (const file of ['seg_tiny.onnx', 'det_tiny.onnx', 'det_boxes_tiny.onnx', 'vit_tiny.onnx']) {
      const model = await open(file);
      kinds[file] = targetKindOf(model);
      model.dispose();
    }
    // The sample's caffe2 SqueezeNet ends in a 1 × 1 map of class scores, [1, 1000, 1, 1]: a classifier.
    const squeezenet = await loadModel(fileModelSource(path.join(repoRoot, 'sample', 'squeezenet', 'SqueezeNet_fp16.onnx')));
    kinds['SqueezeNet_fp16.onnx'] = targetKindOf(squeezenet);
    squeezenet.dispose();
    assert.deepEqual(kinds, {
      'seg_tiny.onnx': 'segmentation',
      'det_tiny.onnx': 'detection',
      'det_boxes_tiny.onnx': 'detection',
      'vit_tiny.onnx': 'class',
      'SqueezeNet_fp16.onnx': 'class',
    });
  });
});

describe('detections placed on the image', () => {
  test("a detector that outputs decoded boxes: each listed detection carries the model's box, as PyTorch gives it", async () => {
    const reference: { detections: { anchor: number; classIndex: number; score: number; box: Box }[][] } = JSON.parse(
      readFileSync(path.join(fixtures, 'det_boxes_reference.json'), 'utf8'),
    );
    const model = await open('det_boxes_tiny.onnx');
    const x = input('det_boxes_tiny_input.npy');
    const listed = await assertNoTensorLeak(() => detections(model, x, 5));
    x.dispose();
    model.dispose();
    listed.forEach((row, b) =>
      row.forEach((found, i) => {
        const expected = reference.detections[b][i];
        assert.deepEqual([found.anchor, found.classIndex], [expected.anchor, expected.classIndex], `image ${b}, detection ${i}`);
        assert.ok(Math.abs(found.score - expected.score) < 1e-4, `image ${b}, detection ${i}: logit ${found.score} vs ${expected.score}`);
        assert.ok(found.box, `image ${b}, detection ${i} has its box`);
        found.box.forEach((v, k) =>
          assert.ok(Math.abs(v - expected.box[k]) < 1e-3, `image ${b}, detection ${i}: box ${found.box} vs ${expected.box}`),
        );
        assert.equal(found.cell, undefined);
      }),
    );
  });

  test("a raw SSD head: each detection is at its anchor's cell, the head's 8×8 grid flattened by row, column, then its 2 anchors", async () => {
    const model = await open('det_tiny.onnx');
    const x = input('det_tiny_input.npy');
    const listed = await assertNoTensorLeak(() => detections(model, x, 8));
    const cells = await assertNoTensorLeak(() => anchorCells(model, 32, 32));
    x.dispose();
    model.dispose();
    // torchvision's SSDHead: view(N, A, K, H, W).permute(0, 3, 4, 1, 2): anchor = (row · 8 + column) · 2 + a.
    const byHand = (anchor: number): Box => {
      const cell = Math.floor(anchor / 2);
      const [row, column] = [Math.floor(cell / 8), cell % 8];
      return [4 * column, 4 * row, 4 * column + 4, 4 * row + 4];
    };
    assert.equal(cells?.length, 128);
    cells!.forEach((cell, anchor) => assert.deepEqual(cell, byHand(anchor), `anchor ${anchor}`));
    for (const found of listed.flat()) {
      assert.equal(found.box, undefined, 'raw regressions are not boxes');
      assert.deepEqual(found.cell, byHand(found.anchor));
    }
  });

  test('a head on two feature levels: the anchors of the 8×8 level (2 per cell), then those of the 4×4 level (3 per cell)', async () => {
    const model = await open('det_levels_tiny.onnx');
    const cells = await assertNoTensorLeak(() => anchorCells(model, 32, 32));
    model.dispose();
    // torchvision's SSDHead concatenates the levels' flattened anchors, each level by row, column, anchor.
    const byHand: Box[] = [];
    for (const { grid, anchors } of [
      { grid: 8, anchors: 2 },
      { grid: 4, anchors: 3 },
    ]) {
      const step = 32 / grid;
      for (let row = 0; row < grid; row++)
        for (let column = 0; column < grid; column++)
          for (let a = 0; a < anchors; a++) byHand.push([column * step, row * step, (column + 1) * step, (row + 1) * step]);
    }
    assert.equal(byHand.length, 176);
    assert.deepEqual(cells, byHand);
  });

  test('no cells where the box output is computed from the head rather than only reshaped', async () => {
    const model = await open('det_boxes_tiny.onnx');
    assert.equal(await assertNoTensorLeak(() => anchorCells(model, 64, 64)), undefined);
    model.dispose();
  });

  test('decoded boxes are ordered and inside the input, in an output not named as regressions', () => {
    const boxes = [
      [1, 2, 30, 40],
      [0, 0, 64, 64],
    ];
    assert.equal(boxesAreDecoded('boxes', boxes, 64, 64), true);
    assert.equal(boxesAreDecoded('bbox_regression', boxes, 64, 64), false, 'named as regressions');
    assert.equal(boxesAreDecoded('boxes', [[5, 2, 3, 40]], 64, 64), false, 'x2 before x1');
    assert.equal(boxesAreDecoded('boxes', [[1, 2, 30, 70]], 64, 64), false, 'past the bottom');
    assert.equal(boxesAreDecoded('boxes', [[-0.9, 0.1, 0.4, 0.8]], 64, 64), false, 'regressions around zero');
    assert.equal(boxesAreDecoded('boxes', [], 64, 64), false);
  });
});

describe("the page's targets", () => {
  test("a segmentation model's legend: the classes present, named from labels.txt, by share; a choice explains the class over its pixels", async () => {
    const folder = temporaryFolder('convlens-seg-');
    copyFileSync(path.join(fixtures, 'seg_tiny.onnx'), path.join(folder, 'seg_tiny.onnx'));
    writeFileSync(path.join(folder, 'labels.txt'), 'background\nsky\nroad\n<b>car</b>\n');
    const opened = await openModel(fileModelSource(path.join(folder, 'seg_tiny.onnx')));
    const x = input('seg_tiny_input.npy');
    const targets = await assertNoTensorLeak(() => findPageTargets(opened, x));
    const plain = await segmentationClasses(opened.model, x);
    x.dispose();
    opened.model.dispose();
    assert.equal(targets?.kind, 'segmentation');
    if (targets?.kind !== 'segmentation') return;
    assert.equal(targets.labels?.origin, 'labels.txt');
    const names = ['background', 'sky', 'road', '<b>car</b>'];
    targets.images.forEach(({ legend }, b) => {
      assert.deepEqual(
        legend.map((e) => [e.classIndex, e.label, e.share]),
        plain[b].classes.map((c) => [c.classIndex, names[c.classIndex], c.share]),
      );
      assert.ok(Math.abs(legend.reduce((sum, e) => sum + e.share, 0) - 1) < 1e-9, 'the shares cover the image');
      assert.ok(
        legend.every((e, i) => i === 0 || legend[i - 1].share >= e.share),
        'largest first',
      );
    });
    const choice = firstChoice(targets, 1);
    assert.deepEqual(choice, { kind: 'segmentation', classIndex: targets.images[1].legend[0].classIndex });
    assert.deepEqual(targetOf(targets, 1, { kind: 'segmentation', classIndex: 3 }), {
      kind: 'segmentation',
      classIndex: 3,
      region: 'predicted',
    });
    assert.equal(describeChoice(targets, 1, { kind: 'segmentation', classIndex: 3 }), '“<b>car</b>” (segmentation, class 3)');
  });

  test('a detection model: the strongest detection first; a choice explains it with its box, as box:I', async () => {
    const opened = await openModel(fileModelSource(path.join(fixtures, 'det_tiny.onnx')));
    const x = input('det_tiny_input.npy');
    const targets = await assertNoTensorLeak(() => findPageTargets(opened, x));
    x.dispose();
    opened.model.dispose();
    assert.equal(targets?.kind, 'detection');
    if (targets?.kind !== 'detection') return;
    assert.equal(targets.placed, 'cell');
    assert.equal(targets.labels, undefined);
    const strongest = targets.images[0][0];
    assert.ok(targets.images[0].every((d) => d.score <= strongest.score));
    assert.deepEqual(firstChoice(targets, 0), { kind: 'detection', rank: 0 });
    assert.deepEqual(targetOf(targets, 0, { kind: 'detection', rank: 2 }), {
      kind: 'detection',
      anchor: targets.images[0][2].anchor,
      classIndex: targets.images[0][2].classIndex,
      withBox: true,
    });
    assert.equal(
      describeChoice(targets, 0, { kind: 'detection', rank: 0 }),
      `detection 1, “class ${strongest.classIndex}” (class ${strongest.classIndex}, anchor ${strongest.anchor})`,
    );
  });
});

describe('target pictures', () => {
  const grey = (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4).fill(100) });

  test('the mask is blended half over the image, each image pixel taking the class of the map pixel it falls in', () => {
    // A 2×2 class map over a 4×4 image: each map pixel covers a 2×2 block.
    const picture = maskOverlay(grey(4, 4), { width: 2, height: 2, mask: Int32Array.from([0, 1, 2, 3]) });
    const at = (x: number, y: number) => Array.from(picture.data.slice(4 * (y * 4 + x), 4 * (y * 4 + x) + 3));
    const blend = (c: number) => classColour(c).map((v) => Math.round(0.5 * 100 + 0.5 * v));
    assert.deepEqual(at(1, 1), blend(0));
    assert.deepEqual(at(2, 0), blend(1));
    assert.deepEqual(at(0, 3), blend(2));
    assert.deepEqual(at(3, 2), blend(3));
  });

  test('the legend colours match the mask', () => {
    const legend = legendEntries({ width: 1, height: 2, mask: Int32Array.from([2, 2]), classes: [{ classIndex: 2, share: 1 }] });
    assert.deepEqual(legend, [{ classIndex: 2, label: 'class 2', share: 1, colour: classColour(2) }]);
  });

  test('boxes are outlined solid, cells dashed, on a copy of the image', () => {
    const image = grey(20, 20);
    const picture = outlineDetections(
      image,
      [
        { box: [2, 2, 10, 10], kind: 'box', classIndex: 1 },
        { box: [12, 0, 19, 19], kind: 'cell', classIndex: 2 },
      ],
      undefined,
    );
    const at = (x: number, y: number) => Array.from(picture.data.slice(4 * (y * 20 + x), 4 * (y * 20 + x) + 3));
    for (const [x, y] of [
      [2, 2],
      [6, 2],
      [10, 7],
      [4, 10],
    ])
      assert.deepEqual(at(x, y), classColour(1), `box edge at ${x}, ${y}`);
    assert.deepEqual(at(6, 6), [100, 100, 100], 'inside untouched');
    const edge = Array.from({ length: 20 }, (_, y) => at(12, y).join() === classColour(2).join());
    assert.ok(edge.includes(true) && edge.includes(false), 'the cell is dashed');
    assert.equal(image.data[4 * (2 * 20 + 2)], 100, 'the image itself is left as it was');
  });

  test('a click picks the smallest box holding it; boxes scale from input pixels to the image', () => {
    const places = [{ box: [0, 0, 64, 64] as Box }, undefined, { box: [10, 10, 20, 20] as Box }];
    assert.equal(detectionAt(places, 15, 15), 2);
    assert.equal(detectionAt(places, 40, 40), 0);
    assert.equal(detectionAt(places, 70, 10), undefined);
    assert.deepEqual(toImagePixels([8, 16, 32, 64], { width: 64, height: 64 }, { width: 512, height: 256 }), [64, 64, 256, 256]);
  });
});
