/**
 * Operations on host arrays (row-major, ONNX axis order), for shape arithmetic and constant folding:
 * these values are small, and computing them in JavaScript keeps them off the accelerator.
 */
import type { Shape } from '../../../model';
import { HOST_VALUE_LIMIT, MAX_ELEMENTS, type DType, type HostData, type HostTensor } from '../tensors';
import { NotFoldable, OpError } from './types';

/** Above this many values a constant is computed by the tensor backend rather than folded in JavaScript. */
export const HOST_FOLD_LIMIT = 1 << 16;

export function elements(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/** Refuses a shape that no tensor can have: a dimension that is negative or not a whole number. */
export function checkDims(dims: readonly number[]): number[] {
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new OpError(`would make a tensor of shape [${dims.join(', ')}], which is not a valid shape`);
  return [...dims];
}

/** Refuses to make a tensor larger than any model needs (a damaged shape would exhaust memory). */
export function checkSize(dims: readonly number[]): number[] {
  checkDims(dims);
  if (!(elements(dims) <= MAX_ELEMENTS)) throw new OpError(`would make a tensor of shape [${dims.join(', ')}], which ConvLens cannot hold`);
  return [...dims];
}

export function strides(dims: readonly number[]): number[] {
  const result = new Array<number>(dims.length);
  let stride = 1;
  for (let axis = dims.length - 1; axis >= 0; axis--) {
    result[axis] = stride;
    stride *= dims[axis];
  }
  return result;
}

/**
 * Room for a fold's result. Folds compute small values (shapes, indices); a larger result, whatever
 * the size of its inputs (a Gather or a broadcast can multiply them), is left to the tensor backend,
 * which the memory budget has checked it against.
 */
export function allocate(dtype: DType, count: number): HostData {
  if (!(count <= HOST_FOLD_LIMIT)) throw new NotFoldable();
  if (dtype === 'float32') return new Float32Array(count);
  // Integers as tensors.ts keeps them: a plain array when small, else typed (wide enough for int64
  // values, and for the NaN that stands for an unknown value in a partial fold).
  return count > HOST_VALUE_LIMIT ? new Float64Array(count) : new Array<number>(count).fill(0);
}

export function host(dims: number[], dtype: DType, data: ArrayLike<number>): HostTensor {
  return {
    dims,
    dtype,
    data: dtype === 'float32' ? Float32Array.from(data) : Array.from(data, (v) => (dtype === 'bool' ? (v ? 1 : 0) : v)),
  };
}

/** A negative axis counts from the end; anything outside the rank is an error in the model. */
export function normalizeAxis(axis: number, rank: number): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(normalized) || normalized < 0 || normalized >= rank) {
    throw new OpError(`has the axis ${axis}, outside a tensor of rank ${rank}`);
  }
  return normalized;
}

