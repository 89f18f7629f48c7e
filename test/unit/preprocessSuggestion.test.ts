/**
 * When a photo's predictions look uncertain, ConvLens tries the common preprocessings and suggests one
 * that makes the model confident about the photo. On the shared ImageNet SqueezeNet, a wrong setting
 * (torch mean/std, RGB) is answered with the model's own default (caffe) and a cat class; the right
 * setting gets no suggestion; and a small digit model whose confidence only comes from saturating its
 * input (raw 0–255 pixels) gets none either.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { predictCommand } from '../../src/cli/predictCommand';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import type { Prediction } from '../../src/engine/predictions';
import type { Preprocessing } from '../../src/engine/preprocess';
import {
  candidatePreprocessings,
  chooseSuggestion,
  CONFIDENT_FROM,
  suggestPreprocessing,
  tryPreprocessings,
  type CandidateOutcome,
} from '../../src/engine/preprocessSuggestion';
import { fileModelSource } from '../../src/node/fileModelSource';
import { readImageFile } from '../../src/node/imageFile';
import { useNodeBackend } from '../../src/node/tfBackend';
import { needsShared, shared, sharedModels } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';
import path from 'node:path';

before(() => useNodeBackend());

const SQUEEZENET = 'onnx-squeezenet1.0-fp16-imagenet/SqueezeNet_fp16.onnx';
const MNIST = 'keras3-mnist-cnn/model.keras';
/** The shared photos sit beside the shared models. */
const photo = (name: string) => path.join(sharedModels, '..', 'images', name);
/** ImageNet's domestic cats: tabby, tiger cat, Persian, Siamese, Egyptian cat. */
const CAT_CLASSES = [281, 282, 283, 284, 285];

describe('suggesting a preprocessing on the shared SqueezeNet', needsShared(SQUEEZENET), () => {
  let opened: OpenedModel;
  before(async () => {
    opened = await openModel(fileModelSource(shared(SQUEEZENET)));
  });
  after(() => opened?.model.dispose());

  const wrong: Preprocessing = { width: 224, height: 224, scale: 'torch', channels: 'rgb' };

  test('torch mean/std in RGB gets the caffe preprocessing the file asks for, and a cat', async () => {
    const cat = await readImageFile(photo('chelsea.png'));
    const suggestion = await assertNoTensorLeak(() =>
      suggestPreprocessing(opened.model, cat, wrong, { labels: opened.labels?.names, detected: opened.input.detected }),
    );
    assert.ok(suggestion, 'a suggestion');
    assert.deepEqual([suggestion.preprocessing.scale, suggestion.preprocessing.channels], ['caffe', 'bgr']);
    assert.ok(CAT_CLASSES.includes(suggestion.top.index), `a cat, not ${suggestion.top.label}`);
    assert.ok(suggestion.top.probability > 0.6);
    assert.ok(suggestion.current.probability < 0.4, `the wrong setting was unsure (${suggestion.current.probability})`);
  });

  test('the default preprocessing gets no suggestion: it is sure of the cat and the espresso', async () => {
    for (const name of ['chelsea.png', 'coffee.png']) {
      const image = await readImageFile(photo(name));
      assert.equal(
        await suggestPreprocessing(opened.model, image, opened.input.preprocessing, { labels: opened.labels?.names }),
        undefined,
        name,
      );
    }
  });

  test('flat images run only for the candidates confident about the photo, the only ones they are judged for', async () => {
    const cat = await readImageFile(photo('chelsea.png'));
    const outcomes = await tryPreprocessings(opened.model, cat, candidatePreprocessings(wrong));
    for (const o of outcomes)
      assert.equal(
        o.flat?.length,
        o.top.probability >= CONFIDENT_FROM ? 3 : undefined,
        `${o.preprocessing.scale} ${o.preprocessing.channels}`,
      );
    assert.ok(
      outcomes.some((o) => o.flat),
      'caffe scaling is confident about the cat',
    );
  });

  test("the caller's own prediction stands for the current preprocessing", async () => {
    const cat = await readImageFile(photo('chelsea.png'));
    const sure = { index: 285, label: 'Egyptian cat', score: 9, probability: 0.9 };
    assert.equal(await suggestPreprocessing(opened.model, cat, wrong, { currentTop: sure }), undefined);
  });

  test('one forward pass per batch gives the same outcomes as one image per pass', async () => {
    const cat = await readImageFile(photo('chelsea.png'));
    const candidates = candidatePreprocessings(wrong).slice(0, 3);
    const batched = await tryPreprocessings(opened.model, cat, candidates, undefined, 12);
    const single = await tryPreprocessings(opened.model, cat, candidates, undefined, 1);
    assert.deepEqual(
      batched.map((o) => o.top.index),
      single.map((o) => o.top.index),
    );
    batched.forEach((o, i) => assert.ok(Math.abs(o.top.probability - single[i].top.probability) < 1e-3));
  });

  test('convlens predict prints the options that fix it, and nothing when nothing needs fixing', async () => {
    const wrongOptions = await predictCommand(shared(SQUEEZENET), [photo('chelsea.png')], 3, false, { scale: 'torch', channels: 'rgb' });
    assert.match(wrongOptions, /hint: these predictions look uncertain; --scale caffe --channels bgr gives "Egyptian cat" \(67\.\d%\)/);
    const byDefault = await predictCommand(shared(SQUEEZENET), [photo('chelsea.png')], 3, false, {});
    assert.match(byDefault, /^Preprocessing: 224x224, bgr, scale caffe — onnx-caffe2 export: BGR, 0–255, mean-subtracted/);
    assert.doesNotMatch(byDefault, /hint/);
  });
});

