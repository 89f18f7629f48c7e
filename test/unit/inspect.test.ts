/**
 * The pictures of the Visualize Layers viewer, checked against hand computations: weight tiles and
 * their diverging colours, hover read-outs, feature-map grids with each normalisation, and no tensor
 * left behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../../src/engine/execute';
import type { RunnableModel } from '../../src/engine/graph';
import { featureMapAt, featureMapGrid, featureMapLayout, tileOrigin } from '../../src/engine/inspect/featureMapGrid';
import { layerKernel, MAX_MATRIX_SIDE, weightPicture } from '../../src/engine/inspect/weightPicture';
import { findLayer } from '../../src/engine/model';
import { loadModel } from '../../src/engine/readers';
import { colormapTable, divergingTable } from '../../src/engine/render/colormaps';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { sampleModel } from '../support/paths';

/** RGBA of picture pixel (x, y). */
function pixel(
  image: { width: number; data: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> } },
  x: number,
  y: number,
): number[] {
  const i = (y * image.width + x) * 4;
  return Array.from(image.data.subarray(i, i + 4));
}

function diverging(entry: number): number[] {
  return [...divergingTable().subarray(entry * 3, entry * 3 + 3), 255];
}

describe('weight pictures', () => {
  test('the diverging colormap is blue below zero, near-white at zero, red above', () => {
    const [r0, , b0] = diverging(0);
    const [r1, , b1] = diverging(255);
    const mid = diverging(128);
    assert.ok(b0 > r0 && r1 > b1, 'negative is blue, positive is red');
    assert.ok(Math.min(...mid.slice(0, 3)) > 230, `zero is near-white: ${mid}`);
  });

  // A 2×2 kernel, one input channel, two filters (HWIO): filter 0 = [[1, −1], [0.5, 0]], filter 1 = [[0.25, 0], [0, −0.25]].
  const kernel = { shape: [2, 2, 1, 2], values: Float32Array.from([1, 0.25, -1, 0, 0.5, 0, 0, -0.25]) };

  test('one tile per filter, colours scaled by the layer’s largest weight', () => {
    const picture = weightPicture(kernel, 'shared')!;
    // Two tiles side by side with a one-pixel gap: 2 + 1 + 2 wide.
    assert.deepEqual([picture.image.width, picture.image.height], [5, 2]);
    assert.equal(picture.maxAbs, 1);
    assert.deepEqual(pixel(picture.image, 0, 0), diverging(255)); // +1
    assert.deepEqual(pixel(picture.image, 1, 0), diverging(0)); // −1
    assert.deepEqual(pixel(picture.image, 0, 1), diverging(Math.round(1.5 * 127.5))); // +0.5
    assert.deepEqual(pixel(picture.image, 3, 0), diverging(Math.round(1.25 * 127.5))); // filter 1: +0.25 of 1
    assert.equal(pixel(picture.image, 2, 0)[3], 0, 'the gap is transparent');
  });

  test('per-filter scaling gives each filter the full colour range', () => {
    const picture = weightPicture(kernel, 'per-filter')!;
    assert.deepEqual(pixel(picture.image, 3, 0), diverging(255)); // 0.25 is filter 1's largest
    assert.deepEqual(pixel(picture.image, 4, 1), diverging(0));
    assert.deepEqual(pixel(picture.image, 0, 1), diverging(Math.round(1.5 * 127.5)), 'filter 0 keeps its scale');
  });

  test('hover names the filter, position and exact value; gaps name nothing', () => {
    const picture = weightPicture(kernel, 'shared')!;
    assert.deepEqual(picture.at(1, 0), { label: 'filter 0 at (0, 1): -1.0000', value: -1 });
    assert.deepEqual(picture.at(4, 1), { label: 'filter 1 at (1, 1): -0.2500', value: -0.25 });
    assert.equal(picture.at(2, 0), undefined);
    assert.equal(picture.at(5, 0), undefined);
  });

  test('a first layer over RGB: colour tiles, grey at zero', () => {
    // 1×1 kernel, 3 input channels, 2 filters: filter 0 = (1, 0, −1), filter 1 = (0.5, 0.5, 0.5).
    const rgb = { shape: [1, 1, 3, 2], values: Float32Array.from([1, 0.5, 0, 0.5, -1, 0.5]) };
    const picture = weightPicture(rgb, 'shared')!;
    assert.equal(picture.kind, 'colour-filters');
    assert.deepEqual(pixel(picture.image, 0, 0), [255, 128, 0, 255]);
    assert.deepEqual(pixel(picture.image, 2, 0), [191, 191, 191, 255]);
    assert.match(picture.at(0, 0)!.label, /^filter 0 at \(0, 0\): R 1\.0000, G 0\.0000, B -1\.0000$/);
  });

  test('deeper layers: a row per filter, a column per input channel', () => {
    // 1×1 kernel, 2 inputs, 3 filters; value = 10·input + filter.
    const values = Float32Array.from([0, 1, 2, 10, 11, 12]);
    const picture = weightPicture({ shape: [1, 1, 2, 3], values }, 'shared')!;
    assert.deepEqual([picture.image.width, picture.image.height], [3, 5]);
    assert.equal(picture.at(2, 4)!.value, 12);
    assert.equal(picture.at(2, 4)!.label, 'filter 2, input channel 1 at (0, 0): 12.0000');
    assert.equal(picture.at(0, 2)!.value, 1);
  });

  test('depthwise kernels: a tile per channel', () => {
    const values = Float32Array.from([3, -4, 5, 6]); // [1, 1, 4, 1]
    const picture = weightPicture({ shape: [1, 1, 4, 1], values }, 'shared', true)!;
    assert.deepEqual([picture.image.width, picture.image.height], [3, 3]);
    assert.equal(picture.at(2, 0)!.label, 'channel 1 at (0, 0): -4.0000');
    assert.equal(picture.at(2, 2)!.value, 6);
  });

  test('a dense matrix larger than the screen keeps each block’s strongest weight and its sign', () => {
    const inputs = MAX_MATRIX_SIDE * 2 + 5;
    const values = new Float32Array(inputs * 2);
    values[7 * 2 + 1] = -3; // input 7 → unit 1
    values[6 * 2 + 1] = 2;
    const picture = weightPicture({ shape: [inputs, 2], values }, 'shared')!;
    assert.equal(picture.kind, 'matrix');
    assert.deepEqual([picture.image.width, picture.image.height], [Math.ceil(inputs / 3), 2]);
    assert.deepEqual(picture.at(2, 1), { label: 'unit 1, input 6–8: -3.0000', value: -3 });
    assert.deepEqual(pixel(picture.image, 2, 1), diverging(0));
  });

  test('biases and vectors have no picture', () => {
    assert.equal(weightPicture({ shape: [16], values: new Float32Array(16) }, 'shared'), undefined);
  });
});

