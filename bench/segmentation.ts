/**
 * Saliency → segmentation against hand-made and dataset masks (test/fixtures/segmentation): the mean
 * intersection over union of the threshold-only baseline and of the refined (GrabCut) mask, per set and
 * explanation method, computed in the same run from the committed maps, with the time per refined mask.
 *   npm run bench -- segmentation
 */
import { evaluate, evaluationCases, FASHION_OBJECT_LEVEL } from '../test/fixtures/segmentation/evaluationSet';
import { table } from './timing';

export function benchSegmentation(): string {
  const scores = evaluate(evaluationCases());
  const rows = scores.map((s) => [s.set, s.method, s.cases, s.baseline.toFixed(3), s.refined.toFixed(3), s.refinedMs.toFixed(0)]);
  for (const set of ['Fashion-MNIST', 'photos'] as const) {
    const of = scores.filter((s) => s.set === set);
    const mean = (key: 'baseline' | 'refined') => (of.reduce((sum, s) => sum + s[key], 0) / of.length).toFixed(3);
    rows.push([set, 'all four', of.reduce((n, s) => n + s.cases, 0), mean('baseline'), mean('refined'), '']);
  }
  const note =
    `\nFashion-MNIST: the first 60 test images, the object = pixels above ${FASHION_OBJECT_LEVEL} of 255, maps of the sample model's top class. ` +
    "Photos: sample/photos with hand-drawn masks, SqueezeNet 1.0's maps of its top class.";
  return table(['set', 'method', 'images', 'IoU threshold-only', 'IoU refined', 'ms / refined mask'], rows) + note;
}
