/**
 * Input gradients on ONNX Runtime (readers/onnx/gradientGraph.ts, gradientRules.ts): the backward pass
 * written as ONNX nodes gives the gradient TensorFlow.js takes of the same network, on every fixture whose
 * operators all have rules (convolutions plain, grouped and depthwise, max and average pooling, ReLU,
 * ReLU6, hardswish, SiLU and squeeze-excitation, batch normalisation, DenseNet's concatenations and
 * padding, a channels-last input's transpose, softmax); a file the rules cannot cover is left to
 * TensorFlow.js; a file fixing its batch at 1 is differentiated image by image; the explanation methods
 * that use it (input gradients, and gradients at a layer for the CAM family) give TensorFlow.js's maps;
 * nothing is leaked.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { singleInput } from '../../src/engine/execute';
import { explain, type ExplainRequest } from '../../src/engine/explain';
import { inputGradient } from '../../src/engine/explain/inputGradients';
import { classScores, scoreNode } from '../../src/engine/explain/scores';
import type { RunnableModel } from '../../src/engine/graph';
import { nativeInputGradient, setNativeRuntime, type NativeRuntime } from '../../src/engine/nativeForward';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { loadOnnxRuntime } from '../../src/node/onnxRuntime';
import { useNodeBackend } from '../../src/node/tfBackend';
import { readNchwAsNhwc } from '../support/fixtureModels';
import { repoRoot } from '../support/paths';
import { pearson } from '../support/statistics';
import { counting, loadBoth } from '../support/nativeRuntime';
import { assertNoTensorLeak } from '../support/tensorLeaks';

const onnxFixtures = path.join(repoRoot, 'test', 'fixtures', 'onnx');
const explainFixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');

const targetFixtures = path.join(repoRoot, 'test', 'fixtures', 'targets');

/** Fixtures every operator of which (between the input and the score) has a backward rule. */
const COVERED = [
  'alexnet-opset12',
  'channels-last-input-opset13',
  'densenet-opset13',
  'efficientnet-b0-opset17',
  'mobilenet-v2-opset11',
  'mobilenet-v3-small-opset13',
  'mobilenet-v3-small-opset14',
  'resnext-grouped-opset17',
  // A vision transformer: patches, class token (Gather), layer normalisation, attention (MatMul, Softmax), GELU (Erf), Slice.
  'vit_tiny',
];

/** Fixtures left to TensorFlow.js, and why. */
const NOT_COVERED: Record<string, string> = {
  'resnet-basic-opset9': 'an operator set before 11',
  'operator-mix-opset13': 'PRelu, Elu and Gather have no rule',
  'lrn-softmax-opset11': 'LRN and GlobalMaxPool have no rule',
};

/** ∂(Σ_b logit of class c_b)/∂x natively (undefined where it is not taken natively), and on TensorFlow.js. */
async function bothGradients(models: { native: RunnableModel; engine: RunnableModel }, x: tf.Tensor, classes: number[]) {
  const feeds = singleInput(models.native, x);
  const [inputId] = [...feeds.keys()];
  const native = await nativeInputGradient(models.native, feeds, inputId, [scoreNode(models.native)], ([output]) =>
    tf.sum(classScores(output, classes)),
  );
  const engine = tf.tidy(() => inputGradient(models.engine, singleInput(models.engine, x), x, classes));
  return { native, engine };
}

function fixtureFile(name: string): string {
  return name === 'vit_tiny' ? path.join(targetFixtures, 'vit_tiny.onnx') : path.join(onnxFixtures, name, `${name}.onnx`);
}

