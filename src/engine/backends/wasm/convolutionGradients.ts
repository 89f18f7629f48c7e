/**
 * The gradients of convolutions the WebAssembly backend lacks or runs as slow reference loops, written on
 * its own XNNPACK-backed kernels (see index.ts for why each is here).
 */
import { backend_util, type KernelBackend, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { derivedFilter } from './derivedFilters';
import { KernelCalls, withCalls } from './kernelCalls';

type Shape4 = [number, number, number, number];

/** What the four convolution gradient kernels are given: `dilations` and `dataFormat` only where the op has them. */
interface ConvolutionAttrs {
  strides: [number, number] | number;
  dilations?: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape?: Shape4;
  filterShape?: Shape4;
}

/** The forward convolution's geometry, from a gradient kernel's attributes. */
function convolutionInfo(
  attrs: NamedAttrMap | undefined,
  inputShape: Shape4,
  filterShape: Shape4,
  depthwise: boolean,
): backend_util.Conv2DInfo {
  const { strides, dilations = 1, pad, dataFormat = 'NHWC', dimRoundingMode } = attrs as unknown as ConvolutionAttrs;
  return backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
}

/**
 * dy [n, oh, ow, c] spread to [n, (oh-1)·sh+1, (ow-1)·sw+1, c] with zeros between rows and columns:
 * a strided convolution's gradient is a stride-1 convolution of this.
 */
function dilateSpatially(calls: KernelCalls, dy: TensorInfo, strideHeight: number, strideWidth: number): TensorInfo {
  if (strideHeight === 1 && strideWidth === 1) return dy;
  const [n, oh, ow, c] = dy.shape;
  const spread = calls.run(
    'PadV2',
    { x: calls.reshape(dy, [n, oh, 1, ow, 1, c]) },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, strideHeight - 1],
        [0, 0],
        [0, strideWidth - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  const full = calls.reshape(spread, [n, oh * strideHeight, ow * strideWidth, c]);
  return calls.run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [n, (oh - 1) * strideHeight + 1, (ow - 1) * strideWidth + 1, c] });
}

/**
 * The explicit padding that makes a stride-1 convolution of the dilated gradient with the flipped
 * filter produce exactly the input's rows and columns; null where the forward convolution's padding
 * exceeds the filter (never for the padding modes models use), so the caller keeps the reference kernel.
 */
function transposedPadding(info: backend_util.Conv2DInfo): [number, number][] | null {
  const effectiveHeight = info.effectiveFilterHeight;
  const effectiveWidth = info.effectiveFilterWidth;
  const top = effectiveHeight - 1 - info.padInfo.top;
  const left = effectiveWidth - 1 - info.padInfo.left;
  const dilatedHeight = (info.outHeight - 1) * info.strideHeight + 1;
  const dilatedWidth = (info.outWidth - 1) * info.strideWidth + 1;
  const bottom = info.inHeight + effectiveHeight - 1 - top - dilatedHeight;
  const right = info.inWidth + effectiveWidth - 1 - left - dilatedWidth;
  if (Math.min(top, left, bottom, right) < 0) return null;
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** The column matrix of one batch chunk stays under this many values (64 MB). */
const MAX_COLUMN_VALUES = 1 << 24;

/**
 * The input gradient of a convolution. With stride 1 it is a convolution of dy with the flipped filter, in
 * and out swapped, at the forward convolution's speed. A strided one would need zeros between dy's rows
 * and columns (4× the work at stride 2), so it is one matrix product and a scatter instead: the columns
 * dy · Wᵀ hold, for every output position, what it sends back to each input position its window read
 * (the transpose of im2col), and col2im adds them up.
 */
export function conv2dBackpropInput(reference: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as KernelBackend;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { inputShape } = attrs as unknown as ConvolutionAttrs;
    const info = convolutionInfo(attrs, inputShape!, filter.shape as Shape4, false);
    if (info.dataFormat !== 'channelsLast') return reference(args);
    const padding = info.strideHeight === 1 && info.strideWidth === 1 ? transposedPadding(info) : null;
    if (padding) {
      const flipped = derivedFilter(backend, filter, 'flipped');
      return withCalls(backend, (calls) =>
        calls.run('Conv2D', { x: dy, filter: flipped }, { strides: 1, pad: padding, dataFormat: 'NHWC', dilations: 1 }),
      );
    }
    const rows = derivedFilter(backend, filter, 'outputRows');
    const [batch, outHeight, outWidth, outChannels] = dy.shape;
    const [, columns] = rows.shape;
    const dx = new Float32Array(batch * info.inHeight * info.inWidth * info.inChannels);
    const chunk = Math.max(1, Math.floor(MAX_COLUMN_VALUES / (outHeight * outWidth * columns)));
    for (let start = 0; start < batch; start += chunk) {
      const count = Math.min(chunk, batch - start);
      const calls = new KernelCalls(backend);
      try {
        const part = count === batch ? dy : calls.run('Slice', { x: dy }, { begin: [start, 0, 0, 0], size: [count, -1, -1, -1] });
        const product = calls.run(
          'BatchMatMul',
          { a: calls.reshape(part, [1, count * outHeight * outWidth, outChannels]), b: calls.reshape(rows, [1, outChannels, columns]) },
          { transposeA: false, transposeB: false },
        );
        columnsToImage(backend.readSync(product.dataId) as Float32Array, info, start, count, dx);
      } finally {
        calls.freeAll();
      }
    }
    return { dataId: backend.write(dx, inputShape!, 'float32'), shape: inputShape!, dtype: 'float32' };
  };
}

