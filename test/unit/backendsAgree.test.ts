/**
 * The WebAssembly backend (the command line's, and the webviews' where WebGL is a software renderer)
 * gives the same explanations as the CPU backend: every method, on a Keras-style CNN, a ResNet and a
 * MobileNet with depthwise convolutions, exported from PyTorch. Agreement with PyTorch itself is in
 * explainReference.test.ts, which runs on WebAssembly.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { explain } from '../../src/engine/explain';
import { METHODS, type Method } from '../../src/engine/explain/methods';
import type { RunnableModel } from '../../src/engine/graph';
import { parseNpy } from '../../src/engine/npy';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot, sampleModel } from '../support/paths';
import { pearson } from '../support/statistics';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');

before(async () => {
  assert.equal((await useNodeBackend('wasm')).backend, 'wasm');
});

/** An NCHW .npy fixture as NHWC values (plain numbers, so each backend makes its own tensor). */
function nhwcValues(file: string): { values: Float32Array; shape: [number, number, number, number] } {
  const { shape, data } = parseNpy(new Uint8Array(readFileSync(path.join(fixtures, file))));
  const [n, c, h, w] = shape;
  const values = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) values[((b * h + y) * w + x) * c + k] = data[((b * c + k) * h + y) * w + x];
  return { values, shape: [n, h, w, c] };
}

const cases = [
  {
    name: 'the sample Fashion-MNIST CNN',
    file: sampleModel,
    input: {
      values: Float32Array.from({ length: 2 * 28 * 28 }, (_, i) => (i * 37) % 255),
      shape: [2, 28, 28, 1] as [number, number, number, number],
    },
  },
  {
    name: 'a ResNet from PyTorch',
    file: path.join(fixtures, 'resnet_small.onnx'),
    input: nhwcValues('resnet_small_input.npy'),
    // Occlusion and Score-CAM only run the network forwards (compared on the sample CNN); here they would
    // take a minute on the CPU backend.
    methods: METHODS.filter((method) => method !== 'occlusion' && method !== 'scorecam'),
  },
  // The gradient methods, which go through depthwise convolutions backwards; the many-forward ones take
  // minutes on the CPU backend with this model's 1,280-channel last layer, and add nothing the others test.
  {
    name: 'a MobileNetV2 from PyTorch (depthwise convolutions)',
    file: path.join(fixtures, 'mobilenet_small.onnx'),
    input: nhwcValues('mobilenet_small_input.npy'),
    methods: ['gradcam', 'gradcam++', 'saliency', 'guided', 'smoothgrad', 'integrated'] as readonly Method[],
  },
];

/** Methods that add up many gradients: float32 rounding differs between backends at ReLU kinks. */
const SUMMED: readonly string[] = ['smoothgrad', 'integrated'];

for (const { name, file, input, methods = METHODS } of cases as {
  name: string;
  file: string;
  input: ReturnType<typeof nhwcValues>;
  methods?: readonly Method[];
}[]) {
  describe(`${name}: the same maps on WebAssembly and on the CPU`, () => {
    for (const method of methods) {
      test(method, async () => {
        const maps: Record<string, Float32Array> = {};
        for (const backend of ['cpu', 'wasm']) {
          await tf.setBackend(backend);
          const model: RunnableModel = await loadModel(fileModelSource(file));
          const x = tf.tensor4d(input.values, input.shape);
          const result = await explain(model, x, { method, smoothGrad: { seed: 7, samples: 8 }, integrated: { steps: 8 } });
          maps[backend] = (await result.maps.data()) as Float32Array;
          tf.dispose([x, result.maps]);
          model.dispose();
        }
        const worst = Math.max(...maps.wasm.map((v, i) => Math.abs(v - maps.cpu[i])));
        if (SUMMED.includes(method)) {
          assert.ok(worst < 0.02, `maps in [0, 1] differ by up to ${worst}`);
          assert.ok(pearson(maps.wasm, maps.cpu) > 0.999, `r = ${pearson(maps.wasm, maps.cpu)}`);
        } else {
          assert.ok(worst < 2e-3, `maps in [0, 1] differ by up to ${worst}`);
        }
      });
    }
  });
}
