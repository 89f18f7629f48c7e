/**
 * What an explanation map tells GrabCut before the cut, in place of the user's rectangle. The map is
 * smoothed (a Gaussian of `blur` × the image's shorter side) and scaled to a maximum of 1; t is its Otsu
 * threshold. Then:
 *   - the box: the bounding box of where the map reaches `support` × t, widened by `margin` × the shorter
 *     side. As outside GrabCut's rectangle, everything outside it is surely background, and the first
 *     colour models are fitted to the inside (the object's) and the outside (the background's);
 *   - an object that fills the picture leaves under 5% outside the box: then nothing is sure, and the
 *     first models are fitted to where the map is above t (the object) and below t / 2 (the background);
 *   - the core, where the map is above t: a region of the cut's object that touches none of it is dropped
 *     (a patch of the object's colour elsewhere in the picture).
 * The defaults were chosen on the evaluation set in test/fixtures/segmentation (docs/explanations.md).
 */
import { SURE_BACKGROUND, type Trimap, UNFITTED } from './grabCut';
import { blurMap } from './mapResize';
import { otsuThreshold } from './threshold';

export interface SeedOptions {
  /** The map's blur, as a fraction of the image's shorter side; 0.1 by default. */
  blur?: number;
  /** Where the box's support starts, as a fraction of the Otsu threshold; 0.5 by default. */
  support?: number;
  /** The box's widening on every side, as a fraction of the image's shorter side; 0.05 by default. */
  margin?: number;
}

export interface MapSeeds extends Trimap {
  /** Where the smoothed map is above its Otsu threshold (1). */
  core: Uint8Array;
}

/** The least share of the image outside the box for it to count as GrabCut's rectangle. */
const LEAST_OUTSIDE = 0.05;

export function seedsFromMap(map: Float32Array, width: number, height: number, options: SeedOptions = {}): MapSeeds {
  const side = Math.min(width, height);
  const smooth = blurMap(map, width, height, (options.blur ?? 0.1) * side);
  let max = 0;
  for (const v of smooth) max = Math.max(max, v);
  const seeds = new Uint8Array(smooth.length);
  const initial = new Uint8Array(smooth.length);
  const core = new Uint8Array(smooth.length);
  if (max === 0) return { seeds, initial, core };
  for (let p = 0; p < smooth.length; p++) smooth[p] /= max;
  const t = otsuThreshold(smooth);

  const box = boundingBox(smooth, width, height, (options.support ?? 0.5) * t);
  const margin = Math.round((options.margin ?? 0.05) * side);
  const [left, right] = [Math.max(0, box.left - margin), Math.min(width - 1, box.right + margin)];
  const [top, bottom] = [Math.max(0, box.top - margin), Math.min(height - 1, box.bottom + margin)];
  const useBox = (right - left + 1) * (bottom - top + 1) <= (1 - LEAST_OUTSIDE) * width * height;

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const m = smooth[p];
      core[p] = m >= t ? 1 : 0;
      if (useBox) {
        const inBox = x >= left && x <= right && y >= top && y <= bottom;
        seeds[p] = inBox ? 0 : SURE_BACKGROUND;
        initial[p] = inBox ? 1 : 0;
      } else {
        initial[p] = m >= t ? 1 : m < t / 2 ? 0 : UNFITTED;
      }
    }
  }
  return { seeds, initial, core };
}

/** The box around the pixels at or above `level` (a positive level: the map's maximum is 1). */
function boundingBox(map: Float32Array, width: number, height: number, level: number) {
  const box = { left: width, top: height, right: -1, bottom: -1 };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (map[y * width + x] < level) continue;
      box.left = Math.min(box.left, x);
      box.right = Math.max(box.right, x);
      box.top = Math.min(box.top, y);
      box.bottom = Math.max(box.bottom, y);
    }
  }
  return box;
}