/** col2im: adds each output position's column [(a·fw + b)·in + i] into the input positions its window read. */
function columnsToImage(columns: Float32Array, info: backend_util.Conv2DInfo, firstImage: number, images: number, dx: Float32Array): void {
  const {
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
  } = info;
  const width = filterHeight * filterWidth * inChannels;
  let row = 0;
  for (let n = firstImage; n < firstImage + images; n++) {
    for (let y = 0; y < outHeight; y++) {
      for (let x = 0; x < outWidth; x++, row++) {
        for (let a = 0; a < filterHeight; a++) {
          const inY = y * strideHeight + a * dilationHeight - info.padInfo.top;
          if (inY < 0 || inY >= inHeight) continue;
          for (let b = 0; b < filterWidth; b++) {
            const inX = x * strideWidth + b * dilationWidth - info.padInfo.left;
            if (inX < 0 || inX >= inWidth) continue;
            const to = ((n * inHeight + inY) * inWidth + inX) * inChannels;
            const from = row * width + (a * filterWidth + b) * inChannels;
            for (let i = 0; i < inChannels; i++) dx[to + i] += columns[from + i];
          }
        }
      }
    }
  }
}

export function depthwiseConv2dBackpropInput(): KernelFunc {
  return ({ inputs, backend: kernelBackend, attrs }) => {
    const backend = kernelBackend as KernelBackend;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { inputShape } = attrs as unknown as ConvolutionAttrs;
    const [, , channels, multiplier] = filter.shape;
    const info = convolutionInfo(attrs, inputShape!, filter.shape as Shape4, true);
    const padding = transposedPadding(info);
    if (!padding) throw new Error('the WebAssembly backend cannot differentiate a depthwise convolution padded wider than its filter');
    return withCalls(backend, (calls) => {
      // Each of the c·m output channels is a one-channel convolution of input channel c: transposed, every
      // output channel goes back through its own flipped kernel, and the m results of an input channel add up.
      const flipped = derivedFilter(backend, filter, 'flippedDepthwise');
      const spread = dilateSpatially(calls, dy, info.strideHeight, info.strideWidth);
      const each = calls.run(
        'DepthwiseConv2dNative',
        { x: spread, filter: flipped },
        { strides: 1, pad: padding, dilations: [info.dilationHeight, info.dilationWidth] },
      );
      if (multiplier === 1) return each;
      const [n, h, w] = each.shape;
      return calls.run('Sum', { x: calls.reshape(each, [n, h, w, channels, multiplier]) }, { axis: [4], keepDims: false });
    });
  };
}

