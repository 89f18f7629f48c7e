/**
 * Kernels the TensorFlow.js WebAssembly backend lacks, or has only as slow reference loops, for what the
 * explanation methods differentiate. Each is written on the backend's own XNNPACK-backed kernels:
 *  - Conv2DBackpropInput (every input gradient through a convolution): the backend's loop took 80% of a
 *    ResNet-18 saliency map; as a matrix product and col2im it runs at the forward convolution's speed.
 *  - DepthwiseConv2dNativeBackpropInput (MobileNets, EfficientNets): missing, the same way round.
 *  - Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter: missing. The explanations never need
 *    a filter's gradient, but the gradient of a fused convolution (TensorFlow.js graph models) computes it
 *    anyway: as a dilated convolution of the input by the output gradient, and (depthwise, small) in JS.
 *  - UnsortedSegmentSum (the gradient of Gather, which attention models and embeddings use): missing,
 *    as a one-hot matrix product.
 *  - MaxPoolGrad: the backend's sends a window's gradient to the last of equal maxima; PyTorch and the
 *    other backends send it to the first (post-ReLU windows tie often), so maps would differ by backend.
 *  - Identity: shares its input instead of copying it.
 * Registered once, for the 'wasm' backend only; the other backends keep their own.
 */
import {
  backend_util,
  type DataId,
  findBackend,
  getKernel,
  type KernelBackend,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  registerKernel,
  type TensorInfo,
  unregisterKernel,
} from '@tensorflow/tfjs-core';

const BACKEND = 'wasm';

/** Runs the backend's registered kernels, freeing every intermediate result it made unless kept. */
class KernelCalls {
  private readonly made: TensorInfo[] = [];
  constructor(private readonly backend: KernelBackend) {}

