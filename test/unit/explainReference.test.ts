/**
 * Every explanation method against an independent reference: the same networks exported from PyTorch
 * to ONNX, with maps computed in PyTorch (float64) from each method's formula by
 * test/fixtures/explain/make_reference.py. Maps must correlate with the reference at Pearson r ≥ 0.99,
 * and the gradient-weighted CAMs and Eigen-CAM at r ≥ 0.999. The CAM family's smoothing options
 * (test-time augmentation, eigen smoothing) are compared at the final target layer, at r ≥ 0.99. The
 * input-gradient methods are compared again with the model loaded as the command line loads it, their
 * backward pass on ONNX Runtime (readers/onnx/gradientGraph.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../../src/engine/execute';
import type { RunnableModel } from '../../src/engine/graph';
import { explain, type ExplainRequest } from '../../src/engine/explain';
import { ACTIVATION_GRADIENT_CAMS, isCamMethod, type Method } from '../../src/engine/explain/methods';
import { runsNatively } from '../../src/engine/nativeForward';
import { parseNpy } from '../../src/engine/npy';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot } from '../support/paths';
import { pearson } from '../support/statistics';
import { fixtureModel } from '../support/fixtureModels';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');

type Map2d = number[][];
type Smoothing = 'eigen_smooth' | 'aug_smooth' | 'aug_smooth+eigen_smooth';
interface TargetReference {
  target_layer: string;
  maps: Record<string, [Map2d, Map2d]>;
  smoothing?: Record<Smoothing, Record<string, [Map2d, Map2d]>>;
  extra_maps: { eigencam_other_sign: [Map2d, Map2d] };
  eigencam_sign: { sum_v_positive_is: 'eigencam' | 'eigencam_other_sign' }[];
}
interface ModelReference extends TargetReference {
  model: string;
  input: string;
  logits: number[][];
  classes: number[];
  scores: number[];
  smoothgrad: { samples: number; level: number; noise: string };
  integrated: { steps: number; baseline: number };
  occlusion: { window: number; stride: number };
  more_targets: TargetReference[];
}

const reference: { models: Record<string, ModelReference> } = JSON.parse(readFileSync(path.join(fixtures, 'reference.json'), 'utf8'));

/** The request options of each smoothing in the reference. */
const SMOOTHING_OPTIONS: Record<Smoothing, Pick<ExplainRequest, 'augSmooth' | 'eigenSmooth'>> = {
  eigen_smooth: { eigenSmooth: true },
  aug_smooth: { augSmooth: true },
  'aug_smooth+eigen_smooth': { augSmooth: true, eigenSmooth: true },
};

/** Methods whose maps must match most closely (their formulas leave no room for float32 rounding to matter). */
const STRICT: readonly string[] = ['gradcam', 'gradcam++', 'xgradcam', 'layercam', 'hirescam', 'eigencam', 'cam'];

/** An NCHW .npy fixture as an NHWC tensor. */

/** The reference's SmoothGrad noise for one image: [samples, H, W, 3]. */
function noiseOf(file: string, image: number): tf.Tensor4D {
  const { shape, data } = parseNpy(new Uint8Array(readFileSync(path.join(fixtures, file))));
  const [, samples, channels, height, width] = shape;
  const size = samples * channels * height * width;
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(data.subarray(image * size, (image + 1) * size), [samples, channels, height, width]), [0, 2, 3, 1]),
  );
}

before(async () => {
  await useNodeBackend();
});

