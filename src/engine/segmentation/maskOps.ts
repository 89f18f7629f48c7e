/**
 * Binary masks (one byte per pixel, 1 = object): resizing, connected components, intersection over
 * union, the summary the command line prints, and the picture a mask is saved as.
 */
import type { RgbaImage } from '../preprocess';

/** The bounding box of the object, in pixels, inclusive of both ends. */
export interface MaskBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface MaskSummary {
  /** Object pixels / all pixels. */
  share: number;
  /** Undefined for an empty mask. */
  box?: MaskBox;
}

/** Nearest-neighbour resizing (a mask stays binary). */
export function resizeMask(mask: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight);
  const columns = Int32Array.from({ length: outWidth }, (_, x) => Math.min(width - 1, Math.floor(((x + 0.5) * width) / outWidth)));
  for (let y = 0; y < outHeight; y++) {
    const row = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outHeight)) * width;
    for (let x = 0; x < outWidth; x++) out[y * outWidth + x] = mask[row + columns[x]];
  }
  return out;
}

/**
 * The 4-connected components of the mask's object pixels: a label per pixel (0 for background, 1… for
 * each component) and the number of components.
 */
export function connectedComponents(mask: Uint8Array, width: number, height: number): { labels: Int32Array; count: number } {
  const labels = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    count++;
    labels[start] = count;
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top];
      const x = p % width;
      const neighbours = [
        x > 0 ? p - 1 : -1,
        x < width - 1 ? p + 1 : -1,
        p >= width ? p - width : -1,
        p < (height - 1) * width ? p + width : -1,
      ];
      for (const q of neighbours) {
        if (q < 0 || !mask[q] || labels[q]) continue;
        labels[q] = count;
        stack[top++] = q;
      }
    }
  }
  return { labels, count };
}

/** The mask without the components that hold no pixel of `keep` (an object must contain a confident seed). */
export function componentsTouching(mask: Uint8Array, keep: Uint8Array, width: number, height: number): Uint8Array {
  const { labels, count } = connectedComponents(mask, width, height);
  const kept = new Uint8Array(count + 1);
  for (let p = 0; p < mask.length; p++) if (keep[p] && labels[p]) kept[labels[p]] = 1;
  const out = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p++) out[p] = kept[labels[p]];
  return out;
}

/** Intersection over union of two masks of the same size; 1 when both are empty. */
export function intersectionOverUnion(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error('internal: masks of different sizes');
  let intersection = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) intersection++;
    if (a[i] || b[i]) union++;
  }
  return union === 0 ? 1 : intersection / union;
}

export function summariseMask(mask: Uint8Array, width: number, height: number): MaskSummary {
  let count = 0;
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      count++;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  return { share: count / (width * height), box: count === 0 ? undefined : { left, top, right, bottom } };
}

/** The mask as an opaque picture: white object on black. */
export function maskImage(mask: Uint8Array, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const v = mask[p] ? 255 : 0;
    data.set([v, v, v, 255], 4 * p);
  }
  return { width, height, data };
}

/** The mask's boundary: object pixels with a 4-neighbour outside the object (or on the image's edge). */
export function maskOutline(mask: Uint8Array, width: number, height: number): Uint8Array {
  const outline = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!mask[p]) continue;
      const inside = x > 0 && x < width - 1 && y > 0 && y < height - 1 && mask[p - 1] && mask[p + 1] && mask[p - width] && mask[p + width];
      outline[p] = inside ? 0 : 1;
    }
  }
  return outline;
}
