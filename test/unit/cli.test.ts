/**
 * The `convlens` command line: what a user types and reads. Predictions are checked against
 * TensorFlow.js's own loader and `predict` on the same pixels, decoded by a separate PNG library.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PNG } from 'pngjs';
import { run } from '../../src/cli/main';
import { explain } from '../../src/engine/explain';
import { METHODS } from '../../src/engine/explain/methods';
import { parseNpy } from '../../src/engine/npy';
import { loadModel, readModelSummary } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { npyBytes } from '../support/npy';
import { repoRoot, sampleModel, sampleWorkspace } from '../support/paths';

before(() => useNodeBackend());

const sneaker = path.join(sampleWorkspace, 'images', 'sneaker.png');

async function referenceProbabilities(input: tf.Tensor): Promise<number[]> {
  const json = JSON.parse(readFileSync(sampleModel, 'utf8'));
  const weights = readFileSync(path.join(path.dirname(sampleModel), 'group1-shard1of1.bin'));
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: new Uint8Array(weights).buffer,
    }),
  );
  const output = model.predict(input) as tf.Tensor;
  const values = Array.from(await output.data());
  output.dispose();
  model.dispose();
  return values;
}

function tempFolder(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'convlens-cli-'));
}

describe('convlens summary', () => {
  test('prints the layer table with shapes, parameters and totals', async () => {
    const { code, output } = await run(['summary', sampleModel]);
    assert.equal(code, 0);
    assert.match(output, /^conv2\s+Conv2D\s+\(None, 14, 14, 32\)\s+4,640$/m);
    assert.match(output, /^Total params: 19,162$/m);
  });

  test('--json gives the same summary the extension shows', async () => {
    const { output } = await run(['summary', sampleModel, '--json']);
    assert.deepEqual(JSON.parse(output), await readModelSummary(fileModelSource(sampleModel)));
  });
});

describe('convlens predict', () => {
  test('an image: the probabilities TensorFlow.js gives for its pixels, ranked, with class names', async () => {
    const png = PNG.sync.read(readFileSync(sneaker));
    const gray = Float32Array.from({ length: 28 * 28 }, (_, i) => png.data[i * 4]);
    const expected = await referenceProbabilities(tf.tensor4d(gray, [1, 28, 28, 1]));

    const { code, output } = await run(['predict', sampleModel, sneaker, '--top', '10', '--json']);
    assert.equal(code, 0, output);
    const result = JSON.parse(output);
    assert.deepEqual(result.preprocessing, { width: 28, height: 28, scale: '0-255', channels: 'gray' });
    const predictions = result.results[0].predictions as { index: number; label: string; probability: number }[];
    assert.equal(predictions.length, 10);
    for (const p of predictions) assert.ok(Math.abs(p.probability - expected[p.index]) < 1e-5);
    const best = expected.indexOf(Math.max(...expected));
    assert.equal(predictions[0].index, best);
    assert.equal(predictions[0].label, readFileSync(path.join(path.dirname(sampleModel), 'labels.txt'), 'utf8').split('\n')[best]);
  });

  test('a .npy array is used as the model input as it is, with a batch axis added', async () => {
    const values = Float32Array.from({ length: 28 * 28 }, (_, i) => (i * 37) % 256);
    const file = path.join(tempFolder(), 'digit.npy');
    writeFileSync(file, npyBytes([28, 28, 1], values));
    const expected = await referenceProbabilities(tf.tensor4d(values, [1, 28, 28, 1]));
    const { output } = await run(['predict', sampleModel, file, '--top', '3', '--json']);
    for (const p of JSON.parse(output).results[0].predictions) assert.ok(Math.abs(p.probability - expected[p.index]) < 1e-5);
  });

  test('a sidecar <model>.convlens.json sets the preprocessing, and options override it', async () => {
    const folder = tempFolder();
    for (const file of ['model.json', 'group1-shard1of1.bin', 'labels.txt']) {
      copyFileSync(path.join(path.dirname(sampleModel), file), path.join(folder, file));
    }
    writeFileSync(path.join(folder, 'model.json.convlens.json'), JSON.stringify({ scale: '0-1', size: '28x28' }));
    const model = path.join(folder, 'model.json');
    const fromSidecar = JSON.parse((await run(['predict', model, sneaker, '--json'])).output);
    assert.equal(fromSidecar.preprocessing.scale, '0-1');
    const overridden = JSON.parse((await run(['predict', model, sneaker, '--json', '--scale', '0-255'])).output);
    assert.equal(overridden.preprocessing.scale, '0-255');
  });

  test('an input of the wrong shape is refused, naming the file and both shapes', async () => {
    const file = path.join(tempFolder(), 'wrong.npy');
    writeFileSync(file, npyBytes([32, 32, 3], new Float32Array(32 * 32 * 3)));
    const { code, output } = await run(['predict', sampleModel, file]);
    assert.equal(code, 1);
    assert.equal(output, 'convlens: wrong.npy has shape (32, 32, 3), but the model takes (None, 28, 28, 1)');
  });
});

describe('an ONNX export from PyTorch on the command line: its own NCHW shapes and arrays', () => {
  const onnxFixtures = path.join(repoRoot, 'test', 'fixtures', 'onnx');
  const resnet = path.join(onnxFixtures, 'resnet-basic-opset9', 'resnet-basic-opset9.onnx');
  // PyTorch's input batch [2, 3, 64, 64] (np.save of an NCHW tensor) and its logits for it [2, 10].
  const batch = parseNpy(new Uint8Array(readFileSync(path.join(onnxFixtures, 'inputs-64.npy'))));
  const logits = parseNpy(new Uint8Array(readFileSync(path.join(onnxFixtures, 'resnet-basic-opset9', 'output.npy'))));

  /** The NCHW batch in another axis order, through TensorFlow.js's transpose. */
  async function reordered(perm: number[], first?: number): Promise<{ shape: number[]; values: Float32Array }> {
    const x = tf.tensor(batch.data, batch.shape);
    const part = first === undefined ? x : tf.slice(x, 0, first);
    const y = tf.transpose(part, perm);
    const result = { shape: y.shape, values: (await y.data()) as Float32Array };
    tf.dispose([x, part, y]);
    return result;
  }

  async function scores(file: string): Promise<number[][]> {
    const { code, output } = await run(['predict', resnet, file, '--top', '10', '--json']);
    assert.equal(code, 0, output);
    return JSON.parse(output).results.map((result: { predictions: { index: number; score: number }[] }) => {
      const row = new Array<number>(10);
      for (const p of result.predictions) row[p.index] = p.score;
      return row;
    });
  }

  function assertPyTorchLogits(rows: number[][], first = 0) {
    rows.forEach((row, b) =>
      row.forEach((v, k) => assert.ok(Math.abs(v - logits.data[(first + b) * 10 + k]) < 1e-4, `image ${b}, class ${k}`)),
    );
  }

  test('summary shows the input, the output and every layer in NCHW, as PyTorch has them', async () => {
    const { code, output } = await run(['summary', resnet]);
    assert.equal(code, 0, output);
    assert.match(output, /^Input \(None, 3, 64, 64\) {2}Output \(None, 10\)$/m);
    assert.match(output, /^\/conv1\/Conv\s+Conv\s+\(None, 8, 32, 32\)\s+1,184$/m);
    assert.match(output, /^\/layer4\/layer4\.0\/relu_1\/Relu\s+Relu\s+\(None, 64, 2, 2\)\s+0$/m);
    const json = JSON.parse((await run(['summary', resnet, '--json'])).output);
    assert.deepEqual(json.declaredInputShapes, [[null, 3, 64, 64]]);
    assert.deepEqual(json.inputLayouts, ['NCHW']);
  });

  test("predict takes the NCHW .npy a PyTorch user saves, and gives PyTorch's logits", async () => {
    const file = path.join(tempFolder(), 'batch.npy');
    writeFileSync(file, npyBytes(batch.shape, batch.data));
    assertPyTorchLogits(await scores(file));
  });

  test('the same images as NHWC, or one as a height × width × channels array, give the same predictions', async () => {
    const folder = tempFolder();
    const nhwc = await reordered([0, 2, 3, 1]);
    writeFileSync(path.join(folder, 'nhwc.npy'), npyBytes(nhwc.shape, nhwc.values));
    assertPyTorchLogits(await scores(path.join(folder, 'nhwc.npy')));
    const second = await reordered([0, 2, 3, 1], 1);
    writeFileSync(path.join(folder, 'image.npy'), npyBytes([64, 64, 3], second.values));
    assertPyTorchLogits(await scores(path.join(folder, 'image.npy')));
    const chw = await reordered([0, 1, 2, 3], 1);
    writeFileSync(path.join(folder, 'chw.npy'), npyBytes([3, 64, 64], chw.values));
    assertPyTorchLogits(await scores(path.join(folder, 'chw.npy')));
  });

  test("an array of the wrong shape is refused in the model's own NCHW terms", async () => {
    const file = path.join(tempFolder(), 'small.npy');
    writeFileSync(file, npyBytes([1, 3, 32, 32], new Float32Array(3 * 32 * 32)));
    const { code, output } = await run(['predict', resnet, file]);
    assert.equal(code, 1);
    assert.equal(
      output,
      'convlens: small.npy has shape (1, 3, 32, 32), but the model takes (None, 3, 64, 64) or (64, 64, 3) as height × width × channels',
    );
  });

  test('explain takes a (1, 3, H, W) array and explains the same image as its NHWC transpose', async () => {
    const folder = tempFolder();
    const nchw = await reordered([0, 1, 2, 3], 1);
    const nhwc = await reordered([0, 2, 3, 1], 1);
    writeFileSync(path.join(folder, 'nchw.npy'), npyBytes(nchw.shape, nchw.values));
    writeFileSync(path.join(folder, 'nhwc.npy'), npyBytes(nhwc.shape, nhwc.values));
    const maps: number[][][] = [];
    for (const name of ['nchw', 'nhwc']) {
      const json = path.join(folder, `${name}.json`);
      const { code, output } = await run(['explain', resnet, path.join(folder, `${name}.npy`), '--method', 'gradcam', '--json', json]);
      assert.equal(code, 0, output);
      const record = JSON.parse(readFileSync(json, 'utf8'));
      assert.equal(record.class, logits.data.slice(0, 10).indexOf(Math.max(...logits.data.slice(0, 10))), "PyTorch's top class");
      maps.push(record.map);
    }
    assert.equal(maps[0].length, 64);
    assert.deepEqual(maps[0], maps[1]);
  });
});

