/**
 * The random transformations feature visualisation applies before each step (Lucid's
 * `transform.standard_transforms`: pad, jitter, random scale, random rotation), and the seeded random
 * numbers that choose them, so that a run is reproducible.
 *
 * tfjs-core has no gradient for `image.transform` / `rotateWithOffset`, so translation, scale and
 * rotation are done together as one bilinear resampling written with `gather` (which has a gradient):
 * the sample positions and weights are computed here, in plain JavaScript, for each step. Samples that
 * fall outside the image read a constant grey, which is Lucid's constant 0.5 padding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { seededRandom } from './random';

export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  gaussian(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  /** An integer uniform in [low, high] (both included). */
  integer(low: number, high: number): number;
}

/** Uniform, normal and integer draws from the seeded generator of random.ts (mulberry32). */
export function randomSource(seed: number): RandomSource {
  const next = seededRandom(seed);
  let spare: number | undefined;
  return {
    next,
    gaussian() {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      const angle = 2 * Math.PI * next();
      spare = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
    uniform: (low, high) => low + (high - low) * next(),
    integer: (low, high) => low + Math.min(high - low, Math.floor(next() * (high - low + 1))),
  };
}

export interface TransformSettings {
  /** Random translation of up to ± this many pixels (whole pixels) in x and y. */
  jitter: number;
  /** Random scale factor, uniform in [low, high]. */
  scale: [number, number];
  /** Random rotation of up to ± this many degrees. */
  rotate: number;
}

/** Lucid's standard transforms scaled to the image: ±size/32 px (≥ 1), scale 0.9–1.1, rotation ±10°. */
export function defaultTransforms(height: number, width: number): TransformSettings {
  return { jitter: Math.max(1, Math.round(Math.min(height, width) / 32)), scale: [0.9, 1.1], rotate: 10 };
}

/** One draw of the transformation: the image is scaled, then rotated, about its centre, then moved. */
export interface Affine {
  /** Radians, clockwise as seen on screen (rows go down). */
  angle: number;
  scale: number;
  /** Translation in pixels of the source image. */
  dx: number;
  dy: number;
}

export const IDENTITY: Affine = { angle: 0, scale: 1, dx: 0, dy: 0 };

export function randomAffine(random: RandomSource, settings: TransformSettings): Affine {
  const jitter = Math.max(0, Math.floor(settings.jitter));
  return {
    dx: random.integer(-jitter, jitter),
    dy: random.integer(-jitter, jitter),
    scale: random.uniform(settings.scale[0], settings.scale[1]),
    angle: (random.uniform(-settings.rotate, settings.rotate) * Math.PI) / 180,
  };
}

/**
 * Where each output pixel samples the source, as 4 corner indices per output pixel (into the source's
 * pixels flattened row by row, with index height·width for "outside") and their bilinear weights.
 * The output spans the whole source (resized to outHeight × outWidth) before the transformation.
 */
export function samplingGrid(
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
  affine: Affine,
): { indices: Int32Array; weights: Float32Array } {
  const count = outHeight * outWidth;
  const outside = height * width;
  const indices = new Int32Array(4 * count);
  const weights = new Float32Array(4 * count);
  const cos = Math.cos(affine.angle);
  const sin = Math.sin(affine.angle);
  const [cx, cy] = [width / 2, height / 2];
  for (let i = 0; i < outHeight; i++) {
    for (let j = 0; j < outWidth; j++) {
      // The output pixel's centre, relative to the image centre, in source pixels; then the inverse
      // of (scale, rotate, translate) takes it to the point of the source it shows.
      const ox = ((j + 0.5) * width) / outWidth - cx - affine.dx;
      const oy = ((i + 0.5) * height) / outHeight - cy - affine.dy;
      const sx = (cos * ox + sin * oy) / affine.scale + cx - 0.5;
      const sy = (-sin * ox + cos * oy) / affine.scale + cy - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const p = i * outWidth + j;
      for (let corner = 0; corner < 4; corner++) {
        const dx = corner & 1;
        const dy = corner >> 1;
        const x = x0 + dx;
        const y = y0 + dy;
        const inside = x >= 0 && x < width && y >= 0 && y < height;
        indices[corner * count + p] = inside ? y * width + x : outside;
        weights[corner * count + p] = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
      }
    }
  }
  return { indices, weights };
}

/**
 * The image [H, W, C] transformed by `affine` and resampled to [outHeight, outWidth, C] bilinearly,
 * reading `fill` outside it; differentiable with respect to the image.
 *
 * The gradient is written out (a scatter-add of the output gradient through the same weights) because
 * tfjs's own gradient of `gather` goes through `unsortedSegmentSum`, which the CPU backend computes one
 * segment at a time: seconds per step even for a 15×15 image.
 */
export function affineResample(image: tf.Tensor3D, outHeight: number, outWidth: number, affine: Affine, fill = 0.5): tf.Tensor3D {
  const [height, width, channels] = image.shape;
  const { indices, weights } = samplingGrid(height, width, outHeight, outWidth, affine);
  const count = outHeight * outWidth;
  const resample = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const indexTensor = tf.tensor2d(indices, [4 * count, 1], 'int32');
    const weightTensor = tf.tensor3d(weights, [4, count, 1]);
    save([indexTensor, weightTensor]);
    const value = tf.tidy(() => {
      const pixels = tf.concat([tf.reshape(x, [height * width, channels]), tf.fill([1, channels], fill)], 0);
      const corners = tf.reshape(tf.gatherND(pixels, indexTensor), [4, count, channels]);
      return tf.reshape(tf.sum(tf.mul(corners, weightTensor), 0), [outHeight, outWidth, channels]);
    });
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [savedIndices, savedWeights] = saved;
        const spread = tf.reshape(tf.mul(savedWeights, tf.reshape(dy, [1, count, channels])), [4 * count, channels]);
        const summed = tf.scatterND(savedIndices, spread, [height * width + 1, channels]);
        return tf.reshape(tf.slice(summed, [0, 0], [height * width, channels]), [height, width, channels]);
      });
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return resample(image) as tf.Tensor3D;
}
