/**
 * A map resized and smoothed for segmentation: bilinear resizing with half-pixel centres (the formula of
 * engine/resizePixels.ts, on one channel) and a separable Gaussian blur.
 */

export function resizeMap(map: ArrayLike<number>, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  const out = new Float32Array(outWidth * outHeight);
  const rows = spans(height, outHeight);
  const columns = spans(width, outWidth);
  for (let y = 0; y < outHeight; y++) {
    const top = rows.low[y] * width;
    const bottom = rows.high[y] * width;
    const dy = rows.fraction[y];
    for (let x = 0; x < outWidth; x++) {
      const left = columns.low[x];
      const right = columns.high[x];
      const dx = columns.fraction[x];
      const upper = map[top + left] + (map[top + right] - map[top + left]) * dx;
      const lower = map[bottom + left] + (map[bottom + right] - map[bottom + left]) * dx;
      out[y * outWidth + x] = upper + (lower - upper) * dy;
    }
  }
  return out;
}

function spans(size: number, outSize: number): { low: Int32Array; high: Int32Array; fraction: Float64Array } {
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const fraction = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const source = Math.max(0, ((i + 0.5) * size) / outSize - 0.5);
    low[i] = Math.min(size - 1, Math.floor(source));
    high[i] = Math.min(size - 1, low[i] + 1);
    fraction[i] = source - low[i];
  }
  return { low, high, fraction };
}

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