  run(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(name, BACKEND);
    if (!kernel) throw new Error(`the WebAssembly backend has no ${name} kernel`);
    const output = kernel.kernelFunc({ inputs, attrs, backend: this.backend }) as TensorInfo;
    this.made.push(output);
    return output;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Frees everything made except `result`, which the caller hands on. */
  finish(result: TensorInfo): TensorInfo {
    for (const info of this.made) if (info !== result) this.backend.disposeData(info.dataId as DataId);
    return result;
  }

  /** Frees everything made (on failure, or when the results were read back). */
  freeAll(): void {
    for (const info of this.made) this.backend.disposeData(info.dataId as DataId);
  }
}

function withCalls(backend: KernelBackend, body: (calls: KernelCalls) => TensorInfo): TensorInfo {
  const calls = new KernelCalls(backend);
  try {
    return calls.finish(body(calls));
  } catch (error) {
    calls.freeAll();
    throw error;
  }
}

/**
 * dy [n, oh, ow, c] spread to [n, (oh-1)·sh+1, (ow-1)·sw+1, c] with zeros between rows and columns:
 * a strided convolution's gradient is a stride-1 convolution of this.
 */
function dilateSpatially(calls: KernelCalls, dy: TensorInfo, strideHeight: number, strideWidth: number): TensorInfo {
  if (strideHeight === 1 && strideWidth === 1) return dy;
  const [n, oh, ow, c] = dy.shape;
  const spread = calls.run('PadV2', { x: calls.reshape(dy, [n, oh, 1, ow, 1, c]) }, {
    paddings: [[0, 0], [0, 0], [0, strideHeight - 1], [0, 0], [0, strideWidth - 1], [0, 0]],
    constantValue: 0,
  });
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
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

/**
 * Filters rearranged for the gradient kernels, kept while their filter lives: rearranging in the backend
 * (Reverse, Transpose) took longer than the product itself, and a fresh filter makes XNNPACK pack it
 * again. Freed with their filter (see `freeWithFilters`).
 *  - `outputRows`: W[a, b, i, o] as the matrix [o, (a·fw + b)·in + i].
 *  - `flipped`: W[a, b, i, o] → W'[fh-1-a, fw-1-b, o, i].
 *  - `flippedDepthwise`: W[a, b, c, m] → W'[fh-1-a, fw-1-b, c·M + m, 0].
 */
type FilterForm = 'outputRows' | 'flipped' | 'flippedDepthwise';
const derivedFilters = new Map<DataId, Map<FilterForm, TensorInfo>>();

function derivedFilter(backend: KernelBackend, filter: TensorInfo, form: FilterForm): TensorInfo {
  const cached = derivedFilters.get(filter.dataId)?.get(form);
  if (cached) return cached;
  const [fh, fw, inner, outer] = filter.shape;
  const source = backend.readSync(filter.dataId) as Float32Array;
  const values = new Float32Array(source.length);
  let shape: number[];
  if (form === 'outputRows') {
    const columns = fh * fw * inner;
    for (let k = 0; k < columns; k++) for (let o = 0; o < outer; o++) values[o * columns + k] = source[k * outer + o];
    shape = [outer, columns];
  } else if (form === 'flipped') {
    for (let a = 0; a < fh; a++) {
      for (let b = 0; b < fw; b++) {
        const from = (a * fw + b) * inner * outer;
        const to = ((fh - 1 - a) * fw + (fw - 1 - b)) * inner * outer;
        for (let i = 0; i < inner; i++) for (let o = 0; o < outer; o++) values[to + o * inner + i] = source[from + i * outer + o];
      }
    }
    shape = [fh, fw, outer, inner];
  } else {
    const tap = inner * outer;
    for (let a = 0; a < fh; a++) {
      for (let b = 0; b < fw; b++) values.set(source.subarray((a * fw + b) * tap, (a * fw + b + 1) * tap), ((fh - 1 - a) * fw + (fw - 1 - b)) * tap);
    }
    shape = [fh, fw, tap, 1];
  }
  const info: TensorInfo = { dataId: backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
  const forms = derivedFilters.get(filter.dataId) ?? new Map<FilterForm, TensorInfo>();
  forms.set(form, info);
  derivedFilters.set(filter.dataId, forms);
  return info;
}

/** Frees a filter's rearranged copies when the backend frees the filter itself. */
function freeWithFilters(backend: KernelBackend): void {
  const disposeData = backend.disposeData.bind(backend);
  backend.disposeData = (dataId: DataId, force?: boolean): boolean => {
    const freed = disposeData(dataId, force);
    const forms = freed ? derivedFilters.get(dataId) : undefined;
    if (forms) {
      derivedFilters.delete(dataId);
      for (const info of forms.values()) disposeData(info.dataId, true);
    }
    return freed;
  };
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
function conv2dBackpropInput(reference: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as KernelBackend;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      inputShape: [number, number, number, number];
    };
    const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
    if (info.dataFormat !== 'channelsLast') return reference(args);
    const padding = info.strideHeight === 1 && info.strideWidth === 1 ? transposedPadding(info) : null;
    if (padding) {
      const flipped = derivedFilter(backend, filter, 'flipped');
      return withCalls(backend, (calls) => calls.run('Conv2D', { x: dy, filter: flipped }, { strides: 1, pad: padding, dataFormat: 'NHWC', dilations: 1 }));
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
        const product = calls.run('BatchMatMul', { a: calls.reshape(part, [1, count * outHeight * outWidth, outChannels]), b: calls.reshape(rows, [1, outChannels, columns]) }, { transposeA: false, transposeB: false });
        columnsToImage(backend.readSync(product.dataId) as Float32Array, info, start, count, dx);
      } finally {
        calls.freeAll();
      }
    }
    return { dataId: backend.write(dx, inputShape, 'float32'), shape: inputShape, dtype: 'float32' };
  };
}

/** col2im: adds each output position's column [(a·fw + b)·in + i] into the input positions its window read. */
function columnsToImage(columns: Float32Array, info: backend_util.Conv2DInfo, firstImage: number, images: number, dx: Float32Array): void {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
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

function depthwiseConv2dBackpropInput(): KernelFunc {
  return ({ inputs, backend: kernelBackend, attrs }) => {
    const backend = kernelBackend as KernelBackend;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as {
      strides: [number, number] | number;
      dilations: [number, number] | number;
      pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      inputShape: [number, number, number, number];
    };
    const [, , channels, multiplier] = filter.shape;
    const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
    const padding = transposedPadding(info);
    if (!padding) throw new Error('the WebAssembly backend cannot differentiate a depthwise convolution padded wider than its filter');
    return withCalls(backend, (calls) => {
      // Each of the c·m output channels is a one-channel convolution of input channel c: transposed, every
      // output channel goes back through its own flipped kernel, and the m results of an input channel add up.
      const flipped = derivedFilter(backend, filter, 'flippedDepthwise');
      const spread = dilateSpatially(calls, dy, info.strideHeight, info.strideWidth);
      const each = calls.run('DepthwiseConv2dNative', { x: spread, filter: flipped }, { strides: 1, pad: padding, dilations: [info.dilationHeight, info.dilationWidth] });
      if (multiplier === 1) return each;
      const [n, h, w] = each.shape;
      return calls.run('Sum', { x: calls.reshape(each, [n, h, w, channels, multiplier]) }, { axis: [4], keepDims: false });
    });
  };
}

/** Where a forward convolution's padding leaves rows at the end unread, the gradient slices them off. */
function readExtent(inSize: number, padBefore: number, filterSize: number, outSize: number, stride: number): { padAfter: number; used: number } {
  const padAfter = filterSize + (outSize - 1) * stride - inSize - padBefore;
  return padAfter >= 0 ? { padAfter, used: inSize } : { padAfter: 0, used: inSize + padAfter };
}

/** dW[a, b, i, o] = Σ x[n, a + s·y − pad, b + s·x − pad, i] · dy[n, y, x, o]: a convolution of x, batch and channels swapped, by dy dilated by the stride. */
function conv2dBackpropFilter(): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    if (dataFormat === 'NCHW') throw new Error('the WebAssembly backend differentiates channels-last convolutions only');
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
    const rows = readExtent(info.inHeight, info.padInfo.top, info.filterHeight, info.outHeight, info.strideHeight);
    const columns = readExtent(info.inWidth, info.padInfo.left, info.filterWidth, info.outWidth, info.strideWidth);
    return withCalls(backend as KernelBackend, (calls) => {
      const read = rows.used === info.inHeight && columns.used === info.inWidth ? x : calls.run('Slice', { x }, { begin: [0, 0, 0, 0], size: [-1, rows.used, columns.used, -1] });
      const channelsAsBatch = calls.run('Transpose', { x: read }, { perm: [3, 1, 2, 0] });
      const gradientAsFilter = calls.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
      const padding = [[0, 0], [info.padInfo.top, rows.padAfter], [info.padInfo.left, columns.padAfter], [0, 0]];
      const product = calls.run('Conv2D', { x: channelsAsBatch, filter: gradientAsFilter }, { strides: 1, pad: padding, dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth] });
      return calls.run('Transpose', { x: product }, { perm: [1, 2, 0, 3] });
    });
  };
}