for (const [name, ref] of Object.entries(reference.models)) {
  describe(`${name}: every method agrees with the PyTorch reference`, () => {
    const fixture = fixtureModel(path.join(fixtures, ref.model), path.join(fixtures, ref.input));

    test('logits match the exported network', () => {
      const [logits] = runGraph(fixture.model, singleInput(fixture.model, fixture.input), [fixture.model.outputs[0]]);
      const values = logits.arraySync() as number[][];
      logits.dispose();
      const scale = Math.max(...ref.logits.flat().map(Math.abs));
      for (let b = 0; b < ref.logits.length; b++) {
        for (let c = 0; c < ref.logits[b].length; c++) {
          assert.ok(Math.abs(values[b][c] - ref.logits[b][c]) <= 1e-4 * scale, `logit ${b},${c}: ${values[b][c]} vs ${ref.logits[b][c]}`);
        }
      }
    });

    const targets: [string, TargetReference][] = [
      ['final', ref],
      ...ref.more_targets.map((t): [string, TargetReference] => ['earlier', t]),
    ];
    for (const [where, target] of targets) {
      for (const [method, expected] of Object.entries(target.maps)) {
        if (where === 'earlier' && !isCamMethod(method as Method)) continue; // input methods have no layer
        const label = isCamMethod(method as Method) ? `${method} at ${where} layer ${target.target_layer}` : method;
        test(`${label}: Pearson r ≥ ${STRICT.includes(method) ? 0.999 : 0.99}`, async () => {
          const maps = await explainEachImage(fixture.model, fixture.input, ref, method as Method, target.target_layer);
          for (let b = 0; b < maps.length; b++) {
            // Eigen-CAM's sign: the rule of docs/explanations.md, Σ_k v_k ≥ 0; the reference names its map.
            const wanted =
              method === 'eigencam' && target.eigencam_sign[b].sum_v_positive_is === 'eigencam_other_sign'
                ? target.extra_maps.eigencam_other_sign[b]
                : expected[b];
            assertAgrees(maps[b], wanted, STRICT.includes(method) ? 0.999 : 0.99, `image ${b}`);
          }
        });
      }
    }
    for (const [smoothing, byMethod] of Object.entries(ref.smoothing ?? {}) as [Smoothing, Record<string, [Map2d, Map2d]>][]) {
      for (const [method, expected] of Object.entries(byMethod)) {
        test(`${method} with ${smoothing.replace('+', ' and ')}: Pearson r ≥ 0.99`, async () => {
          const options = SMOOTHING_OPTIONS[smoothing];
          const maps = await explainEachImage(fixture.model, fixture.input, ref, method as Method, ref.target_layer, options);
          for (let b = 0; b < maps.length; b++) assertAgrees(maps[b], expected[b], 0.99, `image ${b}`);
        });
      }
    }
  });
}

/** The methods whose gradients the native runtime takes (nativeForward.ts's `nativeGradient`). */
const NATIVE_GRADIENT_METHODS: readonly string[] = ['saliency', 'smoothgrad', 'integrated', ...ACTIVATION_GRADIENT_CAMS];

for (const [name, ref] of Object.entries(reference.models)) {
  describe(`${name}: input gradients on ONNX Runtime agree with the PyTorch reference`, () => {
    const fixture = fixtureModel(path.join(fixtures, ref.model), path.join(fixtures, ref.input), true);
    for (const method of NATIVE_GRADIENT_METHODS.filter((m) => m in ref.maps)) {
      const bar = STRICT.includes(method) ? 0.999 : 0.99;
      test(`${method}: Pearson r ≥ ${bar}`, async () => {
        assert.ok(runsNatively(fixture.model));
        const maps = await explainEachImage(fixture.model, fixture.input, ref, method as Method, ref.target_layer);
        for (let b = 0; b < maps.length; b++) assertAgrees(maps[b], ref.maps[method][b], bar, `image ${b}`);
      });
    }
  });
}

/**
 * Pearson r ≥ `bar` with the reference map; a reference that is all zeros (FEM, whose threshold over
 * 2 × 2 positions is out of reach) wants all zeros.
 */
function assertAgrees(map: Float32Array, expected: Map2d, bar: number, label: string): void {
  const wanted = expected.flat();
  if (wanted.every((v) => v === 0)) {
    assert.ok(
      map.every((v) => v === 0),
      `${label}: the reference map is all zeros, got a maximum of ${Math.max(...map)}`,
    );
    return;
  }
  const r = pearson(map, wanted);
  assert.ok(r >= bar, `${label}: r = ${r.toFixed(5)}`);
}

/** The method's map for each image, with the reference's settings. */
async function explainEachImage(
  model: RunnableModel,
  input: tf.Tensor4D,
  ref: ModelReference,
  method: Method,
  layer: string,
  smoothing: Pick<ExplainRequest, 'augSmooth' | 'eigenSmooth'> = {},
): Promise<Float32Array[]> {
  const request: ExplainRequest = {
    ...smoothing,
    method,
    layer: isCamMethod(method) ? layer : undefined,
    classIndex: ref.classes,
    integrated: { steps: ref.integrated.steps },
    occlusion: { window: ref.occlusion.window, stride: ref.occlusion.stride },
  };
  const batch = input.shape[0];
  if (method !== 'smoothgrad') {
    const { maps } = await explain(model, input, request);
    const values = await maps.data();
    maps.dispose();
    const size = values.length / batch;
    return Array.from({ length: batch }, (_, b) => Float32Array.from(values.subarray(b * size, (b + 1) * size)));
  }
  // SmoothGrad's σ is per image, so each image gets its own noise from the reference.
  const result: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const image = tf.slice(input, [b, 0, 0, 0], [1, -1, -1, -1]);
    const noise = noiseOf(ref.smoothgrad.noise, b);
    const { maps } = await explain(model, image, { ...request, classIndex: [ref.classes[b]], smoothGrad: { noise } });
    result.push(Float32Array.from(await maps.data()));
    tf.dispose([image, noise, maps]);
  }
  return result;
}
