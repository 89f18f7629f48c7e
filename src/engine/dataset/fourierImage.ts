/**
 * Image parameterisations for feature visualisation, after Lucid (`lucid.optvis.param`): an image kept as
 * its 2-D spectrum scaled by 1/frequency (`fft_image`), in a decorrelated colour space, squashed into
 * [0, 1] by a sigmoid (`to_valid_rgb`). Optimising these rather than raw pixels makes gradient steps
 * favour low frequencies and natural colours, which is what makes the images recognisable.
 *
 * tfjs-core has `irfft`/`ifft` but registers no gradient for them (nor for `complex`, `real`, `imag`),
 * so the inverse 2-D real DFT is written as two matrix products with precomputed cosine/sine bases:
 * exact, differentiable on every backend, and cheap at the sizes used here (≤ 224).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Lucid's `color_correlation_svd_sqrt`: the square root of ImageNet's colour covariance. */
export const COLOR_CORRELATION_SVD_SQRT: readonly (readonly number[])[] = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];

/** Lucid's `rfft2d_freqs`: |f| for each entry of an rfft2d spectrum, [fh = h][fw] row by row. */
export function rfft2dFrequencies(height: number, width: number): { values: Float32Array; rows: number; columns: number } {
  // An odd width keeps one more frequency; the inverse then has width + 1 columns and one is cut off.
  const columns = width % 2 === 1 ? (width >> 1) + 2 : (width >> 1) + 1;
  const values = new Float32Array(height * columns);
  for (let k = 0; k < height; k++) {
    const fy = fftFrequency(k, height);
    for (let l = 0; l < columns; l++) {
      const fx = fftFrequency(l, width); // negative for the extra column of an odd width; squared below
      values[k * columns + l] = Math.sqrt(fx * fx + fy * fy);
    }
  }
  return { values, rows: height, columns };
}

/** numpy.fft.fftfreq(n)[k]. */
function fftFrequency(k: number, n: number): number {
  return (k < Math.ceil(n / 2) ? k : k - n) / n;
}

/**
 * The inverse real 2-D DFT (TensorFlow's irfft2d, normalised by 1/(h·w')) of spectra given as real and
 * imaginary parts, cropped to `width` columns. The spectra are stacked as [2h, channels·fw]: the real
 * parts in rows 0..h-1, the imaginary parts below, channel c in columns c·fw..(c+1)·fw-1.
 */
export class InverseRealDft2d {
  readonly rows: number; // fh = height
  readonly columns: number; // fw
  /** [2h, 2h]: the complex inverse DFT along y, as a real block matrix [[C, −S], [S, C]] / h. */
  private readonly alongY: tf.Tensor2D;
  /** [2fw, width]: the inverse real DFT along x (Hermitian extension, imaginary DC/Nyquist ignored). */
  private readonly alongX: tf.Tensor2D;

  constructor(
    readonly height: number,
    readonly width: number,
    readonly channels: number,
  ) {
    this.rows = height;
    this.columns = width % 2 === 1 ? (width >> 1) + 2 : (width >> 1) + 1;
    const h = height;
    const fw = this.columns;
    const period = 2 * (fw - 1); // the inverse's full width: width, or width + 1 when odd

    const y = new Float32Array(4 * h * h);
    for (let m = 0; m < h; m++) {
      for (let k = 0; k < h; k++) {
        const angle = (2 * Math.PI * ((k * m) % h)) / h;
        const c = Math.cos(angle) / h;
        const s = Math.sin(angle) / h;
        y[m * 2 * h + k] = c; // Re out ← Re in
        y[m * 2 * h + h + k] = -s; // Re out ← Im in
        y[(h + m) * 2 * h + k] = s; // Im out ← Re in
        y[(h + m) * 2 * h + h + k] = c; // Im out ← Im in
      }
    }
    const x = new Float32Array(2 * fw * width);
    for (let l = 0; l < fw; l++) {
      const weight = (l === 0 || l === fw - 1 ? 1 : 2) / period;
      for (let n = 0; n < width; n++) {
        const angle = (2 * Math.PI * ((l * n) % period)) / period;
        x[l * width + n] = weight * Math.cos(angle);
        // sin is 0 at the DC and Nyquist columns, so their imaginary parts drop out as in irfft.
        x[(fw + l) * width + n] = l === 0 || l === fw - 1 ? 0 : -weight * Math.sin(angle);
      }
    }
    this.alongY = tf.tensor2d(y, [2 * h, 2 * h]);
    this.alongX = tf.tensor2d(x, [2 * fw, width]);
  }

  /** [2h, channels·fw] stacked spectra → [height, width, channels] real image. */
  apply(spectra: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const { height: h, width: w, channels: ch, columns: fw } = this;
      const rowsDone = tf.matMul(this.alongY, spectra); // [2h, ch·fw]
      const real = tf.reshape(tf.slice(rowsDone, [0, 0], [h, ch * fw]), [h, ch, fw]);
      const imag = tf.reshape(tf.slice(rowsDone, [h, 0], [h, ch * fw]), [h, ch, fw]);
      const both = tf.reshape(tf.concat([real, imag], 2), [h * ch, 2 * fw]);
      const image = tf.reshape(tf.matMul(both, this.alongX), [h, ch, w]);
      return tf.transpose(image, [0, 2, 1]) as tf.Tensor3D;
    });
  }

  dispose(): void {
    tf.dispose([this.alongY, this.alongX]);
  }
}

