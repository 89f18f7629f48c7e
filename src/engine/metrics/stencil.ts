/**
 * The finest level of the imputation's system in the image's own layout. Every removed pixel's row is
 * the same 8-neighbour stencil (`NEIGHBOUR_WEIGHTS`: 1/6 for the neighbours sharing a side, 1/12 for the
 * diagonal ones), so instead of reading a sparse matrix's entries the solver's hot loops read the
 * neighbours at fixed offsets in an image-shaped buffer that holds 0 wherever there is no unknown (kept
 * pixels, and a one-pixel frame for outside the image) — about three times faster per pass, and most of
 * the solver's time is spent on this level.
 */

import type { SparseMatrix } from './sparse';

const SIDE = 1 / 6;
const CORNER = 1 / 12;

export interface Stencil {
  /** Values per pixel: the right-hand sides solved together. */
  channels: number;
  /** Row length of the buffer in pixels: the image's width and the frame on both sides. */
  stride: number;
  /** Each unknown's pixel index in the framed buffer. */
  cells: Int32Array;
  /** Each unknown's diagonal: 1 less the weights of its neighbours outside the image. */
  diagonal: Float64Array;
  /** The framed image, `channels` values per pixel, non-zero only at the unknowns. */
  buffer: Float64Array;
}

/** The stencil of the unknowns at pixels (rows[k], columns[k]) of a height × width image. */
export function stencilOf(
  rows: Int32Array,
  columns: Int32Array,
  diagonal: Float64Array,
  height: number,
  width: number,
  channels: number,
): Stencil {
  const stride = width + 2;
  const cells = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) cells[k] = (rows[k] + 1) * stride + columns[k] + 1;
  return { channels, stride, cells, diagonal, buffer: new Float64Array(stride * (height + 2) * channels) };
}

/** Sets the buffer's unknowns to the interleaved vectors `x` (x[k * channels + c]). */
export function scatter(s: Stencil, x: Float64Array): void {
  const { cells, buffer, channels: m } = s;
  for (let k = 0; k < cells.length; k++) for (let c = 0; c < m; c++) buffer[cells[k] * m + c] = x[k * m + c];
}

/** Adds p · y to the buffer's unknowns (p: one row per unknown; y: interleaved vectors). */
export function addProduct(s: Stencil, p: SparseMatrix, y: Float64Array): void {
  const { cells, buffer, channels: m } = s;
  const { start, index, value } = p;
  if (m === 3) {
    // Colour images: the three sums in locals, the common case.
    for (let k = 0; k < cells.length; k++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let e = start[k]; e < start[k + 1]; e++) {
        const v = value[e];
        const j = 3 * index[e];
        s0 += v * y[j];
        s1 += v * y[j + 1];
        s2 += v * y[j + 2];
      }
      const g = cells[k] * 3;
      buffer[g] += s0;
      buffer[g + 1] += s1;
      buffer[g + 2] += s2;
    }
    return;
  }
  for (let k = 0; k < cells.length; k++) {
    const g = cells[k] * m;
    for (let e = start[k]; e < start[k + 1]; e++) {
      const v = value[e];
      const j = index[e] * m;
      for (let c = 0; c < m; c++) buffer[g + c] += v * y[j + c];
    }
  }
}

/** out = A x, x being the buffer. */
export function multiplyBuffer(s: Stencil, out: Float64Array): void {
  apply(s, undefined, out);
}

/** out = b − A x, x being the buffer. */
export function residual(s: Stencil, b: Float64Array, out: Float64Array): void {
  apply(s, b, out);
}

/**
 * A forward Gauss–Seidel sweep for A x = b from x = 0, whatever the buffer held: each unknown reads only
 * the neighbours updated before it (left and the row above; the others count as 0), half the reads.
 */
export function sweepFromZero(s: Stencil, b: Float64Array): void {
  const { cells, diagonal, buffer: x, channels: m } = s;
  const row = s.stride * m;
  for (let k = 0; k < cells.length; k++) {
    const g = cells[k] * m;
    const up = g - row;
    const d = diagonal[k];
    for (let c = 0; c < m; c++)
      x[g + c] = (b[k * m + c] + SIDE * (x[g + c - m] + x[up + c]) + CORNER * (x[up + c - m] + x[up + c + m])) / d;
  }
}

/**
 * b − A x right after `sweepFromZero`: each unknown's equation held when it was updated, so what remains
 * is the pull of the neighbours updated after it (right and the row below), half the reads of `residual`.
 */
export function residualAfterSweep(s: Stencil, out: Float64Array): void {
  const { cells, buffer: x, channels: m } = s;
  const row = s.stride * m;
  for (let k = 0; k < cells.length; k++) {
    const g = cells[k] * m;
    const down = g + row;
    for (let c = 0; c < m; c++) out[k * m + c] = SIDE * (x[g + c + m] + x[down + c]) + CORNER * (x[down + c - m] + x[down + c + m]);
  }
}

/**
 * One Gauss–Seidel sweep on the buffer for A x = b, over the unknowns first to last or last to first;
 * with `out`, the new values are also written there as interleaved vectors (saving a pass to read them).
 */
export function gaussSeidel(s: Stencil, b: Float64Array, forward: boolean, out?: Float64Array): void {
  const { cells, diagonal, buffer: x, channels: m } = s;
  const row = s.stride * m;
  const n = cells.length;
  for (let step = 0; step < n; step++) {
    const k = forward ? step : n - 1 - step;
    const g = cells[k] * m;
    const up = g - row;
    const down = g + row;
    const d = diagonal[k];
    for (let c = 0; c < m; c++) {
      const value =
        (b[k * m + c] +
          SIDE * (x[g + c - m] + x[g + c + m] + x[up + c] + x[down + c]) +
          CORNER * (x[up + c - m] + x[up + c + m] + x[down + c - m] + x[down + c + m])) /
        d;
      x[g + c] = value;
      if (out) out[k * m + c] = value;
    }
  }
}

/** out = b − A x, or A x without b. */
function apply(s: Stencil, b: Float64Array | undefined, out: Float64Array): void {
  const { cells, diagonal, buffer: x, channels: m } = s;
  const row = s.stride * m;
  for (let k = 0; k < cells.length; k++) {
    const g = cells[k] * m;
    const up = g - row;
    const down = g + row;
    const d = diagonal[k];
    for (let c = 0; c < m; c++) {
      const ax =
        d * x[g + c] -
        SIDE * (x[g + c - m] + x[g + c + m] + x[up + c] + x[down + c]) -
        CORNER * (x[up + c - m] + x[up + c + m] + x[down + c - m] + x[down + c + m]);
      out[k * m + c] = b ? b[k * m + c] - ax : ax;
    }
  }
}
