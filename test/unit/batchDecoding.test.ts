/**
 * The Analyze pass's batches as its decode worker makes them (webview/analyze/batchDecoding.ts): real
 * files' bytes to pixels at the model's size, the input the model gets the same as when the page
 * decoded and prepared each image itself; a file that cannot be read or decoded is black in its place
 * and named with its reason.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { imagesToInput, type Preprocessing, rgbToInput } from '../../src/engine/preprocess';
import { readImageFile } from '../../src/node/imageFile';
import { encodePng } from '../../src/node/pngFile';
import { useNodeBackend } from '../../src/node/tfBackend';
import { decodeBatch } from '../../webview/analyze/batchDecoding';
import { decodeImage } from '../../webview/common/images';
import { sampleWorkspace } from '../support/paths';

const SMALL = ['sneaker.png', 'bag.png'].map((name) => path.join(sampleWorkspace, 'images', name));

function fileOf(file: string, bytes: Uint8Array = readFileSync(file)) {
  return { path: path.basename(file), bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
}

/**
 * A real photo as an opaque RGB PNG, which the pages decode in JavaScript (Node has no browser codec
 * for the others; the end-to-end tests decode those in the webview).
 */
async function photo(): Promise<{ path: string; bytes: ArrayBuffer }> {
  const file = path.join(sampleWorkspace, 'photos', 'chelsea.png');
  return fileOf(file, encodePng(await readImageFile(file)));
}

describe('a folder batch decoded off the page', () => {
  test('photos and small images: the model gets the input the page made from each image', async () => {
    await useNodeBackend();
    const files = [await photo(), ...SMALL.map((file) => fileOf(file))];
    const cases: Preprocessing[] = [
      { width: 224, height: 224, channels: 'rgb', scale: 'torch' },
      { width: 28, height: 28, channels: 'gray', scale: '0-255' },
    ];
    for (const preprocessing of cases) {
      const { width, height } = preprocessing;
      // Copies: the decoder is handed the bytes, as the worker is.
      const decoded = await decodeBatch({
        id: 7,
        files: files.map((file) => ({ ...file, bytes: file.bytes.slice(0) })),
        width,
        height,
        maxPixels: 2 ** 24,
      });
      assert.equal(decoded.id, 7);
      assert.deepEqual(decoded.problems, []);
      const images = await Promise.all(files.map((file) => decodeImage(file.path, new Uint8Array(file.bytes))));
      const expected = imagesToInput(images, preprocessing);
      const actual = rgbToInput(decoded.rgb, files.length, preprocessing);
      assert.deepEqual(actual.shape, expected.shape);
      assert.equal(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0], 0, `${width}×${height}`);
      tf.dispose([actual, expected]);
    }
  });

  test('a file the host could not read and one that is not an image: black in their places, each named', async () => {
    const notImage = { path: 'bag/notes.png', bytes: new TextEncoder().encode('not a picture').buffer };
    const unread = { path: 'gone.png', error: 'gone.png cannot be read' };
    const decoded = await decodeBatch({ id: 1, files: [fileOf(SMALL[0]), notImage, unread], width: 28, height: 28, maxPixels: 2 ** 24 });
    assert.deepEqual(
      decoded.problems.map(([file]) => file),
      ['bag/notes.png', 'gone.png'],
    );
    assert.match(decoded.problems[0][1], /^bag\/notes\.png is not an image ConvLens can decode/);
    assert.equal(decoded.problems[1][1], 'gone.png cannot be read');
    const size = 28 * 28 * 3;
    assert.ok(
      decoded.rgb.subarray(0, size).some((v) => v > 0),
      'the sneaker has pixels',
    );
    assert.ok(
      decoded.rgb.subarray(size).every((v) => v === 0),
      'the two left out are black',
    );
  });

  test('an image over the pixel limit is refused by its header, before it is decoded', async () => {
    const decoded = await decodeBatch({ id: 2, files: [await photo()], width: 28, height: 28, maxPixels: 1000 });
    assert.equal(decoded.problems.length, 1);
    assert.match(decoded.problems[0][1], /chelsea\.png/);
    assert.ok(decoded.rgb.every((v) => v === 0));
  });
});
