/**
 * One image's concepts drawn as pytorch-grad-cam's show_factorization_on_image draws them: the strongest
 * concept's colour at each pixel, its HSV value set to that concept's heatmap, blended half and half with
 * the image; ties go to the first concept, as numpy's argmax.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conceptOverlay, conceptRgb } from '../../src/engine/render/conceptOverlay';

const grey = (width: number, height: number, level: number) => ({
  width,
  height,
  data: Uint8Array.from({ length: width * height * 4 }, (_, i) => (i % 4 === 3 ? 255 : level)),
});

test('each pixel shows its strongest concept, as bright as its heatmap, over half the image', () => {
  // Three pixels, two concepts: concept 0 wins at pixel 0 (0.8 vs 0.2), concept 1 at pixel 1 (0.3 vs 1),
  // and pixel 2 is a tie at 0.5, which goes to concept 0.
  const heatmaps = Float32Array.from([0.8, 0.3, 0.5, 0.2, 1, 0.5]);
  const picture = conceptOverlay(grey(3, 1, 100), heatmaps, 2);
  const full = (concept: number) => {
    const colour = conceptRgb(concept, 2);
    return colour.map((c) => (c * 255) / Math.max(...colour));
  };
  const expected = [
    [0, 0.8],
    [1, 1],
    [0, 0.5],
  ].flatMap(([concept, value]) => [...full(concept).map((c) => Math.round(0.5 * 100 + 0.5 * c * value)), 255]);
  assert.deepEqual([...picture.data], expected);
  // The colour's brightest channel reaches 255 × value: HSV's value is the heatmap's.
  assert.equal(Math.max(...full(1)), 255);
});

test('where every heatmap is 0 the picture is the image at half brightness; concepts get distinct hues', () => {
  const picture = conceptOverlay(grey(2, 2, 200), new Float32Array(3 * 4), 3);
  assert.deepEqual(
    [...picture.data].filter((_, i) => i % 4 !== 3),
    Array(12).fill(100),
  );
  const hues = new Set([0, 1, 2, 3, 4].map((j) => conceptRgb(j, 5).join(',')));
  assert.equal(hues.size, 5);
});

test('heatmaps of the wrong size are refused in a sentence', () => {
  assert.throws(() => conceptOverlay(grey(2, 2, 0), new Float32Array(5), 2), /2 heatmaps of 2×2 need 8 values, not 5/);
});