/** ONNX (numpy) broadcasting of shapes; null where a dimension is not known. */
export function broadcastShapes(shapes: readonly (Shape | undefined)[]): Shape | undefined {
  if (shapes.some((shape) => shape === undefined)) return undefined;
  const rank = Math.max(0, ...shapes.map((shape) => shape!.length));
  const result: Shape = [];
  for (let i = 0; i < rank; i++) {
    let dim: number | null = 1;
    let unknown = false;
    for (const shape of shapes) {
      const d = shape![shape!.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (d === null) unknown = true;
      else if (dim === 1 || dim === null) dim = d;
      else if (dim !== d) throw new OpError(`cannot broadcast shapes ${shapes.map((s) => `[${s!.join(', ')}]`).join(' and ')}`);
    }
    result.push(unknown && dim === 1 ? null : dim);
  }
  return result;
}

/** Applies `fn` elementwise over broadcast inputs. */
export function broadcastMap(inputs: readonly HostTensor[], dtype: DType, fn: (...values: number[]) => number): HostTensor {
  const dims = broadcastShapes(inputs.map((input) => input.dims)) as number[];
  const count = elements(dims);
  const out = allocate(dtype, count);
  const outStrides = strides(dims);
  // For each input, the stride to use along each output axis (0 where it is broadcast).
  const inputStrides = inputs.map((input) => {
    const own = strides(input.dims);
    const offset = dims.length - input.dims.length;
    return dims.map((_, axis) => (axis < offset || input.dims[axis - offset] === 1 ? 0 : own[axis - offset]));
  });
  const values = new Array<number>(inputs.length);
  for (let index = 0; index < count; index++) {
    let rest = index;
    const positions = new Array<number>(inputs.length).fill(0);
    for (let axis = 0; axis < dims.length; axis++) {
      const coordinate = Math.floor(rest / outStrides[axis]);
      rest -= coordinate * outStrides[axis];
      for (let k = 0; k < inputs.length; k++) positions[k] += coordinate * inputStrides[k][axis];
    }
    for (let k = 0; k < inputs.length; k++) values[k] = inputs[k].data[positions[k]];
    out[index] = fn(...values);
  }
  return { dims, dtype, data: out };
}

/** Gathers along `axis`: out.shape = data.shape[:axis] + indices.shape + data.shape[axis+1:]. */
export function gather(data: HostTensor, indices: HostTensor, axis: number): HostTensor {
  const size = data.dims[axis];
  const outer = elements(data.dims.slice(0, axis));
  const inner = elements(data.dims.slice(axis + 1));
  // Before the indices are copied.
  if (!(outer * indices.data.length * inner <= HOST_FOLD_LIMIT)) throw new NotFoldable();
  const picks = Array.from(indices.data, (i) => {
    const index = i < 0 ? i + size : i;
    if (!(index >= 0 && index < size)) throw new OpError(`gathers index ${i} from an axis of size ${size}`);
    return index;
  });
  const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const out = allocate(data.dtype, outer * picks.length * inner);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (const pick of picks) {
      const base = (o * size + pick) * inner;
      for (let i = 0; i < inner; i++) out[k++] = data.data[base + i];
    }
  }
  return { dims, dtype: data.dtype, data: out };
}

/** Picks `indices` (already in range) along `axis`. */
export function take(data: HostTensor, axis: number, indices: readonly number[]): HostTensor {
  return gather(data, { dims: [indices.length], dtype: 'int32', data: [...indices] }, axis);
}

export function concat(parts: readonly HostTensor[], axis: number): HostTensor {
  const first = parts[0];
  const dims = [...first.dims];
  dims[axis] = parts.reduce((n, part) => n + part.dims[axis], 0);
  const outer = elements(dims.slice(0, axis));
  const dtype = first.dtype;
  const out = allocate(dtype, elements(dims));
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (const part of parts) {
      const block = elements(part.dims.slice(axis));
      for (let i = 0; i < block; i++) out[k++] = part.data[o * block + i];
    }
  }
  return { dims, dtype, data: out };
}

export function transpose(data: HostTensor, perm: readonly number[]): HostTensor {
  const dims = perm.map((axis) => data.dims[axis]);
  const inStrides = strides(data.dims);
  const outStrides = strides(dims);
  const count = elements(dims);
  const out = allocate(data.dtype, count);
  for (let index = 0; index < count; index++) {
    let rest = index;
    let source = 0;
    for (let axis = 0; axis < dims.length; axis++) {
      const coordinate = Math.floor(rest / outStrides[axis]);
      rest -= coordinate * outStrides[axis];
      source += coordinate * inStrides[perm[axis]];
    }
    out[index] = data.data[source];
  }
  return { dims, dtype: data.dtype, data: out };
}

/** The same values under other dimensions. */
export function relabel(data: HostTensor, dims: number[]): HostTensor {
  return { dims, dtype: data.dtype, data: data.data };
}

export function toNumbers(data: HostTensor): number[] {
  return Array.from(data.data);
}

/** The one value of a scalar or one-element tensor. */
export function scalar(data: HostTensor, what: string): number {
  if (data.data.length !== 1) throw new OpError(`takes a single value as its ${what}, not ${data.data.length}`);
  return data.data[0];
}