describe('feature map grids', () => {
  before(() => useNodeBackend());
  const gray = new Uint8Array(256 * 3).map((_, i) => Math.floor(i / 3));

  test('min-max: each channel stretched over its own range, laid out in a grid with transparent gaps', async () => {
    // 2×2 maps, 3 channels: channel c at (y, x) = (c + 1) · (2y + x).
    const values = [];
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) for (let c = 0; c < 3; c++) values.push((c + 1) * (2 * y + x));
    const activation = tf.tensor4d(values, [1, 2, 2, 3]);
    const { layout, pixels } = featureMapGrid(activation, 'minmax', gray);
    const image = { width: layout.width, data: (await pixels.data()) as Int32Array };
    pixels.dispose();
    activation.dispose();
    assert.deepEqual(layout, { channels: 3, tileHeight: 2, tileWidth: 2, columns: 2, rows: 2, width: 5, height: 5 });
    for (const channel of [0, 1, 2]) {
      const origin = tileOrigin(layout, channel);
      // Every channel is 0, 1/3, 2/3, 1 of its range at (0,0), (0,1), (1,0), (1,1).
      assert.deepEqual(pixel(image, origin.x + 1, origin.y + 1), [255, 255, 255, 255]);
      assert.deepEqual(pixel(image, origin.x, origin.y + 1), [170, 170, 170, 255]);
      assert.deepEqual(pixel(image, origin.x + 1, origin.y), [85, 85, 85, 255]);
      assert.deepEqual(pixel(image, origin.x, origin.y), [0, 0, 0, 255]);
    }
    assert.equal(pixel(image, 2, 0)[3], 0, 'gap column');
    assert.equal(pixel(image, 4, 4)[3], 0, 'the empty fourth tile');
    assert.deepEqual(featureMapAt(layout, 4, 1), { channel: 1, y: 1, x: 1 });
    assert.deepEqual(featureMapAt(layout, 1, 3), { channel: 2, y: 0, x: 1 });
    assert.equal(featureMapAt(layout, 3, 3), undefined);
  });

  test('mean/std: (x − mean) / std · 64 + 128, clipped', async () => {
    // One channel of 4 values: mean 2.5, std √1.25.
    const activation = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const { pixels } = featureMapGrid(activation, 'standardize', gray);
    const data = await pixels.data();
    tf.dispose([pixels, activation]);
    const expected = [1, 2, 3, 4].map((x) => Math.round(((((x - 2.5) / (Math.sqrt(1.25) + 1e-5)) * 64 + 128) / 255) * 255));
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => data[i * 4]),
      expected,
    );
  });

  test('a dense layer’s vector is normalised over all its units, as one band', async () => {
    const activation = tf.tensor2d([[0, 5, 10]]);
    const { layout, pixels } = featureMapGrid(activation, 'minmax', gray);
    const data = await pixels.data();
    tf.dispose([pixels, activation]);
    assert.deepEqual([layout.columns, layout.rows, layout.width], [3, 1, 5]);
    assert.deepEqual([data[0], data[8], data[16]], [0, 128, 255]);
  });

  test('shapes that are not one image’s output are refused', () => {
    assert.throws(() => featureMapLayout([2, 4, 4, 3]), /one image’s|one image's/);
  });
});

