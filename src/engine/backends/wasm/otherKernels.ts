/** The WebAssembly backend's other gradient kernels ConvLens replaces or adds (see index.ts for why). */
import { backend_util, type DataId, type KernelBackend, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { withCalls } from './kernelCalls';

export function unsortedSegmentSum(): KernelFunc {
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
      const oneHot = calls.run(
        'Cast',
        { x: calls.run('OneHot', { indices: ids }, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' }) },
        { dtype: x.dtype },
      );
      const flat = calls.reshape(x, [1, rows, width]);
      const product = calls.run(
        'BatchMatMul',
        { a: calls.reshape(oneHot, [1, rows, numSegments]), b: flat },
        { transposeA: true, transposeB: false },
      );
      return calls.reshape(product, [numSegments, ...rest]);
    });
  };
}

/** The gradient of max pooling: each window's gradient goes to its first largest input (row-major). */
export const maxPoolGrad: KernelFunc = ({ inputs, backend: kernelBackend, attrs }) => {
  const backend = kernelBackend as KernelBackend;
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
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
export const identity: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  (backend as KernelBackend).incRef(x.dataId as DataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};
