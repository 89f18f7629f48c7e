/**
 * The regions the explain tool names: connected areas at or above half the map's maximum, strongest
 * first, with boxes, peaks and shares that add up with the rest of the map to the whole.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evidenceRegions, placeName } from '../../src/languageModelTools/evidenceRegions';

/** A width × height map of zeros with the given values set at [x, y]. */
function mapWith(width: number, height: number, values: [number, number, number][]): Float32Array {
  const map = new Float32Array(width * height);
  for (const [x, y, v] of values) map[y * width + x] = v;
  return map;
}

test('two blobs: the one holding the maximum comes first, even when the other holds more of the map', () => {
  // A sharp peak of 1.0 at (1, 1), and a broad block of 0.6 at x 6–8, y 5–7 (nine pixels, 5.4 in all).
  const block: [number, number, number][] = [];
  for (let y = 5; y <= 7; y++) for (let x = 6; x <= 8; x++) block.push([x, y, 0.6]);
  const map = mapWith(10, 10, [[1, 1, 1], [0, 0, 0.2], ...block]);
  const regions = evidenceRegions(map, 10, 10);
  assert.equal(regions.length, 2);
  const [first, second] = regions;
  assert.deepEqual([first.x0, first.y0, first.x1, first.y1, first.peakX, first.peakY, first.peak], [1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual([second.x0, second.y0, second.x1, second.y1], [6, 5, 8, 7]);
  const total = 1 + 0.2 + 5.4;
  assert.ok(Math.abs(first.share - 1 / total) < 1e-6);
  assert.ok(Math.abs(second.share - 5.4 / total) < 1e-6);
  assert.equal(second.area, 9 / 100);
  // The 0.2 pixel is below half the maximum: it is the rest of the map, in no region.
  assert.ok(Math.abs(1 - first.share - second.share - 0.2 / total) < 1e-6);
});

test('diagonal neighbours join one region; values just under half the maximum do not', () => {
  const map = mapWith(5, 5, [
    [0, 0, 1],
    [1, 1, 0.5],
    [2, 2, 0.5],
    [4, 4, 0.49],
  ]);
  const regions = evidenceRegions(map, 5, 5);
  assert.equal(regions.length, 1);
  assert.deepEqual([regions[0].x0, regions[0].y0, regions[0].x1, regions[0].y1], [0, 0, 2, 2]);
});

test('a map of zeros has no regions', () => {
  assert.deepEqual(evidenceRegions(new Float32Array(16), 4, 4), []);
});

test('places name the thirds of the picture', () => {
  assert.equal(placeName(10, 10, 300, 300), 'upper left');
  assert.equal(placeName(150, 150, 300, 300), 'centre');
  assert.equal(placeName(290, 150, 300, 300), 'middle right');
  assert.equal(placeName(150, 299, 300, 300), 'lower centre');
});
