/**
 * Forward passes on ONNX Runtime's native kernels (engine/nativeForward.ts, readers/onnx/nativeSession.ts)
 * give what TensorFlow.js gives: the outputs, an intermediate feature map in the engine's NHWC order, the
 * maps of the methods that run whole forward passes (Score-CAM, occlusion), the folder pass; a file that
 * fixes its batch at 1 is run image by image; a model whose weights change in place (the randomisation
 * checks) runs on TensorFlow.js alone; nothing is leaked.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { summariseBatch } from '../../src/engine/dataset/features';
import { runGraph, singleInput } from '../../src/engine/execute';
import { explain } from '../../src/engine/explain';
import type { RunnableModel } from '../../src/engine/graph';
import { runForward, runsNatively, withoutNativeForward, type NativeRuntime } from '../../src/engine/nativeForward';
import { withOutputs } from '../../src/engine/readers/onnx/nativeSession';
import { loadOnnxRuntime } from '../../src/node/onnxRuntime';
import { useNodeBackend } from '../../src/node/tfBackend';
import { readNchwAsNhwc } from '../support/fixtureModels';
import { repoRoot } from '../support/paths';
import { pearson } from '../support/statistics';
import { counting, loadBoth } from '../support/nativeRuntime';
import { assertNoTensorLeak } from '../support/tensorLeaks';

const explainFixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');
const RESNET = path.join(explainFixtures, 'resnet_small.onnx');
const RESNET_INPUT = path.join(explainFixtures, 'resnet_small_input.npy');
// Exported with its batch fixed at 1.
const FIXED_BATCH = path.join(repoRoot, 'test', 'fixtures', 'onnx', 'resnext-grouped-opset17', 'resnext-grouped-opset17.onnx');

async function maxDifference(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  assert.deepEqual(a.shape, b.shape);
  const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const value = (await difference.data())[0];
  difference.dispose();
  return value;
}

describe('forward passes on ONNX Runtime', () => {
  let runtime: NativeRuntime;
  let passes: ReturnType<typeof counting>;
  let native: RunnableModel;
  let engine: RunnableModel;
  let input: tf.Tensor4D;

  before(async () => {
    await useNodeBackend();
    const loaded = await loadOnnxRuntime(1);
    assert.ok(loaded, 'onnxruntime-node loads (it is a dependency)');
    runtime = loaded;
    passes = counting(runtime);
    ({ native, engine } = await loadBoth(RESNET, passes));
    input = readNchwAsNhwc(RESNET_INPUT);
  });
  after(() => {
    native?.dispose();
    engine?.dispose();
    input?.dispose();
  });

  test('the outputs and an intermediate feature map (NHWC) match TensorFlow.js', async () => {
    assert.ok(runsNatively(native) && !runsNatively(engine));
    const feature = native.nodes.find((node) => node.type === 'Relu' && node.id.includes('layer4'))!.id;
    const wanted = [native.outputs[0], feature];
    const fast = await runForward(native, singleInput(native, input), wanted);
    assert.equal(passes.runs.length, 1, 'run natively');
    const reference = runGraph(engine, singleInput(engine, input), wanted);
    try {
      assert.equal(fast[1].rank, 4);
      assert.deepEqual(fast[1].shape, reference[1].shape, 'stored NHWC, as the engine stores it');
      assert.ok((await maxDifference(fast[0], reference[0])) < 1e-4);
      assert.ok((await maxDifference(fast[1], reference[1])) < 1e-4);
    } finally {
      tf.dispose([...fast, ...reference]);
    }
  });

  test('Score-CAM and occlusion maps match TensorFlow.js', async () => {
    const before = passes.runs.length;
    for (const method of ['scorecam', 'occlusion'] as const) {
      const [a, b] = await Promise.all([native, engine].map((model) => explain(model, input, { method, batchSize: 16 })));
      try {
        assert.deepEqual(a.classIndex, b.classIndex);
        const r = pearson(await a.maps.data(), await b.maps.data());
        assert.ok(r > 0.9999, `${method}: r = ${r}`);
      } finally {
        tf.dispose([a.maps, b.maps]);
      }
    }
    assert.ok(passes.runs.length - before > 10, 'their forward passes ran natively');
  });

  test('the folder pass: features, scores and channel peaks match', async () => {
    const conv = native.nodes.filter((node) => node.type === 'Relu').at(-1)!.id;
    const [a, b] = await Promise.all([native, engine].map((model) => summariseBatch(model, input, conv, conv)));
    assert.equal(a.dim, b.dim);
    for (const [x, y] of [
      [a.features, b.features],
      [a.scores, b.scores],
      [a.peaks!.values, b.peaks!.values],
    ])
      assert.ok(Math.max(...x.map((v, i) => Math.abs(v - y[i]))) < 1e-4);
    assert.deepEqual(a.peaks!.positions, b.peaks!.positions);
  });

  test('runs on TensorFlow.js alone while weights change in place, and natively again after', async () => {
    const weight = native.weights(native.nodes.find((node) => native.weights(node.id).length > 0)!.id)[0];
    const zeros = tf.zerosLike(weight);
    const swap = (x: tf.Tensor, y: tf.Tensor) => {
      // tfjs tensors share backend data by dataId: the same swap the randomisation checks make.
      const [dx, dy] = [x.dataId, y.dataId];
      (x as { dataId: object }).dataId = dy;
      (y as { dataId: object }).dataId = dx;
    };
    try {
      await withoutNativeForward(native, async () => {
        assert.equal(runsNatively(native), false);
        swap(weight, zeros);
        try {
          const [changed] = await runForward(native, singleInput(native, input), native.outputs);
          const [natively] = runGraph(engine, singleInput(engine, input), engine.outputs);
          assert.ok((await maxDifference(changed, natively)) > 1e-3, 'the changed weights are used');
          tf.dispose([changed, natively]);
        } finally {
          swap(weight, zeros);
        }
      });
      assert.equal(runsNatively(native), true);
    } finally {
      zeros.dispose();
    }
  });

  test('frees every tensor it makes', async () => {
    await assertNoTensorLeak(async () => {
      const outputs = await runForward(native, singleInput(native, input), native.outputs);
      tf.dispose(outputs);
      const { maps } = await explain(native, input, { method: 'scorecam', batchSize: 16 });
      maps.dispose();
    });
  });

  test('a file that fixes its batch at 1 is run image by image', async () => {
    const runs = counting(runtime);
    const both = await loadBoth(FIXED_BATCH, runs);
    const images = tf.randomUniform([3, 64, 64, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    try {
      const [fast] = await runForward(both.native, singleInput(both.native, images), both.native.outputs);
      const [reference] = runGraph(both.engine, singleInput(both.engine, images), both.engine.outputs);
      assert.equal(fast.shape[0], 3);
      assert.deepEqual(runs.runs, [3, 1, 1, 1], 'refused as a batch of 3, then run one image at a time');
      assert.ok((await maxDifference(fast, reference)) < 1e-4);
      tf.dispose([fast, reference]);
    } finally {
      images.dispose();
      both.native.dispose();
      both.engine.dispose();
    }
  });

  test('a runtime that cannot open the model leaves the pass to TensorFlow.js', async () => {
    const refusing: NativeRuntime = { open: () => Promise.reject(new Error('no such operator')) };
    const both = await loadBoth(RESNET, refusing);
    try {
      const [a] = await runForward(both.native, singleInput(both.native, input), both.native.outputs);
      const [b] = runGraph(both.engine, singleInput(both.engine, input), both.engine.outputs);
      assert.equal(await maxDifference(a, b), 0);
      tf.dispose([a, b]);
    } finally {
      both.native.dispose();
      both.engine.dispose();
    }
  });
});

describe('extra graph outputs', () => {
  test('appended to the file as a second graph message, which protobuf merges into the first', () => {
    const bytes = Uint8Array.of(0x08, 0x07); // ir_version = 7
    const added = withOutputs(bytes, ['a/b']);
    // graph (field 7) { output (field 12) { name (field 1) "a/b" } }
    assert.deepEqual([...added], [0x08, 0x07, 0x3a, 0x07, 0x62, 0x05, 0x0a, 0x03, 0x61, 0x2f, 0x62]);
    assert.equal(withOutputs(bytes, []), bytes);
  });
});
