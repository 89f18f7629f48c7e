/**
 * Operators that make values rather than compute them: Constant, ConstantOfShape and Range; and those
 * that pass a value on as it is or in another type: Identity (Dropout at inference), Cast, CastLike.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DataType } from '../onnxProto';
import { tensorFromHost } from '../runtimeHost';
import { dtypeOf, hostTensor, intsFromArray, isExternal, type DType, type HostTensor } from '../tensors';
import { broadcastMap, checkDims, checkSize, elements, HOST_FOLD_LIMIT } from './host';
import { MAX_RANK, sameAs, unknownDims } from './shapes';
import { NotFoldable, OpError, type NodeView, type OpSpec } from './types';

/** The tensor a Constant node holds, whichever attribute carries it. */
function constantValue(node: NodeView, decode: boolean): { dims: number[]; dtype: DType; data?: HostTensor['data'] } {
  const { attributes } = node;
  const tensor = attributes.tensor('value');
  if (tensor) {
    if (isExternal(tensor)) throw new OpError('holds its value in another file, which ConvLens does not read for Constant nodes');
    const dtype = dtypeOf(tensor.dataType);
    if (!dtype) throw new OpError('holds values of a type ConvLens cannot compute with');
    return decode ? hostTensor(tensor) : { dims: [...tensor.dims], dtype };
  }
  const float = attributes.float('value_float');
  if (float !== undefined) return { dims: [], dtype: 'float32', data: new Float32Array([float]) };
  const floats = attributes.floats('value_floats');
  if (floats) return { dims: [floats.length], dtype: 'float32', data: Float32Array.from(floats) };
  const integer = attributes.int('value_int');
  if (integer !== undefined) return { dims: [], dtype: 'int32', data: [integer] };
  const ints = attributes.ints('value_ints');
  if (ints) return { dims: [ints.length], dtype: 'int32', data: intsFromArray(ints, true) };
  throw new OpError('has no value ConvLens can use (sparse and string constants are not supported)');
}

const constantOp: OpSpec = {
  infer: (node) => {
    const { dims, dtype } = constantValue(node, false);
    return [{ shape: dims, dtype, layout: 'onnx', constant: {} }];
  },
  fold: (node) => {
    const value = constantValue(node, true);
    return [{ dims: value.dims, dtype: value.dtype, data: value.data! }];
  },
  // Constants are folded when the model loads; this is the fallback should folding fail.
  build: (ctx) => {
    const value = constantValue(ctx.node, true);
    const tensor = ctx.own(tensorFromHost({ dims: value.dims, dtype: value.dtype, data: value.data! }));
    return () => tensor;
  },
};

function fillValue(node: NodeView): HostTensor {
  const tensor = node.attributes.tensor('value');
  if (!tensor) return { dims: [1], dtype: 'float32', data: new Float32Array([0]) };
  if (isExternal(tensor)) throw new OpError('holds its value in another file');
  // One value: a damaged tensor declaring many is refused before they are decoded.
  if (tensor.dims.some((d) => d !== 1)) throw new OpError('fills with a value that is not a single number');
  const value = hostTensor(tensor);
  if (value.data.length !== 1) throw new OpError('fills with a value that is not a single number');
  return value;
}

const constantOfShape: OpSpec = {
  infer: (node) => {
    const target = node.inputs[0]?.constant?.data;
    const length = node.inputs[0]?.shape?.[0];
    if (target) unknownDims(target.length);
    const shape = target ? checkDims(Array.from(target)) : typeof length === 'number' ? unknownDims(length) : undefined;
    return [{ shape, dtype: fillValue(node).dtype, layout: 'onnx' }];
  },
  fold: (node, [shape]) => {
    const dims = checkDims(Array.from(shape.data));
    const count = elements(dims);
    if (!(count <= HOST_FOLD_LIMIT)) throw new NotFoldable();
    const value = fillValue(node);
    return [
      {
        dims,
        dtype: value.dtype,
        data: value.dtype === 'float32' ? new Float32Array(count).fill(value.data[0]) : new Array(count).fill(value.data[0]),
      },
    ];
  },
  build: (ctx) => {
    const value = fillValue(ctx.node);
    const shape = ctx.host(0, MAX_RANK);
    return (inputs) => tf.fill(ctx.checkOutput(Array.from(shape(inputs).data), value.dtype), value.data[0], value.dtype);
  },
};

