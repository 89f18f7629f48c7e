import type { RgbaImage } from './preprocess';

/**
 * Bilinear resizing of decoded RGBA bytes straight to the model's input size, as float32 RGB. Done in
 * JavaScript rather than with tf.image.resizeBilinear because the tensor route first widens the whole
 * image: a 100-megapixel photo became 1.6 GB of int32 and 1.2 GB of float32 before it was resized.
 * Here memory is the output's size. The formula is TensorFlow.js's (and TensorFlow's) ResizeBilinear
 * with half-pixel centres and without corner alignment, so the numbers are those of the tensor route.
 */
export function resizeRgb(rgba: ArrayLike<number>, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  return resizeInterleaved(rgba, 4, 3, width, height, outWidth, outHeight);
}

/**
 * Images at `width` × `height` as one [n, height, width, 3] float32 RGB array, alpha dropped (an image
 * already that size is copied exactly). No tensors: the pages compute it on a worker.
 */
export function batchRgb(images: readonly RgbaImage[], width: number, height: number): Float32Array {
  const size = width * height * 3;
  const rgb = new Float32Array(images.length * size);
  images.forEach((image, n) => rgb.set(resizeRgb(image.data, image.width, image.height, width, height), n * size));
  return rgb;
}

/** One channel (a map, a mask's weights) resized by the same formula as `resizeRgb`. */
export function resizeChannel(values: ArrayLike<number>, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  return resizeInterleaved(values, 1, 1, width, height, outWidth, outHeight);
}

/** The first `channels` of every `stride` interleaved values per pixel, resized; the output is packed. */
function resizeInterleaved(
  values: ArrayLike<number>,
  stride: number,
  channels: number,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  const out = new Float32Array(outWidth * outHeight * channels);
  if (width === outWidth && height === outHeight) {
    // The formula at the same size gives each value back; copied, a folder of images already at the
    // model's size is not interpolated for nothing.
    for (let p = 0, o = 0; p < width * height; p++) for (let c = 0; c < channels; c++) out[o++] = values[p * stride + c];
    return out;
  }
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
      for (let c = 0; c < channels; c++) {
        const topLeft = values[(top + left) * stride + c];
        const topRight = values[(top + right) * stride + c];
        const bottomLeft = values[(bottom + left) * stride + c];
        const bottomRight = values[(bottom + right) * stride + c];
        const upper = topLeft + (topRight - topLeft) * dx;
        const lower = bottomLeft + (bottomRight - bottomLeft) * dx;
        out[o++] = upper + (lower - upper) * dy;
      }
    }
  }
  return out;
}

/** For each output position along one axis: the two source positions it lies between, and how far. */
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
