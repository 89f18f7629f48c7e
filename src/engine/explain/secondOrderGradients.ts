/**
 * What differentiating a gradient a second time (ShapleyCAM's Hessian-vector product) needs from
 * TensorFlow.js beyond its own gradients. All of it is exact:
 *  - Gradients for the kernels TensorFlow.js's gradients are made of and that have none themselves.
 *    Comparisons and logical operations (the masks of ReLU6, clipping, maxima, leaky ReLU) are piecewise
 *    constant: their derivative is zero. The backward kernels of pooling, depthwise convolution and resizing
 *    are linear in the incoming gradient: their derivative is the adjoint, the forward operation (for max
 *    pooling, the value at each window's maximum, the first in row-major order as ConvLens's MaxPoolGrad
 *    sends it); in the saved activations they are piecewise constant, so zero. EluGrad (dy · (y + 1) where
 *    y < 0, else dy) is linear in dy, and its derivative in y is dy where y < 0.
 *  - Sigmoid, tanh, exp, ELU and softmax gradients that recompute the output from the saved input.
 *    TensorFlow.js's reuse the saved output, a copy its tape records before the operation itself, so a
 *    second differentiation does not see it depend on the input and takes their curvature as zero.
 * The replacements hold for the call only, as withDeconvnetRelus's do (gradients.ts).
 */
import * as tf from '@tensorflow/tfjs-core';

/** A zero derivative in `x`, float32 whatever x's dtype, as the tape requires. */
const zeroGradient = (x: tf.Tensor) => tf.zeros(x.shape);

/** Kernels whose output is piecewise constant in every input, with their input names. */
const PIECEWISE_CONSTANT: readonly [string, readonly string[]][] = [
  ['Equal', ['a', 'b']],
  ['NotEqual', ['a', 'b']],
  ['Less', ['a', 'b']],
  ['LessEqual', ['a', 'b']],
  ['Greater', ['a', 'b']],
  ['GreaterEqual', ['a', 'b']],
  ['LogicalAnd', ['a', 'b']],
  ['LogicalOr', ['a', 'b']],
  ['LogicalNot', ['x']],
];

/**
 * Runs `compute` (which must take its gradients synchronously, as `tf.grad` does) with gradients that can
 * be differentiated again; the gradients in place before are put back.
 */
export function withSecondOrderGradients<T>(compute: () => T): T {
  const configs = [...missingGradients(), ...outputRecomputingGradients()];
  const own = configs.map((config) => tf.getGradient(config.kernelName));
  configs.forEach((config) => tf.registerGradient(config));
  try {
    return compute();
  } finally {
    // A kernel that had none keeps the new one (TensorFlow.js cannot unregister a gradient): it only adds
    // a derivative where differentiating used to fail.
    own.forEach((config) => config && tf.registerGradient(config));
  }
}

/** Gradients of kernels that have none in TensorFlow.js. */
function missingGradients(): tf.GradConfig[] {
  const configs: tf.GradConfig[] = PIECEWISE_CONSTANT.map(([kernelName, inputs]) => ({
    kernelName,
    inputsToSave: [...inputs],
    gradFunc: (_dy, saved) => Object.fromEntries(inputs.map((name, i) => [name, () => zeroGradient(saved[i])])),
  }));
  configs.push(
    {
      kernelName: 'MaxPoolGrad',
      inputsToSave: ['dy', 'input', 'output'],
      gradFunc: (dy, saved, attrs) => {
        const [, input, output] = saved;
        return {
          dy: () => valueAtWindowMaxima(dy as tf.Tensor4D, input as tf.Tensor4D, attrs as unknown as PoolAttributes),
          input: () => zeroGradient(input),
          output: () => zeroGradient(output),
        };
      },
    },
    {
      kernelName: 'AvgPoolGrad',
      inputsToSave: ['input'],
      gradFunc: (dy, saved, attrs) => {
        const [input] = saved;
        const { filterSize, strides, pad } = attrs as unknown as PoolAttributes;
        return {
          dy: () => averagePoolAdjoint(dy as tf.Tensor4D, input as tf.Tensor4D, filterSize, strides, pad),
          input: () => zeroGradient(input),
        };
      },
    },
    {
      kernelName: 'DepthwiseConv2dNativeBackpropInput',
      inputsToSave: ['filter'],
      gradFunc: (dy, saved, attrs) => {
        const [filter] = saved;
        const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as ConvAttributes;
        return {
          dy: () => tf.depthwiseConv2d(dy as tf.Tensor4D, filter as tf.Tensor4D, strides, pad, 'NHWC', dilations ?? 1, dimRoundingMode),
        };
      },
    },
    {
      kernelName: 'EluGrad',
      inputsToSave: ['dy', 'y'],
      gradFunc: (upstream, saved) => {
        const [dy, y] = saved;
        const u = upstream as tf.Tensor;
        return {
          dy: () => eluGrad(u, y),
          y: () => tf.mul(tf.mul(u, dy), tf.cast(tf.less(y, 0), 'float32')),
        };
      },
    },
  );
  for (const [kernelName, resize] of [
    ['ResizeBilinearGrad', tf.image.resizeBilinear],
    ['ResizeNearestNeighborGrad', tf.image.resizeNearestNeighbor],
  ] as const) {
    configs.push({
      kernelName,
      inputsToSave: ['images', 'dy'],
      gradFunc: (dy, saved, attrs) => {
        const [images, forwardGradient] = saved;
        const { alignCorners, halfPixelCenters } = attrs as unknown as { alignCorners: boolean; halfPixelCenters: boolean };
        const [, height, width] = forwardGradient.shape;
        return {
          dy: () => resize(dy as tf.Tensor4D, [height, width], alignCorners, halfPixelCenters),
          images: () => zeroGradient(images),
        };
      },
    });
  }
  return configs;
}