describe('the sample model in the viewer', () => {
  let model: RunnableModel;
  before(async () => {
    await useNodeBackend();
    model = await loadModel(fileModelSource(sampleModel));
  });
  after(() => model.dispose());

  test('conv1’s kernel is drawn as 16 single-channel 3×3 tiles whose read-outs are the file’s weights', async () => {
    const found = layerKernel(model.weights('conv1'), findLayer(model.summary, 'conv1')!)!;
    assert.deepEqual(found.tensor.shape, [3, 3, 1, 16]);
    assert.equal(found.depthwise, false);
    const values = (await found.tensor.data()) as Float32Array;
    const picture = weightPicture({ shape: found.tensor.shape, values }, 'shared')!;
    assert.deepEqual([picture.image.width, picture.image.height], [4 * 4 - 1, 4 * 4 - 1]);
    // Filter 5 is tile (row 1, column 1); its weight (2, 0) is HWIO index ((2·3 + 0)·1 + 0)·16 + 5.
    assert.equal(picture.at(4, 6)!.value, values[(2 * 3 + 0) * 16 + 5]);
    assert.equal(layerKernel(model.weights('predictions'), findLayer(model.summary, 'predictions')!)!.tensor.rank, 2);
    assert.equal(layerKernel(model.weights('pool1'), findLayer(model.summary, 'pool1')!), undefined);
  });

  test('conv2’s feature maps: 32 tiles of 14×14, each the min-max of its own channel, no tensor left behind', async () => {
    const input = tf.randomUniform([1, 28, 28, 1], 0, 255, 'float32', 7);
    const before = tf.memory().numTensors;
    const [activation] = runGraph(model, singleInput(model, input), ['conv2']);
    const { layout, pixels } = featureMapGrid(activation, 'minmax', colormapTable('viridis'));
    const image = { width: layout.width, data: (await pixels.data()) as Int32Array };
    const raw = (await activation.data()) as Float32Array;
    tf.dispose([activation, pixels]);
    assert.equal(tf.memory().numTensors, before);
    input.dispose();
    assert.deepEqual([layout.channels, layout.tileHeight, layout.columns, layout.rows], [32, 14, 6, 6]);
    const viridis = colormapTable('viridis');
    for (const channel of [0, 9, 31]) {
      const channelValues = Array.from({ length: 14 * 14 }, (_, p) => raw[p * 32 + channel]);
      const [min, max] = [Math.min(...channelValues), Math.max(...channelValues)];
      const origin = tileOrigin(layout, channel);
      for (const [y, x] of [
        [0, 0],
        [7, 3],
        [13, 13],
      ]) {
        const t = max > min ? (raw[(y * 14 + x) * 32 + channel] - min) / (max - min) : 0;
        const entry = Math.round(t * 255);
        assert.deepEqual(
          pixel(image, origin.x + x, origin.y + y),
          [...viridis.subarray(entry * 3, entry * 3 + 3), 255],
          `channel ${channel} at (${y}, ${x})`,
        );
      }
    }
  });
});