/** Something optimised into an image: its variables, and the image in [0, 1] they stand for. */
export interface ImageParameterization {
  readonly height: number;
  readonly width: number;
  /** 3 (RGB) or 1 (grayscale). */
  readonly channels: number;
  readonly variables: tf.Variable[];
  /** [height, width, channels], values in (0, 1). */
  image(): tf.Tensor3D;
  dispose(): void;
}

export interface ParameterizationOptions {
  /** Keep the image as its 1/f-scaled spectrum (Lucid's `fft=True`); raw pixels otherwise. */
  fourier?: boolean;
  /** Optimise decorrelated colour components (Lucid's `decorrelate=True`); ignored for one channel. */
  decorrelate?: boolean;
  /** The spectrum is scaled by 1/f^decayPower (Lucid: 1). */
  decayPower?: number;
  /** Standard deviation of the random initial values (Lucid: 0.01). */
  sd?: number;
}

/** Lucid's `image(w, h, fft, decorrelate)` followed by `to_valid_rgb(..., sigmoid=True)`. */
export function imageParameterization(
  height: number,
  width: number,
  channels: number,
  gaussian: () => number,
  options: ParameterizationOptions = {},
): ImageParameterization {
  const { fourier = true, decorrelate = true, decayPower = 1, sd = 0.01 } = options;
  const spatial = fourier
    ? spectralImage(height, width, channels, gaussian, sd, decayPower)
    : pixelImage(height, width, channels, gaussian, sd);
  const colour = channels === 3 && decorrelate ? colourMatrix() : undefined;
  return {
    height,
    width,
    channels,
    variables: [spatial.variable],
    image: () =>
      tf.tidy(() => {
        let t: tf.Tensor = spatial.image();
        if (colour) t = tf.reshape(tf.matMul(tf.reshape(t, [-1, 3]), colour), [height, width, 3]);
        return tf.sigmoid(t) as tf.Tensor3D;
      }),
    dispose: () => {
      spatial.dispose();
      colour?.dispose();
    },
  };
}

interface SpatialImage {
  variable: tf.Variable;
  /** [height, width, channels], unbounded (before colour mixing and the sigmoid). */
  image(): tf.Tensor3D;
  dispose(): void;
}

/** Lucid's `fft_image`: a spectrum scaled by √(h·w) / max(f, 1/max(h, w))^decay, inverted, divided by 4. */
function spectralImage(
  height: number,
  width: number,
  channels: number,
  gaussian: () => number,
  sd: number,
  decayPower: number,
): SpatialImage {
  const dft = new InverseRealDft2d(height, width, channels);
  const fw = dft.columns;
  const freqs = rfft2dFrequencies(height, width).values;
  const scale = new Float32Array(2 * height * channels * fw);
  for (let part = 0; part < 2; part++) {
    for (let k = 0; k < height; k++) {
      for (let c = 0; c < channels; c++) {
        for (let l = 0; l < fw; l++) {
          const f = Math.max(freqs[k * fw + l], 1 / Math.max(height, width));
          scale[(part * height + k) * channels * fw + c * fw + l] = Math.sqrt(width * height) / f ** decayPower;
        }
      }
    }
  }
  const scaleTensor = tf.tensor2d(scale, [2 * height, channels * fw]);
  const variable = randomVariable([2 * height, channels * fw], gaussian, sd);
  return {
    variable,
    image: () => tf.tidy(() => tf.div(dft.apply(tf.mul(variable, scaleTensor) as tf.Tensor2D), 4) as tf.Tensor3D),
    dispose: () => {
      tf.dispose([variable, scaleTensor]);
      dft.dispose();
    },
  };
}

/** Plain pixels (Lucid's `naive` parameterisation), still squashed by the sigmoid afterwards. */
function pixelImage(height: number, width: number, channels: number, gaussian: () => number, sd: number): SpatialImage {
  const variable = randomVariable([height, width, channels], gaussian, sd);
  return { variable, image: () => tf.clone(variable) as tf.Tensor3D, dispose: () => variable.dispose() };
}

/** The transposed colour matrix divided by its largest column norm (Lucid's `_linear_decorelate_color`). */
function colourMatrix(): tf.Tensor2D {
  const m = COLOR_CORRELATION_SVD_SQRT;
  const maxNorm = Math.max(...[0, 1, 2].map((j) => Math.hypot(m[0][j], m[1][j], m[2][j])));
  const transposed = [0, 1, 2].map((i) => [0, 1, 2].map((j) => m[j][i] / maxNorm));
  return tf.tensor2d(transposed, [3, 3]);
}

/** A trainable variable of normal draws (the caller's seeded generator) times `sd`. */
function randomVariable(shape: number[], gaussian: () => number, sd: number): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = gaussian() * sd;
  const initial = tf.tensor(values, shape);
  const variable = tf.variable(initial, true);
  initial.dispose(); // the variable holds its own reference to the data
  return variable;
}
