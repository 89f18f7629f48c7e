/** Turning user files into model inputs: .npy arrays, image preprocessing and class names. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { decode, encode, Image } from 'image-js';
import { arrayAsInput, type ModelInputs } from '../../src/engine/arrayInput';
import { namesFromJson, namesFromText, readLabels } from '../../src/engine/labels/readLabels';
import type { ModelSource } from '../../src/engine/modelSource';
import { parseNpy } from '../../src/engine/npy';
import { topPredictions } from '../../src/engine/predictions';
import {
  applySettings,
  CHANNEL_ORDERS,
  imagesToInput,
  imageToInput,
  PIXEL_SCALES,
  type Preprocessing,
  type RgbaImage,
} from '../../src/engine/preprocess';
import { readImageFile } from '../../src/node/imageFile';
import { useNodeBackend } from '../../src/node/tfBackend';
import { npyBytes } from '../support/npy';
import { repoRoot } from '../support/paths';

describe('.npy arrays', () => {
  test('float32 and float64 arrays read with their shape', () => {
    assert.deepEqual(parseNpy(npyBytes([2, 3], [1, 2, 3, 4, 5, 6])), { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
    assert.deepEqual(parseNpy(npyBytes([3], [0.5, -1, 1e6], '<f8')).data, Float32Array.from([0.5, -1, 1e6]));
  });

  test('a truncated file, a Fortran-ordered array or a non-.npy file is refused with the reason', () => {
    const whole = npyBytes([4, 4], new Array(16).fill(1));
    assert.throws(() => parseNpy(whole.subarray(0, whole.length - 4)), /is truncated: its header promises 16 values/);
    const fortran = npyBytes([2, 2], [1, 2, 3, 4]);
    fortran.set(new TextEncoder().encode("'fortran_order': True, "), 10 + "{'descr': '<f4', ".length);
    assert.throws(() => parseNpy(fortran), /Fortran-ordered/);
    assert.throws(() => parseNpy(new TextEncoder().encode('hello world')), /is not a NumPy \.npy file/);
  });
});

describe('.npy arrays as model inputs', () => {
  // An ONNX export from PyTorch: the file says [n, 3, 4, 5], the engine runs [n, 4, 5, 3].
  const nchw: ModelInputs = { inputShapes: [[null, 4, 5, 3]], declaredInputShapes: [[null, 3, 4, 5]], inputLayouts: ['NCHW'] };
  const nhwc: ModelInputs = { inputShapes: [[null, 4, 5, 3]] };
  const values = (n: number) => Float32Array.from({ length: n }, (_, i) => i * 0.5 - 7);

  /** What TensorFlow.js's own transpose makes of an NCHW array: the values the engine must get. */
  async function transposed(data: Float32Array, shape: number[]): Promise<Float32Array> {
    await useNodeBackend();
    const x = tf.tensor(data, shape);
    const y = tf.transpose(x, [0, 2, 3, 1]);
    const result = (await y.data()) as Float32Array;
    tf.dispose([x, y]);
    return result;
  }

  test('an NCHW array (as np.save(tensor.numpy()) writes it) is reordered to the NHWC batch the engine runs', async () => {
    const data = values(2 * 3 * 4 * 5);
    const input = arrayAsInput({ shape: [2, 3, 4, 5], data }, nchw);
    assert.deepEqual(input.shape, [2, 4, 5, 3]);
    assert.deepEqual(input.data, await transposed(data, [2, 3, 4, 5]));
  });

  test('one sample without its batch axis, channels first or as a height × width × channels image', async () => {
    const data = values(3 * 4 * 5);
    const chw = arrayAsInput({ shape: [3, 4, 5], data }, nchw);
    assert.deepEqual(chw.shape, [1, 4, 5, 3]);
    assert.deepEqual(chw.data, await transposed(data, [1, 3, 4, 5]));
    const hwc = arrayAsInput({ shape: [4, 5, 3], data }, nchw);
    assert.deepEqual(hwc, { shape: [1, 4, 5, 3], data });
    const batch = arrayAsInput({ shape: [1, 4, 5, 3], data }, nchw);
    assert.deepEqual(batch, { shape: [1, 4, 5, 3], data }, 'a batch of HWC images');
  });

  test("where an array fits both orders (3 × 3 × 3), the file's own layout wins", async () => {
    const cube: ModelInputs = { inputShapes: [[null, 3, 3, 3]], declaredInputShapes: [[null, 3, 3, 3]], inputLayouts: ['NCHW'] };
    const data = values(27);
    assert.deepEqual(arrayAsInput({ shape: [3, 3, 3], data }, cube).data, await transposed(data, [1, 3, 3, 3]));
  });

  test('an NHWC model takes its arrays as they are', () => {
    const data = values(4 * 5 * 3);
    assert.deepEqual(arrayAsInput({ shape: [4, 5, 3], data }, nhwc), { shape: [1, 4, 5, 3], data });
  });

  test("a wrong shape is refused with the array's shape and the model's, in the model's own layout", () => {
    const data = values(3 * 8 * 8);
    assert.throws(() => arrayAsInput({ shape: [1, 3, 8, 8], data }, nchw), {
      message: 'has shape (1, 3, 8, 8), but the model takes (None, 3, 4, 5) or (4, 5, 3) as height × width × channels',
    });
    assert.throws(() => arrayAsInput({ shape: [3, 8, 8], data }, nhwc), {
      message: 'has shape (3, 8, 8), but the model takes (None, 4, 5, 3)',
    });
  });
});