/** TensorFlow.js's gradients of sigmoid, tanh, exp, ELU and softmax, the output recomputed from the input. */
function outputRecomputingGradients(): tf.GradConfig[] {
  const unary = (kernelName: string, derivative: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): tf.GradConfig => ({
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => derivative(dy as tf.Tensor, saved[0]) }),
  });
  return [
    unary('Sigmoid', (dy, x) => {
      const y = tf.sigmoid(x);
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    }),
    unary('Tanh', (dy, x) => tf.mul(tf.sub(1, tf.square(tf.tanh(x))), dy)),
    unary('Exp', (dy, x) => tf.mul(dy, tf.exp(x))),
    unary('Elu', (dy, x) => eluGrad(dy, tf.elu(x))),
    {
      kernelName: 'Softmax',
      inputsToSave: ['logits'],
      gradFunc: (dy, saved, attrs) => {
        const { dim } = attrs as unknown as { dim: number };
        return {
          logits: () => {
            const y = tf.softmax(saved[0], dim);
            const dyTimesY = tf.mul(dy as tf.Tensor, y);
            return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
          },
        };
      },
    },
  ];
}

/** TensorFlow.js's EluGrad kernel: dy · (y + 1) where y < 0, else dy. */
function eluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel('EluGrad', { dy, y }) as tf.Tensor;
}

interface PoolAttributes {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface ConvAttributes {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Each window's slices of a padded tensor, one per offset in the window, row-major: [batch, outH, outW, c] each. */
function windowSlices(padded: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D[] {
  const { batchSize, outHeight, outWidth, inChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const slices: tf.Tensor4D[] = [];
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      const end = [batchSize, i + (outHeight - 1) * strideHeight + 1, j + (outWidth - 1) * strideWidth + 1, inChannels];
      slices.push(tf.stridedSlice(padded, [0, i, j, 0], end, [1, strideHeight, strideWidth, 1]) as tf.Tensor4D);
    }
  }
  return slices;
}

function paddingOf(info: tf.backend_util.Conv2DInfo): [number, number][] {
  const { top, bottom, left, right } = info.padInfo;
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * The adjoint of MaxPoolGrad in its incoming gradient: per window, `u` where `input` is largest (the
 * first such position, row-major).
 */
function valueAtWindowMaxima(u: tf.Tensor4D, input: tf.Tensor4D, attrs: PoolAttributes): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computePool2DInfo(input.shape, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const values = windowSlices(tf.pad(input, paddingOf(info), -Infinity), info);
    const picks = windowSlices(tf.pad(u, paddingOf(info)), info);
    let best = values[0];
    let picked = picks[0];
    for (let k = 1; k < values.length; k++) {
      const larger = tf.greater(values[k], best);
      best = tf.where(larger, values[k], best);
      picked = tf.where(larger, picks[k], picked);
    }
    return picked;
  });
}

/**
 * The adjoint of AvgPoolGrad in its incoming gradient: each window's sum over the window's size. Without
 * padding that is average pooling itself; where padding cuts a window, TensorFlow.js's AvgPoolGrad still
 * divides by the whole window (its average pooling, by the part inside), and this is its exact adjoint.
 */
function averagePoolAdjoint(
  u: tf.Tensor4D,
  input: tf.Tensor4D,
  filterSize: PoolAttributes['filterSize'],
  strides: PoolAttributes['strides'],
  pad: PoolAttributes['pad'],
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computePool2DInfo(input.shape, filterSize, strides, 1, pad);
    const slices = windowSlices(tf.pad(u, paddingOf(info)), info);
    return tf.div(tf.addN(slices), info.filterHeight * info.filterWidth) as tf.Tensor4D;
  });
}