test('a digit model confident only because raw pixels saturate it gets no suggestion', needsShared(MNIST), async () => {
  const opened = await openModel(fileModelSource(shared(MNIST)));
  try {
    const cat = await readImageFile(photo('chelsea.png'));
    const outcomes = await tryPreprocessings(opened.model, cat, candidatePreprocessings(opened.input.preprocessing));
    const raw = outcomes.find((o) => o.preprocessing.scale === '0-255')!;
    // The trap: under 0–255 the photo is "confidently" a digit while the default is unsure…
    assert.ok(outcomes[0].top.probability < 0.4 && raw.top.probability > 0.99);
    // …but so is a blank picture, which gives the scaling away.
    assert.ok(raw.flat!.some((blank) => blank.probability > 0.5));
    assert.equal(chooseSuggestion(outcomes), undefined);
  } finally {
    opened.model.dispose();
  }
});

describe('choosing among outcomes', () => {
  const p = (scale: Preprocessing['scale'], channels: Preprocessing['channels'] = 'rgb'): Preprocessing => ({
    width: 8,
    height: 8,
    scale,
    channels,
  });
  const top = (index: number, probability: number): Prediction => ({ index, label: `class ${index}`, score: probability, probability });
  const quiet = [top(0, 0.1), top(0, 0.1), top(0, 0.1)];
  const outcome = (preprocessing: Preprocessing, probability: number, flat = quiet): CandidateOutcome => ({
    preprocessing,
    top: top(1, probability),
    flat,
  });

  test('a sure current preprocessing is left alone', () => {
    assert.equal(chooseSuggestion([outcome(p('0-1'), 0.45), outcome(p('0-255'), 0.99)]), undefined);
  });

  test('an unsure one gets the most confident candidate, or the model’s default when that is confident too', () => {
    const outcomes = [outcome(p('torch'), 0.2), outcome(p('0-255'), 0.92), outcome(p('caffe', 'bgr'), 0.68)];
    assert.equal(chooseSuggestion(outcomes)?.preprocessing.scale, '0-255');
    assert.equal(chooseSuggestion(outcomes, p('caffe', 'bgr'))?.preprocessing.scale, 'caffe');
    // caffe reverses the channels whatever order is named, so a default named "caffe, rgb" is the same one.
    assert.equal(chooseSuggestion(outcomes, p('caffe', 'rgb'))?.preprocessing.scale, 'caffe');
  });

  test('no candidate is suggested below the confidence threshold', () => {
    assert.equal(chooseSuggestion([outcome(p('torch'), 0.2), outcome(p('-1-1'), 0.57)]), undefined);
  });

  test('the candidates: the current first, the common scalings in both channel orders, caffe once', () => {
    const rgb = candidatePreprocessings(p('torch'));
    assert.deepEqual(rgb[0], p('torch'));
    assert.equal(rgb.length, 9);
    assert.equal(rgb.filter((c) => c.scale === 'caffe').length, 1);
    assert.equal(candidatePreprocessings(p('0-1', 'gray')).length, 5);
  });
});