describe('image files', () => {
  // The fixture's pattern, by its formula (test/fixtures/images/README.md).
  const expected = Array.from({ length: 12 * 16 }, (_, i) => {
    const [y, x] = [Math.floor(i / 16), i % 16];
    return [x * 16, y * 20, (x * y) % 256, 255 - x * 8];
  }).flat();

  for (const name of ['pattern.png', 'pattern.webp']) {
    test(`${name} decodes to its RGBA pixels, alpha included`, async () => {
      const image = await readImageFile(path.join(repoRoot, 'test', 'fixtures', 'images', name));
      assert.deepEqual([image.width, image.height], [16, 12]);
      assert.deepEqual(Array.from(image.data), expected);
    });
  }

  test("JPEG and BMP files decode to image-js's own pixels (JPEGs go to jpeg-js with its limits on)", async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'convlens-images-'));
    let seed = 5;
    const data = Uint8Array.from({ length: 23 * 17 * 3 }, () => (seed = (seed * 16807) % 2147483647) % 256);
    const original = new Image(23, 17, { colorModel: 'RGB', data });
    for (const format of ['jpg', 'bmp'] as const) {
      const bytes = encode(format === 'bmp' ? original.convertColor('GREY') : original, { format });
      const file = path.join(folder, `random.${format}`);
      writeFileSync(file, bytes);
      const expected = decode(bytes).convertColor('RGBA');
      const image = await readImageFile(file);
      assert.deepEqual([image.width, image.height], [23, 17]);
      assert.deepEqual(Buffer.from(image.data), Buffer.from(expected.getRawImage().data as Uint8Array), format);
    }
  });

  test('a damaged WebP or a file that is no image is refused, naming the file', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'convlens-images-'));
    const broken = path.join(folder, 'broken.webp');
    writeFileSync(broken, Buffer.concat([Buffer.from('RIFF\x20\0\0\0WEBPVP8L', 'latin1'), Buffer.alloc(20, 7)]));
    await assert.rejects(
      readImageFile(broken),
      /^Error: broken\.webp is not an image ConvLens can decode \(png, jpeg, bmp, tiff or webp\)$/,
    );
    const text = path.join(folder, 'notes.png');
    writeFileSync(text, 'not an image');
    await assert.rejects(readImageFile(text), /^Error: notes\.png is not an image ConvLens can decode/);
  });
});