/** Where a forward convolution's padding leaves rows at the end unread, the gradient slices them off. */
function readExtent(
  inSize: number,
  padBefore: number,
  filterSize: number,
  outSize: number,
  stride: number,
): { padAfter: number; used: number } {
  const padAfter = filterSize + (outSize - 1) * stride - inSize - padBefore;
  return padAfter >= 0 ? { padAfter, used: inSize } : { padAfter: 0, used: inSize + padAfter };
}

/** dW[a, b, i, o] = Σ x[n, a + s·y − pad, b + s·x − pad, i] · dy[n, y, x, o]: a convolution of x, batch and channels swapped, by dy dilated by the stride. */
export function conv2dBackpropFilter(): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { filterShape } = attrs as unknown as ConvolutionAttrs;
    const info = convolutionInfo(attrs, x.shape as Shape4, filterShape!, false);
    if (info.dataFormat !== 'channelsLast') throw new Error('the WebAssembly backend differentiates channels-last convolutions only');
    const rows = readExtent(info.inHeight, info.padInfo.top, info.filterHeight, info.outHeight, info.strideHeight);
    const columns = readExtent(info.inWidth, info.padInfo.left, info.filterWidth, info.outWidth, info.strideWidth);
    return withCalls(backend as KernelBackend, (calls) => {
      const read =
        rows.used === info.inHeight && columns.used === info.inWidth
          ? x
          : calls.run('Slice', { x }, { begin: [0, 0, 0, 0], size: [-1, rows.used, columns.used, -1] });
      const channelsAsBatch = calls.run('Transpose', { x: read }, { perm: [3, 1, 2, 0] });
      const gradientAsFilter = calls.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
      const padding = [
        [0, 0],
        [info.padInfo.top, rows.padAfter],
        [info.padInfo.left, columns.padAfter],
        [0, 0],
      ];
      const product = calls.run(
        'Conv2D',
        { x: channelsAsBatch, filter: gradientAsFilter },
        { strides: 1, pad: padding, dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth] },
      );
      return calls.run('Transpose', { x: product }, { perm: [1, 2, 0, 3] });
    });
  };
}

/** dW[a, b, c, m] = Σ x[n, a·d + s·y − pad, b·d + s·x − pad, c] · dy[n, y, x, c·M + m], summed in JS (depthwise filters are small). */
export function depthwiseConv2dBackpropFilter(): KernelFunc {
  return ({ inputs, backend: kernelBackend, attrs }) => {
    const backend = kernelBackend as KernelBackend;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { filterShape } = attrs as unknown as ConvolutionAttrs;
    const info = convolutionInfo(attrs, x.shape as Shape4, filterShape!, true);
    const [fh, fw, channels, multiplier] = filterShape!;
    const input = backend.readSync(x.dataId) as Float32Array;
    const gradient = backend.readSync(dy.dataId) as Float32Array;
    const dw = new Float32Array(fh * fw * channels * multiplier);
    const outChannels = channels * multiplier;
    for (let n = 0; n < info.batchSize; n++) {
      for (let y = 0; y < info.outHeight; y++) {
        for (let xo = 0; xo < info.outWidth; xo++) {
          const g = ((n * info.outHeight + y) * info.outWidth + xo) * outChannels;
          for (let a = 0; a < fh; a++) {
            const row = y * info.strideHeight + a * info.dilationHeight - info.padInfo.top;
            if (row < 0 || row >= info.inHeight) continue;
            for (let b = 0; b < fw; b++) {
              const column = xo * info.strideWidth + b * info.dilationWidth - info.padInfo.left;
              if (column < 0 || column >= info.inWidth) continue;
              const at = ((n * info.inHeight + row) * info.inWidth + column) * channels;
              const to = (a * fw + b) * outChannels;
              for (let c = 0; c < channels; c++) {
                const value = input[at + c];
                for (let m = 0; m < multiplier; m++) dw[to + c * multiplier + m] += value * gradient[g + c * multiplier + m];
              }
            }
          }
        }
      }
    }
    return { dataId: backend.write(dw, filterShape!, 'float32'), shape: filterShape!, dtype: 'float32' };
  };
}
