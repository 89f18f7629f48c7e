/**
 * Saliency → segmentation (engine/segmentation): Otsu's threshold, the refined mask against the
 * threshold-only baseline on a synthetic picture whose object is known, bounds on time and size, and the
 * refusal of maps that are not maps.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RgbaImage } from '../../src/engine/preprocess';
import {
  intersectionOverUnion,
  MAX_SEGMENTATION_PIXELS,
  maskImage,
  maskOutline,
  segmentObject,
  summariseMask,
  type SaliencyMap,
} from '../../src/engine/segmentation';
import { otsuThreshold } from '../../src/engine/segmentation/threshold';
import { seededRandom } from '../../src/engine/dataset/random';

interface Scene {
  image: RgbaImage;
  truth: Uint8Array;
}

/**
 * An orange disc of radius `radius` centred at (cx, cy) on a background of green and blue 8×8 checks with
 * noise: the object differs from the background by its colour and has a sharp edge.
 */
function discScene(width: number, height: number, cx: number, cy: number, radius: number, seed = 7): Scene {
  const next = seededRandom(seed);
  const data = new Uint8Array(width * height * 4);
  const truth = new Uint8Array(width * height);
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const inside = (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
      truth[p] = inside ? 1 : 0;
      const check = (Math.floor(x / 8) + Math.floor(y / 8)) % 2;
      const [r, g, b] = inside ? [230, 140, 40] : check ? [40, 150, 60] : [50, 80, 170];
      data[4 * p] = clamp(r + (next() - 0.5) * 40);
      data[4 * p + 1] = clamp(g + (next() - 0.5) * 40);
      data[4 * p + 2] = clamp(b + (next() - 0.5) * 40);
      data[4 * p + 3] = 255;
    }
  }
  return { image: { width, height, data }, truth };
}

/**
 * What an explanation map of the disc looks like at a coarse layer: a Gaussian bump, offset from the
 * disc's centre by (dx, dy), wider than the disc, at `size`×`size` (stretched over the image).
 */
function blurredMap(scene: Scene, cx: number, cy: number, radius: number, dx: number, dy: number, size: number): SaliencyMap {
  const { width, height } = scene.image;
  const data = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [ix, iy] = [((x + 0.5) * width) / size, ((y + 0.5) * height) / size];
      data[y * size + x] = Math.exp(-((ix - cx - dx) ** 2 + (iy - cy - dy) ** 2) / (2 * (1.2 * radius) ** 2));
    }
  }
  return { width: size, height: size, data };
}

test("Otsu's threshold falls between the two modes of a bimodal map", () => {
  const values = [...Array(500).fill(0.1), ...Array(300).fill(0.8)];
  const t = otsuThreshold(values);
  assert.ok(t > 0.1 && t <= 0.8, `threshold ${t}`);
  const noisy = seededRandom(3);
  const spread = Array.from({ length: 2000 }, (_, i) => (i % 2 ? 0.2 : 0.7) + (noisy() - 0.5) * 0.1);
  const u = otsuThreshold(spread);
  assert.ok(
    spread.every((v, i) => (i % 2 ? v < u : v >= u)),
    `threshold ${u} splits the two clusters`,
  );
});

test('on a disc with a blurred, offset map the refined mask follows the disc and beats the threshold-only mask', () => {
  const [width, height, cx, cy, radius] = [160, 120, 70, 60, 30];
  const scene = discScene(width, height, cx, cy, radius);
  const map = blurredMap(scene, cx, cy, radius, 12, -8, 14);
  const baseline = segmentObject(scene.image, map, { thresholdOnly: true });
  const refined = segmentObject(scene.image, map);
  const baselineIoU = intersectionOverUnion(baseline.mask, scene.truth);
  const refinedIoU = intersectionOverUnion(refined.mask, scene.truth);
  assert.ok(refinedIoU > 0.9, `refined IoU ${refinedIoU.toFixed(3)}`);
  assert.ok(refinedIoU > baselineIoU + 0.1, `refined ${refinedIoU.toFixed(3)} against threshold-only ${baselineIoU.toFixed(3)}`);
  // The summary describes the disc: about π r² of the picture, its box within a few pixels.
  assert.ok(Math.abs(refined.summary.share - (Math.PI * radius * radius) / (width * height)) < 0.02);
  const box = refined.summary.box!;
  for (const [got, want] of [
    [box.left, cx - radius],
    [box.right, cx + radius],
    [box.top, cy - radius],
    [box.bottom, cy + radius],
  ])
    assert.ok(Math.abs(got - want) <= 3, `box ${JSON.stringify(box)}`);
});

test('a map of zeros finds no object; a map that is not in [0, 1] or not the size it says is refused in a sentence', () => {
  const scene = discScene(40, 30, 20, 15, 8);
  const empty = segmentObject(scene.image, { width: 10, height: 10, data: new Float32Array(100) });
  assert.equal(empty.summary.share, 0);
  assert.equal(empty.summary.box, undefined);
  assert.throws(
    () => segmentObject(scene.image, { width: 2, height: 1, data: [0.5, 1.5] }),
    /^Error: the map's values must lie in \[0, 1\] \(found 1\.5\)$/,
  );
  assert.throws(() => segmentObject(scene.image, { width: 2, height: 1, data: [0.5, NaN] }), /must lie in \[0, 1\]/);
  assert.throws(() => segmentObject(scene.image, { width: 3, height: 2, data: [0, 1] }), /the map has 2 values for a 3×2 grid/);
});

test('a 4000×3000 photo is segmented at a reduced size within seconds, and its mask comes back at full size', () => {
  const scene = discScene(4000, 3000, 2000, 1400, 700);
  const map = blurredMap(scene, 2000, 1400, 700, 150, 100, 14);
  const start = performance.now();
  const refined = segmentObject(scene.image, map);
  const seconds = (performance.now() - start) / 1000;
  assert.ok(refined.workingWidth * refined.workingHeight <= MAX_SEGMENTATION_PIXELS);
  assert.equal(refined.mask.length, 4000 * 3000);
  assert.ok(intersectionOverUnion(refined.mask, scene.truth) > 0.9);
  // Generous for a shared machine; a few hundred milliseconds on an idle one.
  assert.ok(seconds < 20, `${seconds.toFixed(1)} s`);
});

test('a mask becomes a white-on-black picture, an outline and a summary', () => {
  const mask = Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  const picture = maskImage(mask, 4, 4);
  assert.deepEqual(Array.from(picture.data.subarray(0, 4)), [0, 0, 0, 255]);
  assert.deepEqual(Array.from(picture.data.subarray(20, 24)), [255, 255, 255, 255]);
  // A 2×2 block is all edge.
  assert.deepEqual(Array.from(maskOutline(mask, 4, 4)), Array.from(mask));
  assert.deepEqual(summariseMask(mask, 4, 4), { share: 0.25, box: { left: 1, top: 1, right: 2, bottom: 2 } });
});