describe('image preprocessing', () => {
  // Two pixels: pure red and pure blue, fully opaque; no resizing.
  const image = { width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 255]) };
  const base: Preprocessing = { width: 2, height: 1, scale: '0-1', channels: 'rgb' };
  const pixels = async (p: Partial<Preprocessing>) => {
    await useNodeBackend();
    const input = imageToInput(image, { ...base, ...p });
    const values = Array.from(await input.data());
    input.dispose();
    return values;
  };
  const close = (actual: number[], expected: number[]) =>
    actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-4, `${actual} != ${expected}`));

  test('each scale gives the values its framework expects (computed by hand)', async () => {
    close(await pixels({ scale: '0-1' }), [1, 0, 0, 0, 0, 1]);
    close(await pixels({ scale: '-1-1' }), [1, -1, -1, -1, -1, 1]);
    close(await pixels({ scale: '0-255' }), [255, 0, 0, 0, 0, 255]);
    // ImageNet mean/std after 0-1: (1 - 0.485) / 0.229 = 2.2489, (0 - 0.456) / 0.224 = -2.0357, ...
    close(await pixels({ scale: 'torch' }), [2.2489, -2.0357, -1.8044, -2.1179, -2.0357, 2.64]);
    // caffe: BGR order, mean subtracted, no scaling: red pixel = [0 - 103.939, 0 - 116.779, 255 - 123.68].
    close(await pixels({ scale: 'caffe' }), [-103.939, -116.779, 131.32, 151.061, -116.779, -123.68]);
  });

  test('gray uses ITU-R 601 luma, bgr reverses the channels', async () => {
    close(await pixels({ channels: 'gray', scale: '0-255' }), [0.299 * 255, 0.114 * 255]);
    close(await pixels({ channels: 'bgr', scale: '0-255' }), [0, 0, 255, 255, 0, 0]);
  });

  test('images are resized to the model input size', async () => {
    await useNodeBackend();
    const input = imageToInput(image, { ...base, width: 4, height: 3 });
    assert.deepEqual(input.shape, [1, 3, 4, 3]);
    input.dispose();
    assert.equal(tf.memory().numTensors, 0);
  });

  test('a batch holds exactly the input of each of its images, for every scale and channel order, sizes mixed or not', async () => {
    await useNodeBackend();
    let seed = 3;
    const random = (width: number, height: number): RgbaImage => ({
      width,
      height,
      data: Uint8Array.from({ length: width * height * 4 }, () => (seed = (seed * 16807) % 2147483647) % 256),
    });
    const sized = [random(5, 4), random(5, 4), random(5, 4)];
    const before = tf.memory().numTensors;
    for (const scale of PIXEL_SCALES) {
      for (const channels of CHANNEL_ORDERS) {
        const p: Preprocessing = { width: 5, height: 4, scale, channels };
        for (const images of [sized, [sized[0], random(7, 3), sized[2]]]) {
          const batch = imagesToInput(images, p);
          const each = tf.tidy(() => tf.concat(images.map((image) => imageToInput(image, p))));
          assert.deepEqual(batch.shape, [3, 4, 5, channels === 'gray' ? 1 : 3]);
          assert.deepEqual(await batch.data(), await each.data(), `${scale} ${channels}`);
          tf.dispose([batch, each]);
        }
      }
    }
    assert.equal(tf.memory().numTensors, before);
  });

  test('settings that are not understood are refused, naming where they came from', () => {
    assert.throws(
      () => applySettings(base, { scale: '0-2' }, 'model.json.convlens.json'),
      /^Error: model\.json\.convlens\.json: scale must be one of/,
    );
    assert.throws(() => applySettings(base, { size: '224' }, 'option'), /size must be WIDTHxHEIGHT/);
    assert.deepEqual(applySettings(base, { size: '32x16', channels: 'bgr' }, 'option'), {
      width: 32,
      height: 16,
      scale: '0-1',
      channels: 'bgr',
    });
  });
});

describe('class names', () => {
  const folder = (files: Record<string, string>): ModelSource => ({
    fileName: 'model.json',
    read: async () => new Uint8Array(),
    readSibling: async (name) => {
      if (!(name in files)) throw new Error('missing');
      return new TextEncoder().encode(files[name]);
    },
  });

  test('labels.txt with or without indices, Labels.json arrays or objects, Teachable Machine metadata', async () => {
    assert.deepEqual(namesFromText('cat\ndog\n'), ['cat', 'dog']);
    assert.deepEqual(namesFromText('0,tench, Tinca tinca\n1,goldfish\n'), ['tench, Tinca tinca', 'goldfish']);
    assert.deepEqual(namesFromJson('{"0": "a", "1": "b"}'), ['a', 'b']);
    assert.deepEqual((await readLabels(folder({ 'metadata.json': '{"tmVersion": "2.3.1", "labels": ["on", "off"]}' }), 2))?.names, [
      'on',
      'off',
    ]);
  });

  test('a label file with the wrong number of names is not used; 1000 classes fall back to ImageNet', async () => {
    assert.equal(await readLabels(folder({ 'labels.txt': 'a\nb\nc\n' }), 10), undefined);
    const imagenet = await readLabels(folder({}), 1000);
    assert.equal(imagenet?.origin, 'ImageNet');
    assert.equal(imagenet?.names[0], 'tench, Tinca tinca');
  });

  test('a one-unit (sigmoid) classifier has two classes: its label file names both', async () => {
    assert.deepEqual((await readLabels(folder({ 'labels.txt': 'cat\ndog\n' }), 1))?.names, ['cat', 'dog']);
    await useNodeBackend();
    // A probability of 0.8 for class 1, and a logit of −2: class 0 with 1 − σ(−2) = 0.8808.
    const outputs = tf.tensor2d([[0.8], [-2]]);
    const [first, second] = await topPredictions(outputs, 5, ['cat', 'dog']);
    outputs.dispose();
    assert.deepEqual(
      first.map((p) => [p.label, p.probability.toFixed(4)]),
      [
        ['dog', '0.8000'],
        ['cat', '0.2000'],
      ],
    );
    assert.deepEqual(
      second.map((p) => [p.label, p.probability.toFixed(4), p.score]),
      [
        ['cat', '0.8808', 2],
        ['dog', '0.1192', -2],
      ],
    );
  });
});
