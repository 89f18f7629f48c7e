/**
 * Explanation methods on the sample CNN, checked against hand computations: CAM from the classifier's
 * weights, gradients against finite differences, occlusion and ablation against direct re-runs; plus
 * the model-randomisation sanity check, cancellation, and freeing every tensor.
 * (Agreement with PyTorch references is in explainReference.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { runGraph, singleInput } from '../../src/engine/execute';
import type { RunnableModel } from '../../src/engine/graph';
import { explain } from '../../src/engine/explain';
import { inputGradient } from '../../src/engine/explain/inputGradients';
import { METHODS } from '../../src/engine/explain/methods';
import { ExplanationCancelled } from '../../src/engine/progress';
import { defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import { loadModel } from '../../src/engine/readers';
import { layersRunnable } from '../../src/engine/readers/layers/layersRunnable';
import { summarizeLayersModel } from '../../src/engine/readers/layers/layersModelSummary';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { PNG } from 'pngjs';
import { sampleModel, sampleWorkspace } from '../support/paths';
import { pearson } from '../support/statistics';

let model: RunnableModel;
let images: tf.Tensor4D;

function readGray(name: string): Float32Array {
  const png = PNG.sync.read(readFileSync(path.join(sampleWorkspace, 'images', name)));
  return Float32Array.from({ length: 28 * 28 }, (_, i) => png.data[i * 4]);
}

before(async () => {
  await useNodeBackend();
  model = await loadModel(fileModelSource(sampleModel));
  images = tf.tensor4d([...readGray('sneaker.png'), ...readGray('trouser.png')], [2, 28, 28, 1]);
});
after(() => {
  images.dispose();
  model.dispose();
});

async function mapsOf(method: (typeof METHODS)[number], extra: object = {}): Promise<number[][]> {
  const { maps } = await explain(model, images, { method, ...extra });
  const values = (await maps.array()) as number[][][];
  maps.dispose();
  return values.map((m) => m.flat());
}

function ranks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i]).sort((x, y) => x[0] - y[0]);
  const result = new Array<number>(values.length);
  order.forEach(([, i], r) => (result[i] = r));
  return result;
}

describe('explanations on the sample model', () => {
  test('the default target layer is the last convolution, and the default class the top prediction', async () => {
    assert.equal(defaultTargetLayer(model), 'conv3');
    const explanation = await explain(model, images, { method: 'gradcam' });
    explanation.maps.dispose();
    assert.deepEqual(explanation.classIndex, [7, 1]); // Sneaker, Trouser
    assert.equal(explanation.layer, 'conv3');
  });

  test('CAM and Grad-CAM equal the map computed by hand from the classifier weights', async () => {
    // Σ_k w_kc A_k on conv3's activations, ReLU, min-max, upsampled: written out without the engine's CAM code.
    const [activations] = runGraph(model, singleInput(model, images), ['conv3']);
    const [kernel] = model.weights('predictions');
    const classes = [7, 1];
    const expected = tf.tidy(() => {
      const w = tf.transpose(tf.gather(kernel, classes, 1)); // [2, 48]
      const cams = tf.relu(tf.sum(tf.mul(activations, tf.reshape(w, [2, 1, 1, 48])), -1));
      const min = tf.min(cams, [1, 2], true);
      const max = tf.max(cams, [1, 2], true);
      const scaled = tf.div(tf.sub(cams, min), tf.add(tf.sub(max, min), 1e-7));
      return tf.squeeze(tf.image.resizeBilinear(tf.expandDims(scaled, -1) as tf.Tensor4D, [28, 28], false, true), [3]);
    });
    const reference = ((await expected.array()) as number[][][]).map((m) => m.flat());
    tf.dispose([activations, expected]);
    for (const method of ['cam', 'gradcam'] as const) {
      const maps = await mapsOf(method);
      maps.forEach((map, b) => {
        const worst = Math.max(...map.map((v, i) => Math.abs(v - reference[b][i])));
        assert.ok(worst < 1e-4, `${method} image ${b} differs by ${worst}`);
      });
    }
  });

  test('saliency is |gradient of the class logit|, as finite differences measure it', async () => {
    const image = tf.slice(images, 0, 1);
    const feeds = singleInput(model, image);
    const gradient = Array.from(await inputGradient(model, feeds, image, [7]).data());
    const { maps } = await explain(model, image, { method: 'saliency', classIndex: 7 });
    const saliency = Array.from(await maps.data());
    maps.dispose();
    const maxAbs = Math.max(...gradient.map(Math.abs));
    gradient.forEach((g, i) => assert.ok(Math.abs(saliency[i] - Math.abs(g) / maxAbs) < 1e-5));

    // The class-7 logit, by the model itself, at the image with one pixel moved by ±h.
    const base = Array.from(await image.data());
    const logitAt = async (values: number[]) => {
      const x = tf.tensor4d(values, [1, 28, 28, 1]);
      const [out] = runGraph(model, singleInput(model, x), [model.logits!]);
      const value = (await out.data())[7];
      tf.dispose([x, out]);
      return value;
    };
    const h = 0.05; // pixel values are 0-255
    const centre = await logitAt(base);
    // ReLU and max pooling make the logit kinked at some pixels; compare where it is smooth (the one-sided
    // differences agree), which is where a gradient is defined.
    const strongest = gradient
      .map((g, i) => [Math.abs(g), i])
      .sort((a, b) => b[0] - a[0])
      .slice(0, 24)
      .map(([, i]) => i);
    let compared = 0;
    for (const pixel of strongest) {
      const plus = base.slice();
      plus[pixel] += h;
      const minus = base.slice();
      minus[pixel] -= h;
      const forward = ((await logitAt(plus)) - centre) / h;
      const backward = (centre - (await logitAt(minus))) / h;
      if (Math.abs(forward - backward) > 0.02 * maxAbs) continue;
      compared++;
      const numeric = (forward + backward) / 2;
      assert.ok(Math.abs(numeric - gradient[pixel]) < 0.02 * maxAbs, `pixel ${pixel}: ${numeric} vs ${gradient[pixel]}`);
    }
    assert.ok(compared >= 5, `only ${compared} smooth pixels to compare`);
    image.dispose();
  });

  test('every method gives one finite map per image in [0, 1], not constant', async () => {
    for (const method of METHODS) {
      const maps = await mapsOf(method, { smoothGrad: { samples: 4, seed: 1 }, integrated: { steps: 8 } });
      assert.equal(maps.length, 2, method);
      for (const map of maps) {
        assert.equal(map.length, 28 * 28, method);
        assert.ok(
          map.every((v) => Number.isFinite(v) && v >= 0 && v <= 1),
          `${method} has values outside [0, 1]`,
        );
        assert.ok(Math.max(...map) - Math.min(...map) > 0.1, `${method} is nearly constant`);
      }
    }
  });

  test('randomising the top layers changes Grad-CAM and saliency substantially (Adebayo et al., 2018)', async () => {
    const original = {
      gradcam: await mapsOf('gradcam', { classIndex: [7, 1] }),
      saliency: await mapsOf('saliency', { classIndex: [7, 1] }),
    };
    const saved = ['predictions', 'conv3'].map((id) => model.weights(id).map((w) => w.clone()));
    try {
      ['predictions', 'conv3'].forEach((id, n) => {
        for (const w of model.weights(id)) (w as tf.Variable).assign(tf.randomNormal(w.shape, 0, 0.3, 'float32', 11 + n));
      });
      for (const method of ['gradcam', 'saliency'] as const) {
        const randomised = await mapsOf(method, { classIndex: [7, 1] });
        randomised.forEach((map, b) => {
          const rho = pearson(ranks(map), ranks(original[method][b]));
          assert.ok(rho < 0.5, `${method} image ${b}: rank correlation ${rho.toFixed(2)} after randomisation`);
        });
      }
    } finally {
      ['predictions', 'conv3'].forEach((id, n) => model.weights(id).forEach((w, i) => (w as tf.Variable).assign(saved[n][i])));
      tf.dispose(saved.flat());
    }
  });

  test('long methods report progress and stop when cancelled', async () => {
    const reports: number[] = [];
    const token = { cancelled: false };
    const before = tf.memory().numTensors;
    await assert.rejects(
      explain(model, images, {
        method: 'occlusion',
        batchSize: 4,
        progress: {
          token,
          report: (done) => {
            reports.push(done);
            if (done === 2) token.cancelled = true;
          },
        },
      }),
      ExplanationCancelled,
    );
    assert.deepEqual(reports, [1, 2]);
    assert.equal(tf.memory().numTensors, before, 'a cancelled explanation leaked tensors');
  });

  test('running every method many times frees every tensor', async () => {
    await mapsOf('gradcam');
    const before = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      for (const method of METHODS) await mapsOf(method, { smoothGrad: { samples: 2, seed: 1 }, integrated: { steps: 2 } });
    }
    assert.equal(tf.memory().numTensors, before);
  });

  test('a class that does not exist, or a layer without height and width, is refused with the reason', async () => {
    await assert.rejects(
      explain(model, images, { method: 'gradcam', classIndex: 12 }),
      /class 12 does not exist: the model has classes 0 to 9/,
    );
    await assert.rejects(explain(model, images, { method: 'gradcam', layer: 'gap' }), /layer "gap" has output shape \(None, 48\)/);
    await assert.rejects(explain(model, images, { method: 'gradcam', layer: 'nope' }), /the model has no layer "nope"/);
  });
});

describe('binary classifiers with one sigmoid unit', () => {
  test('class 0 is explained through the score −z: Grad-CAM shows the opposite evidence, saliency the same pixels', async () => {
    const input = tfl.input({ shape: [8, 8, 1] });
    let x = tfl.layers
      .conv2d({
        filters: 3,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'conv',
        kernelInitializer: tfl.initializers.randomNormal({ seed: 3 }),
      })
      .apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
    const output = tfl.layers
      .dense({ units: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.randomNormal({ seed: 4 }) })
      .apply(x) as tfl.SymbolicTensor;
    const layers = tfl.model({ inputs: input, outputs: output });
    const binary = layersRunnable(layers, summarizeLayersModel(layers, { format: 'tfjs-layers', fileName: 'binary.json' }));
    const image = tf.randomUniform([1, 8, 8, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const [dog, cat] = [
      await explain(binary, image, { method: 'gradcam', classIndex: 1, layer: 'conv' }),
      await explain(binary, image, { method: 'gradcam', classIndex: 0, layer: 'conv' }),
    ];
    assert.ok(Math.abs(dog.score[0] + cat.score[0]) < 1e-6, 'class 0 scores −z');
    // The CAMs before ReLU are negatives of each other; after ReLU and min-max, no pixel is high in both.
    const [dogMap, catMap] = [await dog.maps.data(), await cat.maps.data()];
    assert.ok(dogMap.every((v, i) => !(v > 0.5 && catMap[i] > 0.5)));
    const [a, b] = [
      await explain(binary, image, { method: 'saliency', classIndex: 1 }),
      await explain(binary, image, { method: 'saliency', classIndex: 0 }),
    ];
    assert.deepEqual(Array.from(await a.maps.data()), Array.from(await b.maps.data()));
    tf.dispose([dog.maps, cat.maps, a.maps, b.maps, image]);
    binary.dispose();
  });
});