describe('convlens exit codes and messages', () => {
  const cli = path.join(repoRoot, 'src', 'cli', 'bin.ts');
  const convlens = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repoRoot, encoding: 'utf8' });

  test('0 with output on stdout when all is well', () => {
    const result = convlens('predict', sampleModel, sneaker, '--top', '1');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /sneaker\.png\n\s+\d+\.\d+% {2}\S/);
  });

  test('--timing adds one line of load, forward and explain milliseconds; nothing says it fell back to the CPU', () => {
    const explained = convlens('explain', sampleModel, sneaker, '--method', 'gradcam', '--timing');
    assert.equal(explained.status, 0, explained.stderr);
    assert.equal(explained.stderr, '', 'the WebAssembly backend started');
    assert.match(explained.stdout, /^Grad-CAM of Sneaker .*\nTarget layer: .*\ntiming: load \d+ ms, forward \d+ ms, explain \d+ ms\n$/);
    const predicted = convlens('predict', sampleModel, sneaker, '--top', '1', '--timing');
    assert.equal(predicted.status, 0, predicted.stderr);
    assert.match(predicted.stdout, /\n\ntiming: load \d+ ms, forward \d+ ms\n$/);
  });

  test('2 for wrong usage, with the reason and the usage text', () => {
    for (const args of [
      [],
      ['explode'],
      ['summary'],
      ['predict', sampleModel, sneaker, '--scale', '0-2'],
      ['predict', sampleModel, sneaker, '--top', 'x'],
      ['summary', sampleModel, '--bogus'],
    ]) {
      const result = convlens(...args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, /^convlens: .+\n\nUsage: convlens/);
    }
  });

  test('1 with one line naming the file for files that cannot be read or run; never a stack trace', () => {
    const folder = tempFolder();
    writeFileSync(path.join(folder, 'model.json'), '{"modelTopology": {"class_name": "Seq');
    writeFileSync(path.join(folder, 'not-an-image.png'), 'hello');
    const cases: [string[], RegExp][] = [
      [['summary', path.join(folder, 'missing.onnx')], /^convlens: .*missing\.onnx: no such file\n$/],
      [
        ['summary', path.join(folder, 'model.json')],
        /^convlens: model\.json is not valid JSON, so it cannot be a TensorFlow\.js model\.\n$/,
      ],
      [['predict', sampleModel, path.join(folder, 'not-an-image.png')], /^convlens: not-an-image\.png is not an image ConvLens can decode/],
    ];
    for (const [args, message] of cases) {
      const result = convlens(...args);
      assert.equal(result.status, 1);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
  });
});

