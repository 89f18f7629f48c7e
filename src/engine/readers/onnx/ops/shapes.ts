/** Shape rules shared by operators: output sizes of windows, slices and reshapes, from known dims. */
import type { SpatialGeometry } from '../../../graph';
import type { Shape } from '../../../model';
import { normalizeAxis } from './host';
import { OpError, type ValueDesc } from './types';

export function rankOf(desc: ValueDesc | undefined): number | undefined {
  return desc?.shape?.length;
}

export function isFullyKnown(shape: Shape | undefined): shape is number[] {
  return shape !== undefined && shape.every((d) => d !== null);
}

export function product(dims: readonly (number | null)[]): number | null {
  let result = 1;
  for (const d of dims) {
    if (d === null) return null;
    result *= d;
  }
  return result;
}

/** The input's output description unchanged in shape and layout (elementwise operators). */
export function sameAs(desc: ValueDesc | undefined, dtype = desc?.dtype ?? 'float32'): ValueDesc {
  return { shape: desc?.shape ? [...desc.shape] : undefined, dtype, layout: desc?.layout ?? 'onnx' };
}

/** More axes than any model uses: a shape vector declaring more is damaged (and would be allocated as an array). */
export const MAX_RANK = 64;

/** A shape of `rank` dimensions, none known yet. */
export function unknownDims(rank: number): null[] {
  if (!(Number.isSafeInteger(rank) && rank >= 0 && rank <= MAX_RANK)) throw new OpError(`has a shape of ${rank} dimensions`);
  return new Array<null>(rank).fill(null);
}

export function unknownOutput(dtype: ValueDesc['dtype'] = 'float32'): ValueDesc {
  return { dtype, layout: 'onnx' };
}

/** How a convolution or pooling window covers one spatial axis. */
export interface WindowAxis {
  kernel: number;
  stride: number;
  dilation: number;
  padBegin: number;
  padEnd: number;
}

export type AutoPad = 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER';

export function autoPadOf(value: string): AutoPad {
  if (value === 'NOTSET' || value === 'VALID' || value === 'SAME_UPPER' || value === 'SAME_LOWER') return value;
  throw new OpError(`has the auto_pad "${value}", which is not one ONNX defines`);
}

/** The padding of one axis of input size `size`, as auto_pad decides it (SAME: output = ceil(size / stride)). */
export function resolvePads(axis: WindowAxis, autoPad: AutoPad, size: number): WindowAxis {
  if (autoPad === 'NOTSET') return axis;
  if (autoPad === 'VALID') return { ...axis, padBegin: 0, padEnd: 0 };
  const output = Math.ceil(size / axis.stride);
  const total = Math.max(0, (output - 1) * axis.stride + (axis.kernel - 1) * axis.dilation + 1 - size);
  const small = Math.floor(total / 2);
  return autoPad === 'SAME_UPPER'
    ? { ...axis, padBegin: small, padEnd: total - small }
    : { ...axis, padBegin: total - small, padEnd: small };
}

/**
 * The output size along one axis. With `ceilMode`, a last window that would start past the input and
 * its leading padding is dropped (as PyTorch and ONNX Runtime do).
 */
export function windowOutputSize(size: number, axis: WindowAxis, ceilMode: boolean): number {
  const span = (axis.kernel - 1) * axis.dilation + 1;
  const room = size + axis.padBegin + axis.padEnd - span;
  if (room < 0) throw new OpError(`has a window of ${span} wider than its padded input of ${size + axis.padBegin + axis.padEnd}`);
  let output = (ceilMode ? Math.ceil(room / axis.stride) : Math.floor(room / axis.stride)) + 1;
  if (ceilMode && (output - 1) * axis.stride >= size + axis.padBegin) output--;
  return output;
}

/** Window parameters of a Conv or pooling node, for `spatial` axes. */
export function windowAxes(attributes: { ints(name: string): number[] | undefined }, kernel: readonly number[]): WindowAxis[] {
  const spatial = kernel.length;
  const strides = attributes.ints('strides') ?? new Array(spatial).fill(1);
  const dilations = attributes.ints('dilations') ?? new Array(spatial).fill(1);
  const pads = attributes.ints('pads') ?? new Array(spatial * 2).fill(0);
  if (strides.length !== spatial || dilations.length !== spatial || pads.length !== spatial * 2) {
    throw new OpError(`has strides, dilations or pads that do not match its ${spatial}-D kernel`);
  }
  const axes = kernel.map((k, i) => ({
    kernel: k,
    stride: strides[i],
    dilation: dilations[i],
    padBegin: pads[i],
    padEnd: pads[i + spatial],
  }));
  for (const axis of axes) {
    const values = [axis.kernel, axis.stride, axis.dilation];
    if (values.some((v) => !Number.isSafeInteger(v) || v < 1) || !(axis.padBegin >= 0 && axis.padEnd >= 0)) {
      throw new OpError('has a kernel size, stride, dilation or padding that is not a valid size');
    }
  }
  return axes;
}