const identity: OpSpec = {
  // Dropout is the identity in inference; its optional mask output is not computed.
  infer: (node) => [sameAs(node.inputs[0])],
  fold: (_node, [x]) => [x],
  build: (ctx) => ctx.stored(0),
};

function castTarget(node: NodeView): DType {
  const to = node.attributes.int('to');
  const dtype = to === undefined ? undefined : dtypeOf(to as DataType);
  if (!dtype) throw new OpError(`casts to a type ConvLens cannot compute with`);
  return dtype;
}

function castHost(x: HostTensor, dtype: DType): HostTensor {
  const convert =
    dtype === 'float32'
      ? (v: number) => v
      : dtype === 'bool'
        ? (v: number) => (v ? 1 : 0)
        : (v: number) => (Number.isFinite(v) ? Math.trunc(v) : v);
  return broadcastMap([x], dtype, convert);
}

const cast: OpSpec = {
  infer: (node) => [sameAs(node.inputs[0], castTarget(node))],
  fold: (node, [x]) => [castHost(x, castTarget(node))],
  build: (ctx) => {
    const x = ctx.stored(0);
    const dtype = castTarget(ctx.node);
    return (inputs) => {
      const input = x(inputs);
      return input.dtype === dtype ? input : tf.cast(input, dtype);
    };
  },
};

const castLike: OpSpec = {
  infer: (node) => [sameAs(node.inputs[0], node.inputs[1]?.dtype ?? 'float32')],
  fold: (_node, [x, like]) => [castHost(x, like.dtype)],
  build: (ctx) => {
    const x = ctx.stored(0);
    const dtype = ctx.node.inputs[1]?.dtype ?? 'float32';
    return (inputs) => tf.cast(x(inputs), dtype);
  },
};

/** How many values a Range gives: ceil((limit - start) / delta), none when the limit is behind the start. */
function rangeCount(start: number, limit: number, delta: number): number {
  if (delta === 0 || !Number.isFinite(delta)) throw new OpError(`has the range step ${delta}`);
  const count = Math.max(0, Math.ceil((limit - start) / delta));
  if (!Number.isSafeInteger(count)) throw new OpError(`counts from ${start} to ${limit}, which is not a range ConvLens can hold`);
  return count;
}

function rangeValues(start: number, limit: number, delta: number): number[] {
  const count = rangeCount(start, limit, delta);
  checkSize([count]);
  if (count > HOST_FOLD_LIMIT) throw new NotFoldable();
  return Array.from({ length: count }, (_, i) => start + i * delta);
}

/** A Range's length when its bounds are known before running (the memory budget needs it before any fold). */
function rangeShape(node: NodeView): [number | null] {
  const bounds = node.inputs.slice(0, 3).map((input) => input?.constant?.data);
  if (!bounds.every((data) => data?.length === 1)) return [null];
  const [start, limit, delta] = bounds.map((data) => data![0]);
  return [rangeCount(start, limit, delta)];
}

const range: OpSpec = {
  infer: (node) => [{ shape: rangeShape(node), dtype: node.inputs[0]?.dtype ?? 'float32', layout: 'onnx' }],
  fold: (_node, [start, limit, delta]) => {
    const values = rangeValues(start.data[0], limit.data[0], delta.data[0]);
    return [{ dims: [values.length], dtype: start.dtype, data: start.dtype === 'float32' ? Float32Array.from(values) : values }];
  },
  build: (ctx) => {
    const [start, limit, delta] = [0, 1, 2].map((i) => ctx.host(i));
    const dtype = ctx.node.inputs[0]?.dtype ?? 'float32';
    return (inputs) => {
      const [from, to, step] = [start(inputs).data[0], limit(inputs).data[0], delta(inputs).data[0]];
      ctx.checkOutput([rangeCount(from, to, step)], dtype);
      return tf.range(from, to, step, dtype === 'bool' ? 'int32' : dtype);
    };
  },
};

export const CONSTANT_OPS: Record<string, OpSpec> = {
  Constant: constantOp,
  ConstantOfShape: constantOfShape,
  Identity: identity,
  Dropout: identity,
  Cast: cast,
  CastLike: castLike,
  Range: range,
};
