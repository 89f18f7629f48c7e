/**
 * "Check this explanation" and the method report compute the same metrics as the engine's own
 * functions (which are checked against PyTorch in metrics*.test.ts), restore the model, free their
 * tensors, and stop when cancelled. And the randomisation strip reproduces Adebayo et al.'s qualitative
 * result on a trained ImageNet network (the shared SqueezeNet 1.0, a torchvision-family architecture):
 * gradient saliency and Grad-CAM maps change under cascading randomisation, guided backprop far less.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { explain } from '../../src/engine/explain';
import type { Method } from '../../src/engine/explain/methods';
import { runGraph, singleInput } from '../../src/engine/execute';
import {
  bestReportRows,
  cascadingRandomisation,
  checkExplanation,
  folderFaithfulness,
  layersWithWeights,
  methodReport,
  QUICK_PERCENTILES,
  REPORT_COLUMNS,
  stripSteps,
  type MethodReportRow,
} from '../../src/engine/metrics';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { imageToInput } from '../../src/engine/preprocess';
import { fileModelSource } from '../../src/node/fileModelSource';
import { readImageFile } from '../../src/node/imageFile';
import { useNodeBackend } from '../../src/node/tfBackend';
import { fashionMnistTest, skipWithoutFashionMnist } from '../support/fashionMnist';
import { needsShared, sampleModel, shared, sharedModels } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

before(() => useNodeBackend());

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

test('the strip spreads its steps over the cascade and always ends with every layer randomised', () => {
  assert.deepEqual(stripSteps(4), [1, 2, 3, 4]);
  assert.deepEqual(stripSteps(26), [4, 9, 13, 17, 22, 26]);
  assert.deepEqual(stripSteps(7, 6), [1, 2, 4, 5, 6, 7]);
  for (const n of [6, 7, 12, 50]) assert.equal(stripSteps(n).at(-1), n);
});

test('the report marks the most faithful row per column, none where every method scores the same', () => {
  const row = (method: Method, deletion: number, increase: number): MethodReportRow => {
    const summary = Object.fromEntries(
      REPORT_COLUMNS.map(({ key }) => [key, { mean: NaN, standardError: NaN }]),
    ) as MethodReportRow['summary'];
    summary.deletionAuc = { mean: deletion, standardError: NaN };
    summary.increaseInConfidence = { mean: increase, standardError: NaN };
    return { method, maps: [], values: {} as MethodReportRow['values'], summary };
  };
  const best = bestReportRows([row('gradcam', 0.3, 0), row('saliency', 0.1, 0), row('guided', 0.2, 0)]);
  assert.equal(best.deletionAuc, 1, 'lower deletion AUC is more faithful');
  assert.equal(best.increaseInConfidence, -1);
  assert.equal(best.roadCombined, -1);
});

describe('on the trained sample model', { skip: skipWithoutFashionMnist }, () => {
  let opened: OpenedModel;
  let input: tf.Tensor4D;
  let classes: number[];
  before(async () => {
    opened = await openModel(fileModelSource(sampleModel));
    const { images, labels } = fashionMnistTest(2);
    input = tf.concat(images.map((image) => imageToInput(image, opened.input.preprocessing))) as tf.Tensor4D;
    classes = labels;
  });
  after(() => {
    input?.dispose();
    opened?.model.dispose();
  });
  const logits = () => {
    const [out] = runGraph(opened.model, singleInput(opened.model, input), [opened.model.outputs[0]]);
    const values = out.dataSync().slice();
    out.dispose();
    return values;
  };

  test('a check of one Grad-CAM map: its curves, ROAD and confidence are the engine’s, and a strip of every layer', async () => {
    const before = logits();
    const image = tf.slice(input, 0, 1) as tf.Tensor4D;
    try {
      const check = await assertNoTensorLeak(() =>
        checkExplanation(opened.model, image, { method: 'gradcam', classIndex: classes[0] }, { seed: 1 }),
      );
      assert.deepEqual(logits(), before, 'the weights are restored');
      // The same numbers as folderFaithfulness on the same image, method, class and seed.
      const [reference] = await folderFaithfulness(opened.model, image, ['gradcam'], {
        classes: [classes[0]],
        percentiles: QUICK_PERCENTILES,
        seed: 1,
      });
      assert.equal(check.road.combined, reference.values.roadCombined[0]);
      assert.equal(check.road.morf, reference.values.roadMorf[0]);
      assert.equal(check.deletion.auc, reference.values.deletionAuc[0]);
      assert.equal(check.insertion.auc, reference.values.insertionAuc[0]);
      assert.equal(check.confidence.drop, reference.values.averageDrop[0]);
      // 28 rows of pixels a step: 29 points; deletion starts at the image's probability, insertion ends there.
      assert.equal(check.deletion.curve.length, 29);
      assert.ok(Math.abs(check.deletion.curve[0] - check.confidence.before) < 1e-5);
      assert.ok(Math.abs(check.insertion.curve.at(-1)! - check.confidence.before) < 1e-5);
      assert.equal(check.map.length, 28 * 28);
      assert.deepEqual(check.layers, ['predictions', 'conv3', 'conv2', 'conv1']);
      assert.deepEqual(
        check.strip.map((s) => [s.randomised, s.layer]),
        [
          [1, 'predictions'],
          [2, 'conv3'],
          [3, 'conv2'],
          [4, 'conv1'],
        ],
      );
      assert.deepEqual(check.unchanged, []);
      // The strip is the cascade's: the same Spearman as cascadingRandomisation with the same seed.
      const direct = await cascadingRandomisation(
        opened.model,
        image,
        { gradcam: async () => (await explain(opened.model, image, { method: 'gradcam', classIndex: [classes[0]] })).maps },
        { seed: 1 },
      );
      assert.deepEqual(
        check.strip.map((s) => s.spearman),
        direct.methods.gradcam.steps.map((s) => s.spearman[0]),
      );
      for (const step of check.strip) assert.equal(step.map.length, 28 * 28);
      assert.ok(check.strip.at(-1)!.spearman < 0.5, `Grad-CAM keeps ${check.strip.at(-1)!.spearman} of its ranks`);
    } finally {
      image.dispose();
    }
  });

  test('cancelling a check stops it and leaves the weights as they were', async () => {
    const before = logits();
    const image = tf.slice(input, 0, 1) as tf.Tensor4D;
    const token = { cancelled: false };
    try {
      await assert.rejects(
        checkExplanation(
          opened.model,
          image,
          { method: 'saliency', classIndex: classes[0] },
          { progress: { token, report: (done) => (token.cancelled = done >= 80) } },
        ),
        { name: 'ExplanationCancelled' },
      );
    } finally {
      image.dispose();
    }
    assert.deepEqual(logits(), before);
  });

  test('the method report: one row per method with its maps, the metrics and the randomised Spearman', async () => {
    const methods: Method[] = ['gradcam', 'saliency', 'guided'];
    const before = logits();
    const { rows, failed } = await assertNoTensorLeak(() => methodReport(opened.model, input, classes, methods, { seed: 2 }));
    assert.deepEqual(failed, []);
    assert.deepEqual(logits(), before);
    assert.deepEqual(
      rows.map((r) => r.method),
      methods,
    );
    const faithfulness = await folderFaithfulness(opened.model, input, methods, { classes, percentiles: QUICK_PERCENTILES, seed: 2 });
    const randomised = await cascadingRandomisation(
      opened.model,
      input,
      Object.fromEntries(
        methods.map((m) => [m, async () => (await explain(opened.model, input, { method: m, classIndex: classes })).maps]),
      ),
      { seed: 2, measureAfter: [layersWithWeights(opened.model).length] },
    );
    rows.forEach((row, i) => {
      assert.equal(row.maps.length, 2);
      assert.equal(row.maps[0].length, 28 * 28);
      assert.deepEqual(row.values.deletionAuc, faithfulness[i].values.deletionAuc);
      assert.deepEqual(row.values.roadCombined, faithfulness[i].values.roadCombined);
      assert.deepEqual(row.values.randomisedSpearman, randomised.methods[row.method].steps[0].spearman);
      assert.equal(row.summary.randomisedSpearman.mean, mean(row.values.randomisedSpearman));
    });
    const best = bestReportRows(rows);
    assert.deepEqual(Object.keys(best).sort(), REPORT_COLUMNS.map((c) => c.key).sort());
    const spearmans = rows.map((r) => r.summary.randomisedSpearman.mean);
    assert.equal(best.randomisedSpearman, spearmans.indexOf(Math.min(...spearmans)));
    assert.ok(spearmans[2] > spearmans[1], `guided backprop keeps more of its ranks than saliency: ${spearmans}`);
  });
});

const SQUEEZENET = 'onnx-squeezenet1.0-fp16-imagenet/SqueezeNet_fp16.onnx';
/** ImageNet photos (scikit-image's data): a cat, an espresso, an astronaut, a rocket. */
const PHOTOS = ['chelsea.png', 'coffee.png', 'astronaut.png', 'rocket.jpg'];
const photo = (name: string) => path.join(sharedModels, '..', 'images', name);

