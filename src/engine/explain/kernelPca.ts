/**
 * KPCA-CAM: each image's activations (positions × channels, channels centred) projected on the first
 * kernel principal component, as pytorch-grad-cam's get_2d_projection_kernel with scikit-learn's
 * KernelPCA(n_components=1, kernel='sigmoid', gamma=None): k(x, y) = tanh(γ·x·y + 1) with γ = 1/channels,
 * the kernel matrix centred, its largest eigenvalue λ and eigenvector u taken, u signed so that its
 * largest-magnitude entry is positive (scikit-learn's svd_flip), and the map is u·√λ (0 where λ ≤ 0).
 */
import * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { centredColumns } from './camFormulas';

/** The sigmoid kernel's independent term (scikit-learn's coef0 default). */
const SIGMOID_COEF0 = 1;

export async function kernelPcaMaps(a: tf.Tensor4D): Promise<tf.Tensor3D> {
  const [batch, h, w, k] = a.shape;
  const values = await a.data();
  const maps = new Float32Array(batch * h * w);
  for (let b = 0; b < batch; b++) {
    const x = centredColumns(values.subarray(b * h * w * k, (b + 1) * h * w * k), h * w, k);
    maps.set(firstKernelComponent(x, h * w, k, 1 / k), b * h * w);
  }
  return tf.tensor3d(maps, [batch, h, w]);
}

/** The first kernel principal component's scores of the rows of x (rows × cols). */
export function firstKernelComponent(x: Float64Array, rows: number, cols: number, gamma: number): Float64Array {
  const kernel = centredKernel(sigmoidKernel(x, rows, cols, gamma), rows);
  const { value, vector } = largestEigenpair(kernel, rows);
  let largest = 0;
  for (let i = 1; i < rows; i++) if (Math.abs(vector[i]) > Math.abs(vector[largest])) largest = i;
  const scale = Math.sqrt(Math.max(value, 0)) * Math.sign(vector[largest] || 1);
  return Float64Array.from(vector, (v) => v * scale);
}

function sigmoidKernel(x: Float64Array, rows: number, cols: number, gamma: number): Float64Array {
  const kernel = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += x[i * cols + c] * x[j * cols + c];
      kernel[i * rows + j] = kernel[j * rows + i] = Math.tanh(gamma * dot + SIGMOID_COEF0);
    }
  }
  return kernel;
}

/** K − 1K/n − K1/n + 1K1/n² (scikit-learn's KernelCenterer): the kernel of the features centred in feature space. */
function centredKernel(kernel: Float64Array, n: number): Float64Array {
  // The kernel is symmetric: its column means are its row means.
  const means = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += kernel[i * n + j];
    means[i] = sum / n;
  }
  const total = means.reduce((s, v) => s + v, 0) / n;
  return kernel.map((v, index) => v - means[Math.floor(index / n)] - means[index % n] + total);
}

/** Krylov steps per Lanczos run: the largest eigenvalue of a kernel matrix converges well within them. */
const LANCZOS_STEPS = 64;

/**
 * The largest (algebraic) eigenvalue of a symmetric matrix and its unit eigenvector, by Lanczos iteration
 * with full reorthogonalisation, restarted from the Ritz vector until its residual is at rounding level;
 * the small tridiagonal problem is solved by ml-matrix. Exact (a full Krylov basis) for n ≤ LANCZOS_STEPS.
 */
export function largestEigenpair(matrix: Float64Array, n: number): { value: number; vector: Float64Array } {
  const norm = Math.sqrt(matrix.reduce((s, v) => s + v * v, 0));
  let start: Float64Array = Float64Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 13) / 13);
  let best: { value: number; vector: Float64Array } = { value: 0, vector: new Float64Array(n) };
  for (let restart = 0; restart < 20; restart++) {
    const { value, vector, residual } = lanczos(matrix, n, start);
    best = { value, vector };
    if (residual <= 1e-10 * norm || norm === 0) break;
    start = vector;
  }
  return best;
}

function lanczos(matrix: Float64Array, n: number, start: Float64Array): { value: number; vector: Float64Array; residual: number } {
  const basis: Float64Array[] = [scaled(start, 1 / length(start))];
  const alphas: number[] = [];
  const betas: number[] = [];
  for (let j = 0; j < Math.min(n, LANCZOS_STEPS); j++) {
    const w = times(matrix, basis[j], n);
    alphas.push(dot(w, basis[j]));
    // Full reorthogonalisation, twice: keeps the basis orthogonal in floating point.
    for (let pass = 0; pass < 2; pass++) for (const q of basis) subtract(w, q, dot(w, q));
    const beta = length(w);
    if (j === Math.min(n, LANCZOS_STEPS) - 1 || beta <= 1e-14 * Math.max(1, Math.abs(alphas[j]))) break;
    betas.push(beta);
    basis.push(scaled(w, 1 / beta));
  }
  const k = alphas.length;
  const tridiagonal = new Matrix(k, k);
  for (let i = 0; i < k; i++) {
    tridiagonal.set(i, i, alphas[i]);
    if (i + 1 < k) {
      tridiagonal.set(i, i + 1, betas[i]);
      tridiagonal.set(i + 1, i, betas[i]);
    }
  }
  const { realEigenvalues, eigenvectorMatrix } = new EigenvalueDecomposition(tridiagonal, { assumeSymmetric: true });
  let top = 0;
  for (let i = 1; i < k; i++) if (realEigenvalues[i] > realEigenvalues[top]) top = i;
  const coefficients = eigenvectorMatrix.getColumn(top);
  const vector = new Float64Array(n);
  coefficients.forEach((c, i) => subtract(vector, basis[i], -c));
  const normalised = scaled(vector, 1 / length(vector));
  const residualVector = times(matrix, normalised, n);
  subtract(residualVector, normalised, realEigenvalues[top]);
  return { value: realEigenvalues[top], vector: normalised, residual: length(residualVector) };
}

function times(matrix: Float64Array, v: Float64Array, n: number): Float64Array {
  const result = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += matrix[i * n + j] * v[j];
    result[i] = sum;
  }
  return result;
}

function length(v: Float64Array): number {
  return Math.sqrt(dot(v, v));
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** a −= factor · b, in place. */
function subtract(a: Float64Array, b: Float64Array, factor: number): void {
  for (let i = 0; i < a.length; i++) a[i] -= factor * b[i];
}

function scaled(v: Float64Array, factor: number): Float64Array {
  return v.map((x) => x * factor);
}
