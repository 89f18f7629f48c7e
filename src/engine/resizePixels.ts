/**
 * Bilinear resizing of decoded RGBA bytes straight to the model's input size, as float32 RGB. Done in
 * JavaScript rather than with tf.image.resizeBilinear because the tensor route first widens the whole
 * image: a 100-megapixel photo became 1.6 GB of int32 and 1.2 GB of float32 before it was resized.
 * Here memory is the output's size. The formula is TensorFlow.js's (and TensorFlow's) ResizeBilinear
 * with half-pixel centres and without corner alignment, so the numbers are those of the tensor route.
 */
export function resizeRgb(rgba: ArrayLike<number>, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  const out = new Float32Array(outWidth * outHeight * 3);
  const rows = sourceSpans(height, outHeight);
  const columns = sourceSpans(width, outWidth);
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    const top = rows.low[y] * width;
    const bottom = rows.high[y] * width;
    const dy = rows.fraction[y];
    for (let x = 0; x < outWidth; x++) {
      const left = columns.low[x];
      const right = columns.high[x];
      const dx = columns.fraction[x];
      for (let c = 0; c < 3; c++) {
        const topLeft = rgba[(top + left) * 4 + c];
        const topRight = rgba[(top + right) * 4 + c];
        const bottomLeft = rgba[(bottom + left) * 4 + c];
        const bottomRight = rgba[(bottom + right) * 4 + c];
        const upper = topLeft + (topRight - topLeft) * dx;
        const lower = bottomLeft + (bottomRight - bottomLeft) * dx;
        out[o++] = upper + (lower - upper) * dy;
      }
    }
  }
  return out;
}

/** For each output position along one axis: the two source positions it lies between, and how far. */
/** One channel (a map, a mask's weights) resized by the same formula as `resizeRgb`. */
export function resizeChannel(values: ArrayLike<number>, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  const out = new Float32Array(outWidth * outHeight);
  const rows = sourceSpans(height, outHeight);
  const columns = sourceSpans(width, outWidth);
  for (let y = 0; y < outHeight; y++) {
    const top = rows.low[y] * width;
    const bottom = rows.high[y] * width;
    const dy = rows.fraction[y];
    for (let x = 0; x < outWidth; x++) {
      const left = columns.low[x];
      const right = columns.high[x];
      const dx = columns.fraction[x];
      const upper = values[top + left] + (values[top + right] - values[top + left]) * dx;
      const lower = values[bottom + left] + (values[bottom + right] - values[bottom + left]) * dx;
      out[y * outWidth + x] = upper + (lower - upper) * dy;
    }
  }
  return out;
}

function sourceSpans(size: number, outSize: number): { low: Int32Array; high: Int32Array; fraction: Float64Array } {
  const ratio = size / outSize;
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const fraction = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const source = ratio * (i + 0.5) - 0.5;
    low[i] = Math.max(0, Math.floor(source));
    high[i] = Math.min(size - 1, Math.ceil(source));
    fraction[i] = source - low[i];
  }
  return { low, high, fraction };
}
