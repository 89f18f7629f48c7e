/**
 * The refined object masks against the threshold-only baseline on the committed evaluation set
 * (test/fixtures/segmentation: Fashion-MNIST test images, whose object is every non-black pixel, and
 * photos with hand-drawn masks, each with four methods' maps): on each set, the refined mean IoU must
 * be at least the baseline's. A change that makes the refinement worse than thresholding fails here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, evaluationCases, type SetName } from '../fixtures/segmentation/evaluationSet';

const scores = evaluate(evaluationCases());

for (const set of ['Fashion-MNIST', 'photos'] as SetName[]) {
  test(`${set}: the refined masks' mean IoU is at least the threshold-only masks'`, () => {
    const of = scores.filter((s) => s.set === set);
    assert.equal(of.length, 4, 'four methods');
    const mean = (key: 'baseline' | 'refined') => of.reduce((sum, s) => sum + s[key], 0) / of.length;
    const detail = of.map((s) => `${s.method} ${s.baseline.toFixed(3)} → ${s.refined.toFixed(3)}`).join(', ');
    assert.ok(mean('refined') >= mean('baseline'), `mean IoU ${mean('baseline').toFixed(3)} → ${mean('refined').toFixed(3)} (${detail})`);
  });
}

test('every method gains on the Fashion-MNIST set, where the object is known to the pixel', () => {
  for (const s of scores.filter((score) => score.set === 'Fashion-MNIST'))
    assert.ok(s.refined >= s.baseline, `${s.method}: ${s.baseline.toFixed(3)} → ${s.refined.toFixed(3)}`);
});
