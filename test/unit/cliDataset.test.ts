/**
 * The dataset commands, `convlens embed`, `neighbours` and `top-patches`, on a folder of real
 * Fashion-MNIST test images written as PNGs, one subfolder per class named after the sample model's
 * classes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { run } from '../../src/cli/main';
import { runGraph, singleInput } from '../../src/engine/execute';
import { imageToInput } from '../../src/engine/preprocess';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { readImageFile } from '../../src/node/imageFile';
import { writePng } from '../../src/node/pngFile';
import { useNodeBackend } from '../../src/node/tfBackend';
import { fashionMnistTest, skipWithoutFashionMnist } from '../support/fashionMnist';
import { repoRoot, sampleModel } from '../support/paths';

const CLASSES = readFileSync(path.join(path.dirname(sampleModel), 'labels.txt'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter(Boolean);
/** "T-shirt/top" → "t-shirt-top": a class name as a folder name. */
const folderName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const PER_CLASS = 20;
const CLASS_COUNT = 5;

interface Point {
  file: string;
  x: number;
  y: number;
  label: string | null;
  predicted: string;
}
interface PatchRow {
  rank: number;
  file: string;
  value: number;
  unit: { x: number; y: number };
  patch: { left: number; top: number; right: number; bottom: number };
  label: string | null;
}
interface NeighbourRow {
  rank: number;
  file: string;
  distance: number;
  label: string | null;
  predicted: string;
}

