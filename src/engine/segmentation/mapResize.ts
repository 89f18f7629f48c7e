/**
 * A map resized and smoothed for segmentation: bilinear resizing with half-pixel centres (engine/resizePixels.ts)
 * and a separable Gaussian blur.
 */
import { resizeChannel } from '../resizePixels';

/** Bilinear resizing with half-pixel centres, as the model's input is resized. */
export const resizeMap = resizeChannel;

/** A Gaussian blur of standard deviation `sigma` pixels (edges repeat the border); a copy when sigma < 0.3. */
export function blurMap(map: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (sigma < 0.3) return map.slice();
  const radius = Math.ceil(3 * sigma);
  const kernel = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  kernel.forEach((v, i) => (kernel[i] = v / total));
  const across = new Float32Array(map.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) sum += kernel[k + radius] * map[y * width + Math.min(width - 1, Math.max(0, x + k))];
      across[y * width + x] = sum;
    }
  }
  const out = new Float32Array(map.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) sum += kernel[k + radius] * across[Math.min(height - 1, Math.max(0, y + k)) * width + x];
      out[y * width + x] = sum;
    }
  }
  return out;
}
