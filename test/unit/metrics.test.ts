/**
 * The faithfulness metrics against an independent reference: test/fixtures/metrics/make_reference.py
 * computes ROAD and the confidence change as pytorch-grad-cam's code does, deletion/insertion as RISE's,
 * and the map similarities as SciPy/scikit-image define them, in PyTorch on the tiny_gap network with
 * fixed maps (the explain fixtures' Grad-CAM and saliency maps). Agreement within 1e-4.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  confidenceChange,
  deletionInsertion,
  noisyLinearImpute,
  keptPixels,
  riseBlurKernel,
  road,
  type RoadResult,
  setImputationThread,
  spearman,
  ssim,
  topKIntersection,
} from '../../src/engine/metrics';
import { explain } from '../../src/engine/explain';
import { repoRoot } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';
import { fixtureModel } from '../support/fixtureModels';
import { imputeOnThread } from '../../src/node/imputationThread';

const explainFixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'metrics');

interface RoadReference {
  morf: number[];
  lerf: number[];
  combined: number[];
  morf_by_percentile: number[][];
  lerf_by_percentile: number[][];
}
interface ConfidenceReference {
  before: number[];
  after: number[];
  change: number[];
  drop: number[];
  average_drop: number;
  increase_in_confidence: number;
}
interface CurveReference {
  step: number;
  steps: number;
  curves: number[][];
  auc: number[];
}
interface MethodReference {
  road: RoadReference;
  confidence: ConfidenceReference;
  deletion: CurveReference;
  insertion: CurveReference;
  road_logit_25_50_75?: RoadReference;
  confidence_logit?: ConfidenceReference;
  imputed_image0_morf50_nchw?: number[][][];
}
const reference: {
  classes: number[];
  percentiles: number[];
  methods: Record<string, MethodReference>;
  similarity_gradcam_vs_saliency: { spearman: number[]; ssim: number[]; top_k_intersection: number[] };
  blur_kernel_line: number[];
} = JSON.parse(readFileSync(path.join(fixtures, 'reference.json'), 'utf8'));
const explainReference: { models: { tiny_gap: { maps: Record<string, number[][][]> } } } = JSON.parse(
  readFileSync(path.join(explainFixtures, 'reference.json'), 'utf8'),
);

const TOLERANCE = 1e-4;

function close(actual: readonly number[], expected: readonly number[], what: string, tolerance = TOLERANCE): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) =>
    assert.ok(
      Math.abs(v - expected[i]) <= tolerance,
      `${what}[${i}]: ${v} vs ${expected[i]} (diff ${Math.abs(v - expected[i]).toExponential(2)})`,
    ),
  );
}

function agreesWithRoad(result: RoadResult, expected: RoadReference): void {
  close(result.morf, expected.morf, 'morf');
  close(result.lerf, expected.lerf, 'lerf');
  close(result.combined, expected.combined, 'combined');
  result.morfByPercentile.forEach((row, b) => close(row, expected.morf_by_percentile[b], `morf image ${b}`));
  result.lerfByPercentile.forEach((row, b) => close(row, expected.lerf_by_percentile[b], `lerf image ${b}`));
}

const fixture = fixtureModel(path.join(explainFixtures, 'tiny_gap.onnx'), path.join(explainFixtures, 'tiny_gap_input.npy'));

const mapsOf = (method: string) => tf.tensor3d(explainReference.models.tiny_gap.maps[method].flat(2), [2, 32, 32]);

describe('ROAD imputation (pytorch-grad-cam NoisyLinearImputer, noise 0)', () => {
  test('the imputed image equals the reference (most relevant first, 50th percentile, Grad-CAM, image 0)', () => {
    const expected = reference.methods.gradcam.imputed_image0_morf50_nchw!;
    const image = (tf.tidy(() => tf.slice(fixture.input, 0, 1)).dataSync() as Float32Array).slice();
    const map = Float32Array.from(explainReference.models.tiny_gap.maps.gradcam[0].flat());
    const keep = keptPixels(map, 50);
    const kept = keep.reduce((s, v) => s + v, 0);
    assert.ok(kept > 500 && kept <= 512, `about half the pixels kept: ${kept}`);
    const imputed = noisyLinearImpute(image, keep, 32, 32, 3, 0, () => 0);
    let worst = 0;
    for (let c = 0; c < 3; c++)
      for (let r = 0; r < 32; r++)
        for (let k = 0; k < 32; k++) worst = Math.max(worst, Math.abs(imputed[(r * 32 + k) * 3 + c] - expected[c][r][k]));
    assert.ok(worst <= 2e-6, `max |diff| ${worst}`);
  });

  test('noise adds the given standard deviation to imputed pixels only', () => {
    const image = new Float32Array(16 * 16).fill(0.5);
    const keep = new Uint8Array(256).fill(1);
    for (let p = 0; p < 128; p++) keep[p * 2] = 0;
    let state = 0;
    const normal = () => [1, -1][state++ % 2];
    const imputed = noisyLinearImpute(image, keep, 16, 16, 1, 0.01, normal);
    for (let p = 0; p < 256; p++) assert.ok(Math.abs(imputed[p] - (keep[p] ? 0.5 : 0.5 + (imputed[p] > 0.5 ? 0.01 : -0.01))) < 1e-6);
  });
});

for (const method of ['gradcam', 'saliency']) {
  describe(`metrics of the ${method} maps agree with the PyTorch reference`, () => {
    const ref = reference.methods[method];
    test('ROAD most/least relevant first averaged over 10…90, and combined (probability, noise 0)', async () => {
      const maps = mapsOf(method);
      try {
        const result = await road(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes, {
          noise: 0,
          batchSize: 7,
        });
        agreesWithRoad(result, ref.road);
      } finally {
        maps.dispose();
      }
    });

    test('the same ROAD with the imputations on a worker thread (images handed over as they are made)', async () => {
      const maps = mapsOf(method);
      setImputationThread(imputeOnThread, 0);
      try {
        const result = await road(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes, {
          noise: 0,
          batchSize: 3,
        });
        agreesWithRoad(result, ref.road);
      } finally {
        setImputationThread(undefined);
        maps.dispose();
      }
    });

    if (ref.road_logit_25_50_75) {
      test('ROAD on the logit at percentiles 25, 50, 75', async () => {
        const maps = mapsOf(method);
        try {
          const result = await road(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes, {
            noise: 0,
            percentiles: [25, 50, 75],
            score: 'logit',
          });
          const expected = ref.road_logit_25_50_75!;
          close(result.morf, expected.morf, 'morf');
          close(result.lerf, expected.lerf, 'lerf');
          close(result.combined, expected.combined, 'combined');
          result.morfByPercentile.forEach((row, b) => close(row, expected.morf_by_percentile[b], `morf image ${b}`));
          result.lerfByPercentile.forEach((row, b) => close(row, expected.lerf_by_percentile[b], `lerf image ${b}`));
        } finally {
          maps.dispose();
        }
      });
    }

    test('confidence change, average drop and increase in confidence', async () => {
      const maps = mapsOf(method);
      try {
        const result = await confidenceChange(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes);
        close(result.before, ref.confidence.before, 'before');
        close(result.after, ref.confidence.after, 'after');
        close(result.change, ref.confidence.change, 'change');
        close(result.drop, ref.confidence.drop, 'drop (%)');
        close([result.averageDrop], [ref.confidence.average_drop], 'average drop (%)');
        assert.equal(result.increaseInConfidence, ref.confidence.increase_in_confidence);
        if (ref.confidence_logit) {
          const logit = await confidenceChange(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes, {
            score: 'logit',
          });
          close(logit.change, ref.confidence_logit.change, 'logit change');
        }
      } finally {
        maps.dispose();
      }
    });

    for (const kind of ['deletion', 'insertion'] as const) {
      test(`${kind} curve and its trapezoid AUC (RISE, one row of pixels per step)`, async () => {
        const maps = mapsOf(method);
        try {
          const result = await deletionInsertion(fixture.model, fixture.model.inputs[0].id, kind, fixture.input, maps, reference.classes, {
            batchSize: 10,
          });
          assert.equal(result.pixelsPerStep, ref[kind].step);
          result.curves.forEach((curve, b) => close(curve, ref[kind].curves[b], `${kind} curve image ${b}`));
          close(result.auc, ref[kind].auc, `${kind} AUC`);
        } finally {
          maps.dispose();
        }
      });
    }
  });
}

test('the blur kernel is RISE gkern(11, 5)', () => {
  const kernel = riseBlurKernel();
  const line = reference.blur_kernel_line;
  for (let r = 0; r < 11; r++) for (let c = 0; c < 11; c++) assert.ok(Math.abs(kernel[r * 11 + c] - line[r] * line[c]) < 1e-12);
  assert.ok(Math.abs(kernel.reduce((s, v) => s + v, 0) - 1) < 1e-12);
});

test('map similarities (Spearman of |values|, SSIM, top-10% intersection) agree with the reference', () => {
  const maps = explainReference.models.tiny_gap.maps;
  const expected = reference.similarity_gradcam_vs_saliency;
  for (let b = 0; b < 2; b++) {
    const a = Float32Array.from(maps.gradcam[b].flat());
    const s = Float32Array.from(maps.saliency[b].flat());
    close([spearman(a, s)], [expected.spearman[b]], `spearman ${b}`, 1e-6);
    close([ssim(a, s, 32, 32)], [expected.ssim[b]], `ssim ${b}`, 1e-6);
    close([topKIntersection(a, s)], [expected.top_k_intersection[b]], `top-k ${b}`, 1e-9);
    close([spearman(a, a), ssim(a, a, 32, 32), topKIntersection(a, a)], [1, 1, 1], 'identical maps', 1e-9);
  }
});

test('the metrics free every tensor', async () => {
  const maps = mapsOf('gradcam');
  try {
    await assertNoTensorLeak(async () => {
      await road(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes, {
        percentiles: [50],
        noise: 0.01,
        seed: 3,
      });
      await confidenceChange(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes);
      await deletionInsertion(fixture.model, fixture.model.inputs[0].id, 'insertion', fixture.input, maps, reference.classes, {
        pixelsPerStep: 256,
      });
      await deletionInsertion(fixture.model, fixture.model.inputs[0].id, 'deletion', fixture.input, maps, reference.classes, {
        pixelsPerStep: 256,
        baseline: 'blur',
      });
    });
  } finally {
    maps.dispose();
  }
});

test('ROAD reports progress per batch of imputations and of images, and can be cancelled', async () => {
  const maps = mapsOf('gradcam');
  const token = { cancelled: false };
  const seen: number[] = [];
  try {
    await assert.rejects(
      road(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes, {
        batchSize: 4,
        progress: {
          token,
          report: (done, total) => {
            seen.push(done);
            assert.equal(total, 2 * (4 * 9 + 1), 'per image: 18 imputations and 19 images scored');
            token.cancelled = done > 18;
          },
        },
      }),
      { name: 'ExplanationCancelled' },
    );
    // 2 imputed to go with the 2 unperturbed images, those 4 scored, then 4 imputed and 4 scored in turn,
    // until a report past 18.
    assert.deepEqual(seen, [2, 6, 10, 14, 18, 22]);
  } finally {
    maps.dispose();
  }
});

test('randomising an ONNX model replaces the weights its nodes read, and restores them', async () => {
  const { cascadingRandomisation, layersWithWeights } = await import('../../src/engine/metrics');
  const { runGraph } = await import('../../src/engine/execute');
  const logits = () => runGraph(fixture.model, new Map([[fixture.model.inputs[0].id, fixture.input]]), [fixture.model.outputs[0]])[0];
  const before = logits();
  const result = await cascadingRandomisation(
    fixture.model,
    fixture.input,
    { gradcam: async () => (await explain(fixture.model, fixture.input, { method: 'gradcam', classIndex: reference.classes })).maps },
    { seed: 4 },
  );
  const after = logits();
  try {
    assert.ok(result.layers.length >= 4, `layers with weights: ${result.layers.join(', ')}`);
    assert.deepEqual(result.layers, layersWithWeights(fixture.model));
    assert.deepEqual(result.unchanged, []);
    assert.equal(
      tf.tidy(() => tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]),
      0,
    );
  } finally {
    tf.dispose([before, after]);
  }
});

test('ROAD noise (0.01 by default) is seeded: repeatable, and a small change from noise 0', async () => {
  const maps = mapsOf('gradcam');
  try {
    const options = { percentiles: [30, 70], score: 'logit' as const, seed: 7 };
    const first = await road(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes, options);
    const second = await road(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes, options);
    const quiet = await road(fixture.model, fixture.model.inputs[0].id, fixture.input, maps, reference.classes, { ...options, noise: 0 });
    assert.deepEqual(first, second);
    assert.notDeepEqual(first.morf, quiet.morf);
    close(first.morf, quiet.morf, 'noisy vs noise 0', 0.1);
  } finally {
    maps.dispose();
  }
});
