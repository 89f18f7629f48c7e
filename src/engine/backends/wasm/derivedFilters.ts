import { type DataId, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Filters rearranged for the gradient kernels, kept while their filter lives: rearranging in the backend
 * (Reverse, Transpose) took longer than the product itself, and a fresh filter makes XNNPACK pack it
 * again. Freed with their filter (see `freeWithFilters`).
 *  - `outputRows`: W[a, b, i, o] as the matrix [o, (a·fw + b)·in + i].
 *  - `flipped`: W[a, b, i, o] → W'[fh-1-a, fw-1-b, o, i].
 *  - `flippedDepthwise`: W[a, b, c, m] → W'[fh-1-a, fw-1-b, c·M + m, 0].
 */
export type FilterForm = 'outputRows' | 'flipped' | 'flippedDepthwise';
const derivedFilters = new Map<DataId, Map<FilterForm, TensorInfo>>();

export function derivedFilter(backend: KernelBackend, filter: TensorInfo, form: FilterForm): TensorInfo {
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
      for (let b = 0; b < fw; b++)
        values.set(source.subarray((a * fw + b) * tap, (a * fw + b + 1) * tap), ((fh - 1 - a) * fw + (fw - 1 - b)) * tap);
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
export function freeWithFilters(backend: KernelBackend): void {
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
