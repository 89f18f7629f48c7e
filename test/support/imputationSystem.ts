/**
 * ROAD's noisy linear imputation written out from its definition, for the tests of the fast solver: the
 * dense system on the removed pixels, and how far an imputed image is from satisfying it.
 */
import { NEIGHBOUR_WEIGHTS } from '../../src/engine/metrics';

/**
 * The system for the removed pixels (keep 0) of a height × width image, densely: each unknown minus the
 * weighted sum of its removed neighbours (a neighbour outside the image moves its weight to the diagonal).
 * `unknowns`: the pixels the rows stand for, row-major.
 */
export function denseImputationSystem(keep: Uint8Array, height: number, width: number): { unknowns: number[]; a: number[][] } {
  const unknowns = [...keep.keys()].filter((p) => !keep[p]);
  const a = unknowns.map((p) => {
    const row = new Array<number>(unknowns.length).fill(0);
    const r = Math.floor(p / width);
    const c = p % width;
    row[unknowns.indexOf(p)] = 1;
    for (const [dr, dc, weight] of NEIGHBOUR_WEIGHTS) {
      const q = (r + dr) * width + c + dc;
      if (r + dr < 0 || c + dc < 0 || r + dr >= height || c + dc >= width) row[unknowns.indexOf(p)] -= weight;
      else if (!keep[q]) row[unknowns.indexOf(q)] -= weight;
    }
    return row;
  });
  return { unknowns, a };
}

/**
 * How an imputed image meets the imputation's equations: `worst`, the largest gap between a removed pixel's
 * value and the weighted mean of its neighbours (every channel); `removed`, the removed pixels; `keptChanged`,
 * the kept values that are not the image's own (there should be none).
 */
export function neighbourMeanGap(
  imputed: ArrayLike<number>,
  image: ArrayLike<number>,
  keep: Uint8Array,
  height: number,
  width: number,
  channels: number,
): { worst: number; removed: number; keptChanged: number } {
  let worst = 0;
  let removed = 0;
  let keptChanged = 0;
  for (let p = 0; p < height * width; p++) {
    if (keep[p]) {
      for (let ch = 0; ch < channels; ch++) if (imputed[p * channels + ch] !== image[p * channels + ch]) keptChanged++;
      continue;
    }
    removed++;
    const r = Math.floor(p / width);
    const c = p % width;
    for (let ch = 0; ch < channels; ch++) {
      let weights = 0;
      let sum = 0;
      for (const [dr, dc, weight] of NEIGHBOUR_WEIGHTS) {
        if (r + dr < 0 || c + dc < 0 || r + dr >= height || c + dc >= width) continue;
        weights += weight;
        sum += weight * imputed[((r + dr) * width + c + dc) * channels + ch];
      }
      worst = Math.max(worst, Math.abs(imputed[p * channels + ch] - sum / weights));
    }
  }
  return { worst, removed, keptChanged };
}