describe('Adebayo et al. on the ImageNet-trained SqueezeNet 1.0', needsShared(SQUEEZENET), () => {
  let opened: OpenedModel;
  before(async () => {
    opened = await openModel(fileModelSource(shared(SQUEEZENET)));
  });
  after(() => opened?.model.dispose());

  test('cascading randomisation: saliency and Grad-CAM lose their ranks, guided backprop keeps far more', async () => {
    const layers = layersWithWeights(opened.model);
    const steps = stripSteps(layers.length);
    const curves: Record<string, number[]> = {};
    for (const name of PHOTOS) {
      const image = imageToInput(await readImageFile(photo(name)), opened.input.preprocessing);
      try {
        const mapOf = (method: Method) => async () => (await explain(opened.model, image, { method })).maps;
        const result = await cascadingRandomisation(
          opened.model,
          image,
          { saliency: mapOf('saliency'), gradcam: mapOf('gradcam'), guided: mapOf('guided') },
          { seed: 1, measureAfter: steps },
        );
        assert.deepEqual(result.randomised, steps);
        assert.deepEqual(result.unchanged, []);
        const spearman = (method: string) => result.methods[method].steps.map((s) => s.spearman[0]);
        for (const method of ['saliency', 'gradcam', 'guided']) curves[`${name} ${method}`] = spearman(method);
      } finally {
        image.dispose();
      }
    }
    console.log(`SqueezeNet layers randomised at each step: ${steps.join(', ')} of ${layers.length}`);
    for (const [key, values] of Object.entries(curves)) console.log(`${key}: ${values.map((v) => v.toFixed(3)).join(' ')}`);
    // Averaged over the photos: one map's Spearman is noisy (a centred object keeps a centred Grad-CAM
    // blob a fair rank correlation), the gap between the methods is not.
    const average = (method: string, step: (curve: number[]) => number) => mean(PHOTOS.map((name) => step(curves[`${name} ${method}`])));
    const last = (method: string) => average(method, (curve) => curve.at(-1)!);
    const overall = (method: string) => average(method, mean);
    console.log(`mean at the last step: ${['saliency', 'gradcam', 'guided'].map((m) => `${m} ${last(m).toFixed(3)}`).join(', ')}`);
    assert.ok(last('saliency') < 0.45, `saliency keeps ${last('saliency')}`);
    assert.ok(last('gradcam') < 0.45, `Grad-CAM keeps ${last('gradcam')}`);
    assert.ok(last('guided') > last('saliency') + 0.2, `guided ${last('guided')}, saliency ${last('saliency')}`);
    assert.ok(last('guided') > last('gradcam') + 0.2, `guided ${last('guided')}, Grad-CAM ${last('gradcam')}`);
    // Along the whole cascade too, not just at its end.
    assert.ok(overall('guided') > overall('saliency') + 0.2 && overall('guided') > overall('gradcam') + 0.2);
  });
});