describe('convlens embed, neighbours and top-patches on a folder of Fashion-MNIST images', { skip: skipWithoutFashionMnist }, () => {
  let root: string;
  let folder: string;
  /** Relative path → class index, for every image written. */
  const written = new Map<string, number>();

  before(async () => {
    await useNodeBackend();
    root = mkdtempSync(path.join(os.tmpdir(), 'convlens-dataset-'));
    folder = path.join(root, 'images');
    const data = fashionMnistTest(400);
    const counts = new Array(CLASS_COUNT).fill(0);
    for (let i = 0; i < data.images.length; i++) {
      const c = data.labels[i];
      if (c >= CLASS_COUNT || counts[c] === PER_CLASS) continue;
      counts[c]++;
      const file = `${folderName(CLASSES[c])}/test-${String(i).padStart(4, '0')}.png`;
      mkdirSync(path.join(folder, path.dirname(file)), { recursive: true });
      await writePng(path.join(folder, file), data.images[i]);
      written.set(file, c);
    }
    assert.deepEqual(counts, new Array(CLASS_COUNT).fill(PER_CLASS));
    // Not images, or hidden: never listed.
    writeFileSync(path.join(folder, 'README.txt'), 'Fashion-MNIST test images');
    mkdirSync(path.join(folder, '.cache'));
    writeFileSync(path.join(folder, '.cache', 'broken.png'), 'not a png');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** Each image's strongest unit of one channel, from the layer's whole output for all images at once. */
  async function channelPeaks(files: string[], layer: string, channel: number): Promise<{ value: number; x: number; y: number }[]> {
    const model = await loadModel(fileModelSource(sampleModel));
    try {
      const images = await Promise.all(files.map((file) => readImageFile(file)));
      const preprocessing = { width: 28, height: 28, scale: '0-255', channels: 'gray' } as const;
      const [output] = tf.tidy(() =>
        runGraph(model, singleInput(model, tf.concat(images.map((image) => imageToInput(image, preprocessing)))), [layer]),
      );
      const [, height, width, channels] = output.shape;
      const values = await output.data();
      output.dispose();
      return files.map((_, image) => {
        let best = { value: -Infinity, x: 0, y: 0 };
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const value = values[((image * height + y) * width + x) * channels + channel];
            if (value > best.value) best = { value, x, y };
          }
        }
        return best;
      });
    } finally {
      model.dispose();
    }
  }

  /** The first image of the trouser folder: a class the model keeps well apart from the others. */
  const trouser = () => [...written.keys()].filter((file) => file.startsWith('trouser/')).sort()[0];

  test('embed --method pca --json: one point per image, labelled by folder, mostly predicted as that class', async () => {
    const out = path.join(root, 'points.json');
    const { code, output } = await run(['embed', sampleModel, folder, '--method', 'pca', '--json', out]);
    assert.equal(code, 0, output);
    assert.equal(output, `wrote ${out}: ${written.size} points, PCA of layer gap`);
    const record = JSON.parse(readFileSync(out, 'utf8')) as { method: string; layer: string; points: Point[] };
    assert.equal(record.method, 'pca');
    assert.equal(record.layer, 'gap');
    assert.deepEqual(
      record.points.map((p) => p.file),
      [...written.keys()].sort(),
    );
    let correct = 0;
    for (const point of record.points) {
      assert.deepEqual(Object.keys(point), ['file', 'x', 'y', 'label', 'predicted']);
      assert.ok(Number.isFinite(point.x) && Number.isFinite(point.y));
      const c = written.get(point.file)!;
      assert.equal(point.label, folderName(CLASSES[c]));
      assert.ok(CLASSES.includes(point.predicted), point.predicted);
      if (point.predicted === CLASSES[c]) correct++;
    }
    assert.ok(correct / record.points.length > 0.8, `predicted as the folder's class: ${correct} of ${record.points.length}`);
  });

  test('embed --method umap: a summary with the 5-NN accuracy in 2-D and in feature space', async () => {
    const { code, output } = await run(['embed', sampleModel, folder, '--method', 'umap']);
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`^Images +${written.size} \\(${CLASS_COUNT} class folders\\)$`, 'm'));
    assert.match(output, /^Method +UMAP$/m);
    assert.match(output, /^Layer +gap \(48 features\)$/m);
    const knn = /^5-NN accuracy +([\d.]+)% in 2-D, ([\d.]+)% in feature space/m.exec(output);
    assert.ok(knn, output);
    const [flat, full] = [Number(knn[1]), Number(knn[2])];
    console.log(`umap: 5-NN accuracy ${flat}% in 2-D, ${full}% in feature space (chance: 20%)`);
    assert.ok(flat > 60 && full > 60, output);
    const accuracy = /^Model accuracy +([\d.]+)% \(100 images in folders named after its classes\)$/m.exec(output);
    assert.ok(accuracy && Number(accuracy[1]) > 80, output);
  });

  test('neighbours of an image in the folder: K results, itself left out, mostly its own class', async () => {
    const query = trouser();
    const { code, output } = await run(['neighbours', sampleModel, folder, path.join(folder, query), '--json']);
    assert.equal(code, 0, output);
    const result = JSON.parse(output) as { inFolder: boolean; layer: string; neighbours: NeighbourRow[] };
    assert.equal(result.inFolder, true);
    assert.equal(result.layer, 'gap');
    assert.deepEqual(
      result.neighbours.map((n) => n.rank),
      [1, 2, 3, 4, 5],
    );
    assert.ok(result.neighbours.every((n) => n.file !== query && written.has(n.file)));
    const distances = result.neighbours.map((n) => n.distance);
    assert.deepEqual(
      distances,
      [...distances].sort((a, b) => a - b),
    );
    assert.ok(distances[0] > 0, 'the query itself is not among its neighbours');
    assert.ok(result.neighbours.filter((n) => n.label === 'trouser').length >= 4, output);

    const three = await run(['neighbours', sampleModel, folder, path.join(folder, query), '--k', '3']);
    assert.equal(three.code, 0, three.output);
    const lines = three.output.split('\n');
    assert.match(lines[0], /\(predicted Trouser\): nearest of the 99 other images by cosine distance at layer gap \(48 features\)$/);
    assert.match(lines[1], /^Rank {2}File +Distance {2}Label +Predicted$/);
    assert.equal(lines.length, 2 + 3);
    lines.slice(2).forEach((line, i) => {
      const n = result.neighbours[i];
      assert.match(line, new RegExp(`^ +${i + 1} {2}${n.file} +${n.distance.toFixed(4)} {2}${n.label} +${n.predicted}$`));
    });
  });

  test('neighbours of a copy from outside the folder: the identical image inside comes first, at distance 0', async () => {
    const query = trouser();
    const copy = path.join(root, 'query.png');
    copyFileSync(path.join(folder, query), copy);
    const inside = JSON.parse((await run(['neighbours', sampleModel, folder, path.join(folder, query), '--json'])).output) as {
      neighbours: NeighbourRow[];
    };
    const { code, output } = await run(['neighbours', sampleModel, folder, copy, '--json']);
    assert.equal(code, 0, output);
    const outside = JSON.parse(output) as { inFolder: boolean; neighbours: NeighbourRow[] };
    assert.equal(outside.inFolder, false);
    assert.equal(outside.neighbours[0].file, query);
    assert.ok(outside.neighbours[0].distance < 1e-5, `distance ${outside.neighbours[0].distance}`);
    assert.deepEqual(
      outside.neighbours.slice(1).map((n) => n.file),
      inside.neighbours.slice(0, 4).map((n) => n.file),
    );
    outside.neighbours.slice(1).forEach((n, i) => assert.ok(Math.abs(n.distance - inside.neighbours[i].distance) < 1e-5));
  });

  test('images directly in the folder have no label; the summary then has no k-NN accuracy', async () => {
    const loose = path.join(root, 'loose');
    mkdirSync(loose);
    const files = [...written.keys()].slice(0, 6);
    files.forEach((file, i) => copyFileSync(path.join(folder, file), path.join(loose, `${i}.png`)));
    const out = path.join(root, 'loose.json');
    assert.equal((await run(['embed', sampleModel, loose, '--method', 'pca', '--json', out])).code, 0);
    const points = (JSON.parse(readFileSync(out, 'utf8')) as { points: Point[] }).points;
    assert.deepEqual(
      points.map((p) => [p.file, p.label]),
      files.map((_, i) => [`${i}.png`, null]),
    );
    const { code, output } = await run(['embed', sampleModel, loose, '--method', 'pca']);
    assert.equal(code, 0, output);
    assert.match(output, /^Images +6 \(no class folders\)$/m);
    assert.doesNotMatch(output, /NN accuracy|Model accuracy/);
  });

  test('wrong usage exits 2, unreadable folders and images exit 1, each with one line naming the problem', async () => {
    const usage = async (args: string[], message: RegExp) => {
      const { code, output } = await run(args);
      assert.equal(code, 2, args.join(' '));
      assert.match(output.split('\n')[0], message);
      assert.match(output, /\n\nUsage: convlens/);
    };
    await usage(['embed', sampleModel, folder, '--method', 'magic'], /^convlens: --method must be one of pca tsne umap \(got "magic"\)$/);
    await usage(['embed', sampleModel, folder], /^convlens: --method must be one of pca tsne umap$/);
    await usage(['embed', sampleModel, '--method', 'pca'], /^convlens: embed takes a model file and a folder of images$/);
    await usage(['neighbours', sampleModel, folder], /^convlens: neighbours takes a model file, a folder of images and one image$/);
    await usage(
      ['neighbours', sampleModel, folder, path.join(folder, trouser()), '--k', '0'],
      /^convlens: --k must be a positive whole number \(got "0"\)$/,
    );

    const failure = async (args: string[], message: string) => {
      const { code, output } = await run(args);
      assert.equal(code, 1, args.join(' '));
      assert.equal(output, `convlens: ${message}`);
    };
    const missing = path.join(root, 'missing');
    await failure(['embed', sampleModel, missing, '--method', 'pca'], `${missing}: no such folder`);
    const empty = path.join(root, 'empty');
    mkdirSync(path.join(empty, 'coat'), { recursive: true });
    writeFileSync(path.join(empty, 'coat', 'notes.txt'), 'no images here');
    await failure(['embed', sampleModel, empty, '--method', 'pca'], `${empty} has no images (png, jpeg, bmp, tiff or webp)`);
    await failure(
      ['neighbours', sampleModel, empty, path.join(folder, trouser())],
      `${empty} has no images (png, jpeg, bmp, tiff or webp)`,
    );

    const broken = path.join(root, 'broken');
    mkdirSync(path.join(broken, 'coat'), { recursive: true });
    for (const file of [...written.keys()].slice(0, 4))
      copyFileSync(path.join(folder, file), path.join(broken, 'coat', path.basename(file)));
    writeFileSync(path.join(broken, 'coat', 'zz-not-an-image.png'), 'hello');
    const brokenFile = path.join(broken, 'coat', 'zz-not-an-image.png');
    await failure(
      ['embed', sampleModel, broken, '--method', 'pca'],
      `${brokenFile} is not an image ConvLens can decode (png, jpeg, bmp, tiff or webp)`,
    );
    await failure(
      ['neighbours', sampleModel, folder, brokenFile],
      `${brokenFile} is not an image ConvLens can decode (png, jpeg, bmp, tiff or webp)`,
    );
    await failure(['neighbours', sampleModel, folder, path.join(root, 'nothing.png')], `${path.join(root, 'nothing.png')}: no such file`);
    await failure(
      ['embed', sampleModel, folder, '--method', 'pca', '--layer', 'nope'],
      `model.json has no layer "nope" (list its layers with: convlens summary ${sampleModel})`,
    );
  });

  test("top-patches: the N images where a channel peaks highest, each cut to its unit's field, and a grid of them", async () => {
    const out = path.join(root, 'grid.png');
    const { code, output } = await run([
      'top-patches',
      sampleModel,
      folder,
      '--layer',
      'conv2',
      '--channel',
      '7',
      '--n',
      '5',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(code, 0, output);
    const result = JSON.parse(output) as { receptiveField: string; grid: string; patches: PatchRow[] };
    // conv1 3×3 → pool1 2×2 stride 2 → conv2 3×3: fields of 3, then 4, then 4 + 2·(3 − 1) = 8 pixels.
    assert.equal(result.receptiveField, '8×8 input pixels');
    assert.equal(result.grid, out);
    assert.deepEqual(
      result.patches.map((p) => p.rank),
      [1, 2, 3, 4, 5],
    );

    // The ranking, checked on the whole folder in one batch through the model: each image's strongest
    // conv2 channel-7 unit, highest first.
    const files = [...written.keys()].sort();
    const strongest = await channelPeaks(
      files.map((file) => path.join(folder, file)),
      'conv2',
      7,
    );
    const order = files.map((file, i) => ({ file, ...strongest[i] })).sort((a, b) => b.value - a.value);
    result.patches.forEach((patch, i) => {
      assert.equal(patch.file, order[i].file);
      assert.ok(Math.abs(patch.value - order[i].value) < 1e-4, `${patch.value} vs ${order[i].value}`);
      assert.deepEqual(patch.unit, { x: order[i].x, y: order[i].y });
      // 'same' padding, stride 2 between conv2's units: unit (y, x) sees rows 2y − 3 … 2y + 4, clipped to the image.
      const span = (u: number) => [Math.max(0, 2 * u - 3), Math.min(28, 2 * u + 5)];
      assert.deepEqual([patch.patch.left, patch.patch.right], span(patch.unit.x));
      assert.deepEqual([patch.patch.top, patch.patch.bottom], span(patch.unit.y));
      assert.equal(patch.label, folderName(CLASSES[written.get(patch.file)!]));
    });

    // 5 tiles of 64×64 in rows of 3 with 2-pixel gaps; the first tile is the first patch, enlarged.
    const grid = PNG.sync.read(readFileSync(out));
    assert.deepEqual([grid.width, grid.height], [3 * 64 + 2 * 2, 2 * 64 + 2]);
    const first = result.patches[0];
    const image = PNG.sync.read(readFileSync(path.join(folder, first.file)));
    const { left, top, right, bottom } = first.patch;
    const scale = 64 / Math.max(right - left, bottom - top);
    const offsetX = Math.floor((64 - Math.round((right - left) * scale)) / 2);
    const offsetY = Math.floor((64 - Math.round((bottom - top) * scale)) / 2);
    for (const [py, px] of [
      [top, left],
      [bottom - 1, right - 1],
      [top + 2, left + 1],
    ]) {
      const ty = offsetY + Math.floor((py - top) * scale + scale / 2);
      const tx = offsetX + Math.floor((px - left) * scale + scale / 2);
      assert.equal(
        grid.data[(ty * grid.width + tx) * 4],
        image.data[(py * image.width + px) * 4],
        `tile pixel for image pixel (${px}, ${py})`,
      );
    }

    const text = await run(['top-patches', sampleModel, folder, '--layer', 'conv2', '--channel', '7', '--n', '2']);
    assert.equal(text.code, 0, text.output);
    const lines = text.output.split('\n');
    assert.equal(lines[0], `conv2 channel 7: the 2 strongest of ${written.size} images; each unit sees 8×8 input pixels`);
    assert.match(lines[1], /^Rank {2}File +Value {2}Patch \(x, y\) +Label +Predicted$/);
    assert.match(lines[2], new RegExp(`^ +1 {2}${result.patches[0].file} +${result.patches[0].value.toPrecision(4)} {2}`));
    assert.equal(lines.length, 4);
  });

  test('top-patches names a layer without height and width, a channel it lacks, and missing options', async () => {
    const { code, output } = await run(['top-patches', sampleModel, folder, '--layer', 'gap', '--channel', '0']);
    assert.equal(code, 1);
    assert.equal(
      output,
      'convlens: model.json: layer "gap" has output shape (None, 48); top patches need a layer with height, width and channels',
    );
    const channel = await run(['top-patches', sampleModel, folder, '--layer', 'conv3', '--channel', '48']);
    assert.equal(channel.code, 1);
    assert.equal(channel.output, 'convlens: model.json: layer "conv3" has channels 0 to 47; there is no channel 48');
    const noLayer = await run(['top-patches', sampleModel, folder, '--channel', '1']);
    assert.equal(noLayer.code, 2);
    assert.match(noLayer.output, /^convlens: top-patches needs --layer NAME/);
    const noChannel = await run(['top-patches', sampleModel, folder, '--layer', 'conv3']);
    assert.equal(noChannel.code, 2);
    assert.match(noChannel.output, /^convlens: --channel must be a channel number\n/);
  });

  test('the executable keeps stdout to the JSON and writes nothing else when stderr is not a terminal', () => {
    const cli = path.join(repoRoot, 'src', 'cli', 'bin.ts');
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', cli, 'neighbours', sampleModel, folder, path.join(folder, trouser()), '--k', '2', '--json'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.equal(JSON.parse(result.stdout).neighbours.length, 2);
  });
});