describe('input gradients on ONNX Runtime', () => {
  let runtime: NativeRuntime;
  let images: tf.Tensor4D;
  let vitImages: tf.Tensor4D;

  before(async () => {
    await useNodeBackend();
    const loaded = await loadOnnxRuntime(1);
    assert.ok(loaded, 'onnxruntime-node loads (it is a dependency)');
    runtime = loaded;
    const all = readNchwAsNhwc(path.join(onnxFixtures, 'inputs-64.npy'));
    images = tf.slice(all, 0, 2);
    all.dispose();
    vitImages = readNchwAsNhwc(path.join(targetFixtures, 'vit_tiny_input.npy'));
  });
  after(() => tf.dispose([images, vitImages]));

  for (const name of COVERED) {
    test(`${name}: the gradient TensorFlow.js takes`, async () => {
      const passes = counting(runtime);
      const models = await loadBoth(fixtureFile(name), passes);
      const x = name === 'vit_tiny' ? vitImages : images;
      const { native, engine } = await bothGradients(
        models,
        x,
        Array.from({ length: x.shape[0] }, (_, b) => (3 + 4 * b) % 10),
      );
      try {
        assert.ok(native, 'differentiated natively');
        assert.ok(passes.runs.length > 0);
        assert.deepEqual(native.shape, engine.shape, 'stored as the input is');
        const scale = tf.tidy(() => tf.max(tf.abs(engine)).dataSync()[0]);
        const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(native, engine))).dataSync()[0]);
        assert.ok(scale > 0, 'the gradient is not zero');
        assert.ok(difference <= 1e-3 * scale, `largest difference ${difference} against a largest value of ${scale}`);
        // Refused as a batch of 2; then the forward pass and the gradient image by image.
        if (name === 'resnext-grouped-opset17') assert.deepEqual(passes.runs, [2, 1, 1, 1, 1]);
      } finally {
        tf.dispose([native, engine].filter((t): t is tf.Tensor => t !== undefined));
        models.native.dispose();
        models.engine.dispose();
      }
    });
  }

  for (const [name, why] of Object.entries(NOT_COVERED)) {
    test(`${name} (${why}) is left to TensorFlow.js`, async () => {
      setNativeRuntime(runtime);
      const model = await loadModel(fileModelSource(fixtureFile(name))).finally(() => setNativeRuntime(undefined));
      const x = name.includes('opset9') ? images : tf.image.resizeBilinear(images, [17, 17]);
      try {
        const feeds = singleInput(model, x);
        const native = await nativeInputGradient(model, feeds, [...feeds.keys()][0], [scoreNode(model)], ([output]) =>
          tf.sum(classScores(output, [0, 1])),
        );
        assert.equal(native, undefined);
      } finally {
        if (x !== images) x.dispose();
        model.dispose();
      }
    });
  }

  describe('the methods built on it give TensorFlow.js maps', () => {
    let models: { native: RunnableModel; engine: RunnableModel };
    let passes: ReturnType<typeof counting>;
    let input: tf.Tensor4D;
    before(async () => {
      passes = counting(runtime);
      models = await loadBoth(path.join(explainFixtures, 'mobilenet_small.onnx'), passes);
      input = readNchwAsNhwc(path.join(explainFixtures, 'mobilenet_small_input.npy'));
    });
    after(() => {
      models?.native.dispose();
      models?.engine.dispose();
      input?.dispose();
    });

    const requests: ExplainRequest[] = [
      { method: 'saliency' },
      { method: 'smoothgrad', smoothGrad: { samples: 6, seed: 11 }, batchSize: 4 },
      { method: 'integrated', integrated: { steps: 6 }, batchSize: 4 },
      { method: 'gradcam' },
      { method: 'gradcam++' },
      { method: 'eigengradcam' },
    ];
    // SmoothGrad's noisy inputs put some ReLU6 inputs within float32 rounding of 0, where the two
    // runtimes' sums can fall either side (both agree with PyTorch's float64 reference: explainReference).
    const bar: Record<string, number> = { smoothgrad: 0.999 };
    for (const request of requests) {
      test(`${request.method}: r > ${bar[request.method] ?? 0.9999}`, async () => {
        const before = passes.runs.length;
        const [a, b] = await Promise.all([models.native, models.engine].map((model) => explain(model, input, request)));
        try {
          assert.deepEqual(a.classIndex, b.classIndex);
          const r = pearson(await a.maps.data(), await b.maps.data());
          assert.ok(r > (bar[request.method] ?? 0.9999), `r = ${r}`);
          assert.ok(passes.runs.length > before, 'its gradients were taken natively');
        } finally {
          tf.dispose([a.maps, b.maps]);
        }
      });
    }

    test('frees every tensor it makes', async () => {
      await assertNoTensorLeak(async () => {
        for (const request of requests) (await explain(models.native, input, request)).maps.dispose();
      });
    });
  });
});
