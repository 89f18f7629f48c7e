/**
 * The threshold-only mask, the baseline the graph cut is measured against: a pixel is the object where
 * the map exceeds Otsu's threshold on the map's values (the cut of a 256-bin histogram of [0, 1] that
 * maximises the variance between the two classes, Otsu 1979).
 */

const BINS = 256;

/** Otsu's threshold of values in [0, 1]: the upper edge of the last bin of the lower class. */
export function otsuThreshold(values: ArrayLike<number>): number {
  const histogram = new Float64Array(BINS);
  for (let i = 0; i < values.length; i++) histogram[binOf(values[i])]++;
  const total = values.length;
  let sumAll = 0;
  for (let b = 0; b < BINS; b++) sumAll += b * histogram[b];
  let weightLow = 0;
  let sumLow = 0;
  let best = 0;
  let bestVariance = -1;
  for (let b = 0; b < BINS - 1; b++) {
    weightLow += histogram[b];
    sumLow += b * histogram[b];
    const weightHigh = total - weightLow;
    if (weightLow === 0 || weightHigh === 0) continue;
    const meanLow = sumLow / weightLow;
    const meanHigh = (sumAll - sumLow) / weightHigh;
    const variance = weightLow * weightHigh * (meanLow - meanHigh) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = b;
    }
  }
  return (best + 1) / BINS;
}

/** 1 where `map` ≥ `threshold`, else 0. */
export function thresholdMask(map: ArrayLike<number>, threshold: number): Uint8Array {
  const mask = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) mask[i] = map[i] >= threshold ? 1 : 0;
  return mask;
}

function binOf(value: number): number {
  return Math.min(BINS - 1, Math.max(0, Math.floor(value * BINS)));
}