/** Output spatial sizes for known input sizes (null where the input size is unknown). */
export function windowOutputShape(
  sizes: readonly (number | null)[],
  axes: readonly WindowAxis[],
  autoPad: AutoPad,
  ceilMode: boolean,
): (number | null)[] {
  return axes.map((axis, i) => {
    const size = sizes[i];
    if (size === null || size === undefined) return null;
    return windowOutputSize(size, resolvePads(axis, autoPad, size), ceilMode);
  });
}

/** One axis of a Slice: where it starts, how many it takes, and its step. */
export interface SliceAxis {
  start: number;
  count: number;
  step: number;
}

/** ONNX Slice semantics for an axis of `size`: negative bounds count from the end, then clamp. */
export function sliceAxis(size: number, start: number, end: number, step: number): SliceAxis {
  if (step === 0 || !Number.isFinite(step)) throw new OpError('has a slice step of 0');
  const clamp = (value: number, low: number, high: number) => Math.min(Math.max(value, low), high);
  let from = start < 0 ? start + size : start;
  let to = end < 0 ? end + size : end;
  if (step > 0) {
    from = clamp(from, 0, size);
    to = clamp(to, 0, size);
  } else {
    from = clamp(from, -1, size - 1);
    to = clamp(to, -1, size - 1);
  }
  const count = Math.max(0, Math.ceil((to - from) / step));
  return { start: from, count, step };
}

/**
 * The target of a Reshape: 0 copies the input's dimension (unless `allowZero`), -1 takes the rest.
 * Target values known only when running are null; so are the dims they give.
 */
export function reshapeTarget(input: Shape | undefined, target: readonly (number | null)[], allowZero: boolean): Shape {
  const result: Shape = target.map((d, i) => {
    if (d === 0 && !allowZero) return input ? (input[i] ?? null) : null;
    return d;
  });
  const inferred = result.indexOf(-1);
  if (result.some((d, i) => d !== null && (d < -1 || (d === -1 && i !== inferred)))) {
    throw new OpError(`has the target shape [${target.join(', ')}], which is not a valid shape`);
  }
  if (inferred >= 0) {
    // Unknown dims on both sides are taken to be the same (the batch): [N, 3, 5, 6] → [N, -1] is [N, 90].
    const rest = result.filter((_, i) => i !== inferred);
    const unknownInput = input ? input.filter((d) => d === null).length : Infinity;
    const unknownRest = rest.filter((d) => d === null).length;
    const known = (dims: Shape) => product(dims.filter((d) => d !== null));
    const total = input && unknownInput === unknownRest ? known(input) : null;
    const restKnown = known(rest);
    const size = total === null || restKnown === null || restKnown === 0 ? null : total / restKnown;
    if (size !== null && !Number.isInteger(size)) {
      if (unknownInput === 0) throw new OpError(`cannot reshape [${input!.join(', ')}] to [${target.join(', ')}]`);
      result[inferred] = null;
    } else result[inferred] = size;
  }
  return result;
}

/** Axes given in an attribute (older opsets) or an input (newer), normalised for `rank`. */
export function normalizeAxes(axes: readonly number[], rank: number): number[] {
  const normalized = axes.map((axis) => normalizeAxis(axis, rank));
  if (new Set(normalized).size !== normalized.length) throw new OpError('lists an axis twice');
  return normalized;
}

/** A convolution's or pooling's window as receptive-field geometry. */
export function windowGeometry([rows, columns]: WindowAxis[], autoPad: AutoPad, ceilMode: boolean): SpatialGeometry {
  const padding =
    autoPad === 'SAME_UPPER'
      ? 'same'
      : autoPad === 'SAME_LOWER'
        ? 'same-lower'
        : autoPad === 'VALID'
          ? 'valid'
          : { top: rows.padBegin, bottom: rows.padEnd, left: columns.padBegin, right: columns.padEnd };
  return {
    kind: 'window',
    kernel: [rows.kernel, columns.kernel],
    strides: [rows.stride, columns.stride],
    dilations: [rows.dilation, columns.dilation],
    padding,
    ...(ceilMode ? { ceilMode } : {}),
  };
}

/** The ONNX axes of an image's rows and columns: a value stored NHWC is NCHW to ONNX; one kept in ONNX order is a graph input that already is NHWC. */
export function spatialAxes(input: ValueDesc): [number, number] {
  return input.layout === 'nhwc' ? [2, 3] : [1, 2];
}