/** dW[a, b, c, m] = Σ x[n, a·d + s·y − pad, b·d + s·x − pad, c] · dy[n, y, x, c·M + m], summed in JS (depthwise filters are small). */
function depthwiseConv2dBackpropFilter(): KernelFunc {
  return ({ inputs, backend: kernelBackend, attrs }) => {
    const backend = kernelBackend as KernelBackend;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: [number, number] | number;
      dilations: [number, number] | number;
      pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
    const [fh, fw, channels, multiplier] = filterShape;
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
    return { dataId: backend.write(dw, filterShape, 'float32'), shape: filterShape, dtype: 'float32' };
  };
}

function unsortedSegmentSum(): KernelFunc {
  return ({ inputs, backend: kernelBackend, attrs }) => {
    const backend = kernelBackend as KernelBackend;
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    return withCalls(backend, (calls) => {
      // sum_i [ids_i = s] · x_i for every segment s: a [segments, n] one-hot matrix times x as [n, rest].
      const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
      const rest = x.shape.slice(segmentIds.shape.length);
      const width = rest.reduce((a, b) => a * b, 1);
      const ids = calls.reshape(segmentIds, [rows]);
      // The backend's OneHot writes zeros when asked for floats: made as int32, then cast.
      const oneHot = calls.run('Cast', { x: calls.run('OneHot', { indices: ids }, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' }) }, { dtype: x.dtype });
      const flat = calls.reshape(x, [1, rows, width]);
      const product = calls.run('BatchMatMul', { a: calls.reshape(oneHot, [1, rows, numSegments]), b: flat }, { transposeA: true, transposeB: false });
      return calls.reshape(product, [numSegments, ...rest]);
    });
  };
}

/** The gradient of max pooling: each window's gradient goes to its first largest input (row-major). */
const maxPoolGrad: KernelFunc = ({ inputs, backend: kernelBackend, attrs }) => {
  const backend = kernelBackend as KernelBackend;
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const x = backend.readSync(input.dataId) as Float32Array;
  const gradient = backend.readSync(dy.dataId) as Float32Array;
  const dx = new Float32Array(x.length);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const best = new Float32Array(channels);
  const at = new Int32Array(channels);
  for (let b = 0; b < batchSize; b++) {
    for (let r = 0; r < outHeight; r++) {
      const rowStart = Math.max(0, r * info.strideHeight - info.padInfo.top);
      const rowEnd = Math.min(inHeight, r * info.strideHeight - info.padInfo.top + info.filterHeight);
      for (let c = 0; c < outWidth; c++) {
        const colStart = Math.max(0, c * info.strideWidth - info.padInfo.left);
        const colEnd = Math.min(inWidth, c * info.strideWidth - info.padInfo.left + info.filterWidth);
        // Window positions in row-major order, channels innermost (contiguous); `>` keeps the first maximum.
        best.fill(-Infinity);
        at.fill(-1);
        for (let i = rowStart; i < rowEnd; i++) {
          for (let j = colStart; j < colEnd; j++) {
            const base = ((b * inHeight + i) * inWidth + j) * channels;
            for (let d = 0; d < channels; d++) {
              if (x[base + d] > best[d] || at[d] < 0) {
                best[d] = x[base + d];
                at[d] = base + d;
              }
            }
          }
        }
        const out = ((b * outHeight + r) * outWidth + c) * channels;
        for (let d = 0; d < channels; d++) if (at[d] >= 0) dx[at[d]] += gradient[out + d];
      }
    }
  }
  return { dataId: backend.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
};

/**
 * Identity shares its input's buffer, as the CPU and WebGL backends' do; the backend's own copies it.
 * Every tensor a gradient keeps for the backward pass goes through Identity, so the copy cost a tenth
 * of a forward pass and gave each kept filter a new buffer (never found in `derivedFilters`).
 * Safe: no kernel writes into its inputs, and variables are reassigned, not overwritten.
 */
const identity: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  (backend as KernelBackend).incRef(x.dataId as DataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

let registered = false;

/** Registers the kernels above for the 'wasm' backend, once; call after the backend has started. */
export function registerWasmKernels(): void {
  if (registered) return;
  const backend = findBackend(BACKEND);
  if (!backend) throw new Error('the WebAssembly backend must start before its kernels are added');
  registered = true;
  freeWithFilters(backend);
  const reference = getKernel('Conv2DBackpropInput', BACKEND);
  if (reference) {
    unregisterKernel('Conv2DBackpropInput', BACKEND);
    registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2dBackpropInput(reference.kernelFunc) });
  }
  unregisterKernel('MaxPoolGrad', BACKEND);
  registerKernel({ kernelName: 'MaxPoolGrad', backendName: BACKEND, kernelFunc: maxPoolGrad });
  unregisterKernel('Identity', BACKEND);
  registerKernel({ kernelName: 'Identity', backendName: BACKEND, kernelFunc: identity });
  if (!getKernel('DepthwiseConv2dNativeBackpropInput', BACKEND)) {
    registerKernel({ kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: BACKEND, kernelFunc: depthwiseConv2dBackpropInput() });
  }
  if (!getKernel('Conv2DBackpropFilter', BACKEND)) {
    registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2dBackpropFilter() });
  }
  if (!getKernel('DepthwiseConv2dNativeBackpropFilter', BACKEND)) {
    registerKernel({ kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: BACKEND, kernelFunc: depthwiseConv2dBackpropFilter() });
  }
  if (!getKernel('UnsortedSegmentSum', BACKEND)) {
    registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: BACKEND, kernelFunc: unsortedSegmentSum() });
  }
}