describe('convlens explain', () => {
  test('--json writes the map at the input resolution in [0, 1], the same map the engine gives', async () => {
    const folder = tempFolder();
    const json = path.join(folder, 'map.json');
    const out = path.join(folder, 'overlay.png');
    const { code, output } = await run([
      'explain',
      sampleModel,
      sneaker,
      '--method',
      'gradcam',
      '--json',
      json,
      '--out',
      out,
      '--colormap',
      'viridis',
    ]);
    assert.equal(code, 0, output);
    assert.match(output, /^Grad-CAM of Sneaker \(class 7, score [\d.]+\) at layer conv3$/m);
    const record = JSON.parse(readFileSync(json, 'utf8'));
    assert.deepEqual(Object.keys(record), ['method', 'layer', 'class', 'score', 'width', 'height', 'map']);
    assert.equal(record.method, 'gradcam');
    assert.equal(record.layer, 'conv3');
    assert.equal(record.class, 7);
    assert.equal(record.map.length, 28);
    assert.ok(record.map.every((row: number[]) => row.length === 28 && row.every((v) => v >= 0 && v <= 1)));
    assert.ok(Math.max(...record.map.flat()) > 0.9); // the peak, min-max scaled at 7×7, then upsampled

    const model = await loadModel(fileModelSource(sampleModel));
    const png = PNG.sync.read(readFileSync(sneaker));
    const input = tf.tensor4d(
      Float32Array.from({ length: 28 * 28 }, (_, i) => png.data[i * 4]),
      [1, 28, 28, 1],
    );
    const { maps } = await explain(model, input, { method: 'gradcam' });
    const engine = Array.from(await maps.data());
    tf.dispose([maps, input]);
    model.dispose();
    record.map.flat().forEach((v: number, i: number) => assert.ok(Math.abs(v - engine[i]) < 1e-5));

    const overlay = PNG.sync.read(readFileSync(out));
    assert.deepEqual([overlay.width, overlay.height], [28, 28]);
  });

  test('every method runs from the command line; a wrong method or class is refused', async () => {
    for (const method of METHODS) {
      const { code, output } = await run(['explain', sampleModel, sneaker, '--method', method]);
      assert.equal(code, 0, `${method}: ${output}`);
    }
    assert.equal((await run(['explain', sampleModel, sneaker, '--method', 'magic'])).code, 2);
    assert.equal((await run(['explain', sampleModel, sneaker])).code, 2);
    const badClass = await run(['explain', sampleModel, sneaker, '--method', 'gradcam', '--class', '42']);
    assert.equal(badClass.code, 1);
    assert.equal(badClass.output, 'convlens: model.json: class 42 does not exist: the model has classes 0 to 9');
  });
});
