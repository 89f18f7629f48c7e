/**
 * The randomisation sanity check reproduces Adebayo et al.'s qualitative result on the trained sample
 * model (sample/fashion-mnist-cnn): under cascading randomisation from the classifier down, gradient
 * saliency and Grad-CAM maps lose their rank correlation with the original maps, guided backprop keeps
 * much more of it. Also: the weights are restored afterwards, every randomised layer changes the output,
 * nothing leaks, and the random-logit test.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { explain } from '../../src/engine/explain';
import type { Method } from '../../src/engine/explain/methods';
import type { RunnableModel } from '../../src/engine/graph';
import { runGraph, singleInput } from '../../src/engine/execute';
import { cascadingRandomisation, layersWithWeights, randomLogit } from '../../src/engine/metrics';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { fashionMnistTest, skipWithoutFashionMnist } from '../support/fashionMnist';
import { repoRoot } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

const sampleModel = path.join(repoRoot, 'sample', 'fashion-mnist-cnn', 'model.json');
const IMAGES = 8;

let model: RunnableModel;
let input: tf.Tensor4D;
let classes: number[];

before(async () => {
  await useNodeBackend();
  model = await loadModel(fileModelSource(sampleModel));
  if (skipWithoutFashionMnist) return;
  const { images, labels } = fashionMnistTest(IMAGES);
  // The model rescales inside (a Rescaling layer): it takes grey values 0–255, [n, 28, 28, 1].
  input = tf.tensor4d(Float32Array.from(images.flatMap((image) => Array.from({ length: 784 }, (_, p) => image.data[p * 4]))), [
    IMAGES,
    28,
    28,
    1,
  ]);
  classes = labels;
});
after(() => {
  input?.dispose();
  model?.dispose();
});

const mapOf = (method: Method, which?: number[]) => async () =>
  (await explain(model, input, { method, classIndex: which ?? classes })).maps;
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

test(
  'cascading randomisation: saliency and Grad-CAM change, guided backprop far less (Adebayo et al.)',
  { skip: skipWithoutFashionMnist },
  async () => {
    const before = runGraph(model, singleInput(model, input), [model.outputs[0]])[0];
    const result = await cascadingRandomisation(
      model,
      input,
      { saliency: mapOf('saliency'), gradcam: mapOf('gradcam'), guided: mapOf('guided') },
      { seed: 1 },
    );
    const afterwards = runGraph(model, singleInput(model, input), [model.outputs[0]])[0];
    const restored = tf.tidy(() => tf.max(tf.abs(tf.sub(before, afterwards))).dataSync()[0]);
    tf.dispose([before, afterwards]);
    assert.equal(restored, 0, 'the weights are restored');
    assert.deepEqual(result.layers, layersWithWeights(model));
    assert.deepEqual(result.layers, ['predictions', 'conv3', 'conv2', 'conv1']);
    assert.deepEqual(result.unchanged, [], 'every randomised layer changes the output');
    const bottom = (name: string) => mean(result.methods[name].steps.at(-1)!.spearman);
    assert.ok(bottom('saliency') < 0.4, `saliency: mean Spearman ${bottom('saliency')} after randomising every layer`);
    assert.ok(bottom('gradcam') < 0.4, `gradcam: ${bottom('gradcam')}`);
    // Adebayo et al.'s finding: guided backprop stays close to the original while the top layers are
    // randomised (it mostly reflects the input), where saliency and Grad-CAM already lost most of it.
    const top = (name: string) => mean(result.methods[name].steps.slice(0, 2).flatMap((s) => s.spearman));
    assert.ok(top('guided') > 0.6, `guided, top two layers randomised: ${top('guided')}`);
    assert.ok(
      top('guided') > top('saliency') + 0.2 && top('guided') > top('gradcam') + 0.2,
      `top layers: guided ${top('guided')}, saliency ${top('saliency')}, gradcam ${top('gradcam')}`,
    );
  },
);

test('randomisation frees every tensor and is repeatable for a seed', { skip: skipWithoutFashionMnist }, async () => {
  const run = () => cascadingRandomisation(model, input, { saliency: mapOf('saliency') }, { seed: 5, layers: ['predictions', 'conv3'] });
  const first = await assertNoTensorLeak(run);
  const second = await run();
  assert.deepEqual(first.methods.saliency.steps, second.methods.saliency.steps);
});

test('random-logit test: another class gives a different Grad-CAM map', { skip: skipWithoutFashionMnist }, async () => {
  const result = await randomLogit(
    input,
    classes,
    10,
    async (which) => (await explain(model, input, { method: 'gradcam', classIndex: which })).maps,
    { seed: 2 },
  );
  result.otherClasses.forEach((c, b) => assert.notEqual(c, classes[b]));
  assert.ok(mean(result.spearman) < 0.9);
});

test('cancelling the randomisation mid-way restores the weights', { skip: skipWithoutFashionMnist }, async () => {
  const logits = () => runGraph(model, singleInput(model, input), [model.outputs[0]])[0];
  const before = logits();
  const token = { cancelled: false };
  await assert.rejects(
    cascadingRandomisation(
      model,
      input,
      { gradcam: mapOf('gradcam') },
      { seed: 3, progress: { token, report: (done) => (token.cancelled = done >= 2) } },
    ),
    { name: 'ExplanationCancelled' },
  );
  const afterwards = logits();
  const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(before, afterwards))).dataSync()[0]);
  tf.dispose([before, afterwards]);
  assert.equal(difference, 0);
});
