/**
 * ShapleyCAM against an independent PyTorch reference (test/fixtures/explain-shapley/make_reference.py,
 * pytorch-grad-cam's shapley_cam.py written out in float64 with double back-propagation). Its two networks
 * are smooth after their target layers (SiLU, GELU, sigmoid gates, ELU, with an overlapping max pooling
 * between; an EfficientNet-B0), so the Hessian term is not zero: the maps must agree at Pearson r ≥ 0.999
 * per image, and the raw maps to 1e-4 of their range, where Grad-CAM's are 1e-2 or more away. On the
 * explain fixtures' networks, where everything after the target layers is piecewise linear (ReLU, ReLU6,
 * max pooling, depthwise and plain convolutions), the Hessian is zero and ShapleyCAM must give their
 * reference Grad-CAM maps.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../../src/engine/execute';
import { explain } from '../../src/engine/explain';
import { rawCam } from '../../src/engine/explain/cam';
import { gradientAndHessianProduct } from '../../src/engine/explain/shapleyCam';
import type { RunnableModel } from '../../src/engine/graph';
import { useNodeBackend } from '../../src/node/tfBackend';
import { fixtureModel } from '../support/fixtureModels';
import { repoRoot } from '../support/paths';
import { pearson, relativeError } from '../support/statistics';
import { assertNoTensorLeak } from '../support/tensorLeaks';

type Map2d = number[][];
interface ShapleyTarget {
  target_layer: string;
  raw_cam: { shapleycam: Map2d[]; gradcam: Map2d[] };
  maps: { shapleycam: Map2d[]; gradcam: Map2d[] };
  checks: { hessian_to_gradient_weight_norm: number[] };
}
interface ShapleyModel {
  model: string;
  input: string;
  logits: number[][];
  classes: number[];
  targets: Record<string, ShapleyTarget>;
}

const shapleyFixtures = path.join(repoRoot, 'test', 'fixtures', 'explain-shapley');
const explainFixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');
const reference: { models: Record<string, ShapleyModel> } = JSON.parse(readFileSync(path.join(shapleyFixtures, 'reference.json'), 'utf8'));

/** How close the raw maps must be, as a share of the reference map's largest magnitude. */
const RAW_TOLERANCE = 1e-4;

before(async () => {
  await useNodeBackend();
});

/** Each image's map (or raw map) as its own array. */
async function perImage(maps: tf.Tensor): Promise<Float32Array[]> {
  const values = await maps.data<'float32'>();
  const size = values.length / maps.shape[0];
  return Array.from({ length: maps.shape[0] }, (_, b) => values.slice(b * size, (b + 1) * size));
}

async function shapleyMaps(model: RunnableModel, input: tf.Tensor4D, layer: string, classes: number[]): Promise<Float32Array[]> {
  const { maps } = await explain(model, input, { method: 'shapleycam', layer, classIndex: classes });
  try {
    return await perImage(maps);
  } finally {
    maps.dispose();
  }
}

for (const [name, ref] of Object.entries(reference.models)) {
  describe(`${name}: smooth layers after the target layers`, () => {
    const fixture = fixtureModel(path.join(shapleyFixtures, ref.model), path.join(shapleyFixtures, ref.input));

    test('logits match the exported network', () => {
      const [logits] = runGraph(fixture.model, singleInput(fixture.model, fixture.input), [fixture.model.outputs[0]]);
      const values = logits.arraySync() as number[][];
      logits.dispose();
      for (let b = 0; b < values.length; b++) {
        for (let c = 0; c < values[b].length; c++) assert.ok(Math.abs(values[b][c] - ref.logits[b][c]) < 1e-4, `logit ${b},${c}`);
      }
    });

    for (const [where, target] of Object.entries(ref.targets)) {
      test(`${where} layer ${target.target_layer}: maps at Pearson r ≥ 0.999 per image`, async () => {
        const maps = await shapleyMaps(fixture.model, fixture.input, target.target_layer, ref.classes);
        for (const [b, map] of maps.entries()) {
          const r = pearson(map, target.maps.shapleycam[b].flat());
          assert.ok(r >= 0.999, `image ${b}: r = ${r.toFixed(5)}`);
        }
      });

      test(`${where} layer: raw maps within ${RAW_TOLERANCE} of the reference, where Grad-CAM's are not`, async () => {
        const feeds = singleInput(fixture.model, fixture.input);
        const { raw } = await rawCam(fixture.model, feeds, 'shapleycam', target.target_layer, ref.classes, { batchSize: 8 });
        const maps = await perImage(raw);
        raw.dispose();
        for (const [b, map] of maps.entries()) {
          const expected = target.raw_cam.shapleycam[b].flat();
          const gap = relativeError(map, expected);
          // The Hessian term moves the reference's raw map by far more than the tolerance: a Grad-CAM would fail.
          const hessianShift = relativeError(target.raw_cam.gradcam[b].flat(), expected);
          assert.ok(hessianShift > 5 * RAW_TOLERANCE, `image ${b}: the Hessian term shifts the raw map by only ${hessianShift}`);
          assert.ok(gap <= RAW_TOLERANCE, `image ${b}: off by ${gap} of the map's range (Grad-CAM is off by ${hessianShift})`);
        }
      });
    }

    test('frees every tensor, eigen smoothing and test-time augmentation included', async () => {
      const layer = Object.values(ref.targets).at(-1)!.target_layer;
      await assertNoTensorLeak(async () => {
        const { maps } = await explain(fixture.model, fixture.input, { method: 'shapleycam', layer, augSmooth: true, eigenSmooth: true });
        maps.dispose();
      });
    });
  });
}

interface ExplainReference {
  models: Record<
    string,
    {
      model: string;
      input: string;
      classes: number[];
      target_layer: string;
      maps: { gradcam: Map2d[] };
      more_targets: { target_layer: string; maps: { gradcam: Map2d[] } }[];
    }
  >;
}
const explainReference: ExplainReference = JSON.parse(readFileSync(path.join(explainFixtures, 'reference.json'), 'utf8'));

for (const [name, ref] of Object.entries(explainReference.models)) {
  describe(`${name}: piecewise linear after the target layers, so ShapleyCAM is Grad-CAM`, () => {
    const fixture = fixtureModel(path.join(explainFixtures, ref.model), path.join(explainFixtures, ref.input));
    for (const target of [ref, ...ref.more_targets]) {
      test(`${target.target_layer}: the reference Grad-CAM map at Pearson r ≥ 0.999 per image`, async () => {
        const maps = await shapleyMaps(fixture.model, fixture.input, target.target_layer, ref.classes);
        for (const [b, map] of maps.entries()) {
          const r = pearson(map, target.maps.gradcam[b].flat());
          assert.ok(r >= 0.999, `image ${b}: r = ${r.toFixed(5)}`);
        }
      });
    }
  });
}

test('an operation TensorFlow.js cannot differentiate twice is named in one sentence', async () => {
  await useNodeBackend();
  const a = tf.randomUniform([1, 4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  try {
    assert.throws(
      () => gradientAndHessianProduct(a, (x) => tf.sum(tf.localResponseNormalization(tf.sigmoid(x)), [1, 2, 3]) as tf.Tensor1D),
      /^Error: ShapleyCAM differentiates the layers after the target layer twice, and their LRNGrad operation has no second derivative here: choose a later target layer or another method$/,
    );
  } finally {
    a.dispose();
  }
});
