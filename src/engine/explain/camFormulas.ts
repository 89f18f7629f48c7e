/**
 * The CAM family's formulas on a target layer's activations A and the score's gradients g, both
 * [batch, h, w, channels] (docs/explanations.md). Most methods weight A per channel or per position:
 * they return those weighted activations, whose channel sum is the map, or whose first principal
 * component is the map under eigen smoothing.
 */
import * as tf from '@tensorflow/tfjs-core';

export type GradientCam = 'gradcam' | 'gradcam++' | 'xgradcam' | 'layercam' | 'hirescam' | 'gradcamelementwise';

/** pytorch-grad-cam's constants: Grad-CAM++'s denominator and XGrad-CAM's. */
const GRADCAM_PLUSPLUS_EPS = 1e-6;
const XGRADCAM_EPS = 1e-7;

/** The weighted activations [batch, h, w, channels] of a gradient CAM. */
export function gradientWeighted(method: GradientCam, a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    switch (method) {
      case 'gradcam':
        return tf.mul(tf.mean(g, [1, 2], true), a);
      case 'gradcam++': {
        const g2 = tf.square(g);
        const g3 = tf.mul(g2, g);
        const sumA = tf.sum(a, [1, 2], true);
        const aij = tf.div(g2, tf.add(tf.add(tf.mul(g2, 2), tf.mul(sumA, g3)), GRADCAM_PLUSPLUS_EPS));
        const kept = tf.where(tf.notEqual(g, 0), aij, tf.zerosLike(aij));
        return tf.mul(tf.sum(tf.mul(tf.relu(g), kept), [1, 2], true), a);
      }
      case 'xgradcam': {
        const sumA = tf.sum(a, [1, 2], true);
        return tf.mul(tf.sum(tf.div(tf.mul(g, a), tf.add(sumA, XGRADCAM_EPS)), [1, 2], true), a);
      }
      case 'layercam':
        return tf.mul(tf.relu(g), a);
      case 'hirescam':
        return tf.mul(g, a);
      case 'gradcamelementwise':
        return tf.relu(tf.mul(g, a));
    }
  }) as tf.Tensor4D;
}

/** weights[b, k] · A[b, :, :, k]. weights: [batch, channels]. */
export function channelWeighted(a: tf.Tensor4D, weights: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(a, tf.reshape(weights, [weights.shape[0], 1, 1, weights.shape[1]])));
}

/**
 * FEM (pytorch-grad-cam's fem.py, k = 2): each channel weighted by the share of its positions above its
 * mean plus k standard deviations (population), both over the positions.
 */
export function femWeighted(a: tf.Tensor4D, k = 2): tf.Tensor4D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(a, [1, 2], true);
    const threshold = tf.add(mean, tf.mul(tf.sqrt(variance), k));
    const share = tf.mean(tf.cast(tf.greater(a, threshold), 'float32'), [1, 2], true);
    return tf.mul(share, a);
  });
}

/** The map [batch, h, w]: the channel sum of weighted activations. */
export function channelSum(weighted: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.sum(weighted, -1) as tf.Tensor3D);
}

/**
 * Each image's activations (positions × channels, channels centred) projected on their first principal
 * direction: Eigen-CAM, EigenGrad-CAM and eigen smoothing (pytorch-grad-cam's get_2d_projection).
 * Computed from the smaller Gram matrix with power iteration, in float64.
 */
export async function firstComponentMaps(a: tf.Tensor4D): Promise<tf.Tensor3D> {
  const [batch, h, w, k] = a.shape;
  const values = await a.data();
  const maps = new Float32Array(batch * h * w);
  for (let b = 0; b < batch; b++) {
    const x = centredColumns(values.subarray(b * h * w * k, (b + 1) * h * w * k), h * w, k);
    maps.set(firstComponentProjection(x, h * w, k), b * h * w);
  }
  return tf.tensor3d(maps, [batch, h, w]);
}

/** rows × cols values as float64, NaN read as 0 (as the library), each column minus its mean. */
export function centredColumns(values: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const x = Float64Array.from(values, (v) => (Number.isNaN(v) ? 0 : v));
  for (let c = 0; c < cols; c++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += x[r * cols + c];
    mean /= rows;
    for (let r = 0; r < rows; r++) x[r * cols + c] -= mean;
  }
  return x;
}

/** X·v₁ for the first right-singular vector v₁ of X (rows × cols), signed so that Σ_k v₁[k] ≥ 0. */
function firstComponentProjection(x: Float64Array, rows: number, cols: number): Float64Array {
  // X·v₁ = σ₁·u₁, and u₁ is the top eigenvector of X·Xᵀ; v₁ that of Xᵀ·X. Use the smaller of the two.
  const projection = new Float64Array(rows);
  if (rows <= cols) {
    const gram = new Float64Array(rows * rows);
    for (let i = 0; i < rows; i++) {
      for (let j = i; j < rows; j++) {
        let dot = 0;
        for (let c = 0; c < cols; c++) dot += x[i * cols + c] * x[j * cols + c];
        gram[i * rows + j] = gram[j * rows + i] = dot;
      }
    }
    const { vector, value } = topEigenvector(gram, rows);
    const sigma = Math.sqrt(Math.max(value, 0));
    for (let i = 0; i < rows; i++) projection[i] = sigma * vector[i];
  } else {
    const gram = new Float64Array(cols * cols);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < cols; i++) {
        const xi = x[r * cols + i];
        if (xi === 0) continue;
        for (let j = i; j < cols; j++) gram[i * cols + j] += xi * x[r * cols + j];
      }
    }
    for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) gram[i * cols + j] = gram[j * cols + i];
    const { vector } = topEigenvector(gram, cols);
    for (let r = 0; r < rows; r++) {
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += x[r * cols + c] * vector[c];
      projection[r] = dot;
    }
  }
  // The projection of centred data always sums to zero, so the sign is fixed another way: the map must
  // correlate positively with the (centred) channel-sum map, i.e. Σ_k v₁[k] ≥ 0.
  let agreement = 0;
  for (let r = 0; r < rows; r++) {
    let channelSum = 0;
    for (let c = 0; c < cols; c++) channelSum += x[r * cols + c];
    agreement += projection[r] * channelSum;
  }
  if (agreement < 0) for (let i = 0; i < rows; i++) projection[i] = -projection[i];
  return projection;
}

/** Power iteration on a symmetric positive semi-definite matrix (n × n). */
function topEigenvector(matrix: Float64Array, n: number): { vector: Float64Array; value: number } {
  let vector = new Float64Array(n).map((_, i) => 1 + ((i * 7919) % 13) / 13);
  let value = 0;
  for (let iteration = 0; iteration < 3000; iteration++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += matrix[i * n + j] * vector[j];
      next[i] = dot;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += next[i] * next[i];
    norm = Math.sqrt(norm);
    if (norm === 0) return { vector: next, value: 0 };
    for (let i = 0; i < n; i++) next[i] /= norm;
    let change = 0;
    for (let i = 0; i < n; i++) change = Math.max(change, Math.abs(next[i] - vector[i]));
    vector = next;
    value = norm;
    if (change < 1e-12) break;
  }
  return { vector, value };
}
