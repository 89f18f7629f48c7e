/**
 * The difference of two explanation maps of the same image, B's map − A's map (both in [0, 1], so the
 * difference is in [−1, 1]), as a picture in a diverging colormap: red where B looks more than A,
 * blue where less, near-white where both agree.
 */
import type { RgbaImage } from '../preprocess';
import { divergingTable } from '../render/colormaps';

export function mapDifference(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  if (a.length !== b.length) throw new Error(`the two maps have ${a.length} and ${b.length} values`);
  return Float32Array.from({ length: a.length }, (_, i) => b[i] - a[i]);
}

/** A [−1, 1] map (row-major, width × height) as an opaque image; values beyond the range take its end colours. */
export function differencePicture(difference: ArrayLike<number>, width: number, height: number): RgbaImage {
  const table = divergingTable();
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const value = Math.min(1, Math.max(-1, difference[i]));
    // Entry e is the colour of (e − 127.5) / 127.5 (colormaps.ts).
    const entry = Math.round(value * 127.5 + 127.5) * 3;
    data.set(table.subarray(entry, entry + 3), i * 4);
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

/** The largest |B − A| over the map: how far the two explanations differ at most, for the caption. */
export function largestDifference(difference: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < difference.length; i++) largest = Math.max(largest, Math.abs(difference[i]));
  return largest;
}
