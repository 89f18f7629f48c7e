/**
 * Operators that give a value a new shape without moving its elements' order: Shape and Size, Reshape,
 * Flatten, Squeeze, Unsqueeze, and Transpose. In exported graphs most of them are shape arithmetic
 * (Shape → Gather → Unsqueeze → Concat → Reshape), which `fold` evaluates on the host at load.
 *
 * Reshape-like operators need the ONNX axis order, so an NHWC input is transposed back first; Transpose
 * maps its axes onto the stored order instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../../../model';
import { onnxShape, storedTranspose, type Layout } from '../layout';
import { tensorFromHost } from '../runtimeHost';
import { relabel, transpose } from './host';
import { foldParam, runtimeParam, staticParam, type ParamSource } from './params';
import { isFullyKnown, normalizeAxes, product, reshapeTarget, spatialAxes, unknownDims } from './shapes';
import { OpError, type NodeView, type OpSpec, type ValueDesc } from './types';

/** An integer vector's description: constant when every value is known, partly known otherwise. */
const int = (shape: Shape | undefined, values?: (number | null)[]): ValueDesc => ({
  shape,
  dtype: 'int32',
  layout: 'onnx',
  ...(values && isFullyKnown(values) ? { constant: { data: values } } : values ? { partial: values } : {}),
});

// ----------------------------------------------------------------------------------------------
// Shape and Size

function shapeRange(node: NodeView, rank: number): [number, number] {
  const clamp = (value: number) => Math.min(Math.max(value < 0 ? value + rank : value, 0), rank);
  return [clamp(node.attributes.int('start', 0)), clamp(node.attributes.int('end', rank))];
}

const shapeOp: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0]?.shape;
    if (!x) return [int([null])];
    const [start, end] = shapeRange(node, x.length);
    return [int([Math.max(0, end - start)], x.slice(start, end))];
  },
  build: (ctx) => {
    const x = ctx.stored(0);
    const layout = ctx.node.inputs[0]?.layout ?? 'onnx';
    return (inputs) => {
      const dims = onnxShape(x(inputs).shape, layout);
      const [start, end] = shapeRange(ctx.node, dims.length);
      const values = dims.slice(start, end);
      return tensorFromHost({ dims: [values.length], dtype: 'int32', data: values });
    };
  },
};

const sizeOp: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0]?.shape;
    const count = x ? product(x) : null;
    return [int([], count === null ? undefined : [count])];
  },
  build: (ctx) => {
    const x = ctx.stored(0);
    return (inputs) => tensorFromHost({ dims: [], dtype: 'int32', data: [x(inputs).size] });
  },
};

// ----------------------------------------------------------------------------------------------
// Reshape, Flatten, Squeeze, Unsqueeze

const RESHAPE_SHAPE: ParamSource = { attribute: 'shape', inputIndex: 1, inputFromOpset: 5 };

const reshape: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    const target = staticParam(node, RESHAPE_SHAPE) ?? (node.opset >= 5 ? node.inputs[1]?.partial : undefined);
    const allowZero = node.attributes.int('allowzero', 0) === 1;
    if (target) return [{ shape: reshapeTarget(x?.shape, target, allowZero), dtype: x?.dtype ?? 'float32', layout: 'onnx' }];
    const rank = node.inputs[1]?.shape?.[0];
    return [{ shape: typeof rank === 'number' ? unknownDims(rank) : undefined, dtype: x?.dtype ?? 'float32', layout: 'onnx' }];
  },
  fold: (node, inputs) => {
    const target = foldParam(node, inputs, RESHAPE_SHAPE)!;
    return [relabel(inputs[0], reshapeTarget(inputs[0].dims, target, node.attributes.int('allowzero', 0) === 1) as number[])];
  },
  build: (ctx) => {
    const x = ctx.onnx(0);
    const target = runtimeParam(ctx, RESHAPE_SHAPE);
    const allowZero = ctx.node.attributes.int('allowzero', 0) === 1;
    return (inputs) => {
      const input = x(inputs);
      return tf.reshape(input, reshapeTarget(input.shape, target(inputs) ?? [], allowZero) as number[]);
    };
  },
};

function flattenShape(shape: Shape, axisAttribute: number): Shape {
  const axis = axisAttribute < 0 ? axisAttribute + shape.length : axisAttribute;
  if (axis < 0 || axis > shape.length) throw new OpError(`flattens at axis ${axisAttribute} of a tensor of rank ${shape.length}`);
  return [product(shape.slice(0, axis)), product(shape.slice(axis))];
}

const flatten: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    return [
      {
        shape: x?.shape ? flattenShape(x.shape, node.attributes.int('axis', 1)) : [null, null],
        dtype: x?.dtype ?? 'float32',
        layout: 'onnx',
      },
    ];
  },
  fold: (node, [x]) => [relabel(x, flattenShape(x.dims, node.attributes.int('axis', 1)) as number[])],
  build: (ctx) => {
    // An NHWC input goes back to NCHW first, so that the flattened order is the one the weights expect.
    const x = ctx.onnx(0);
    const axis = ctx.node.attributes.int('axis', 1);
    return (inputs) => {
      const input = x(inputs);
      return tf.reshape(input, flattenShape(input.shape, axis) as number[]);
    };
  },
};

const SQUEEZE_AXES: ParamSource = { attribute: 'axes', inputIndex: 1, inputFromOpset: 13 };

function squeezeShape<T extends number | null>(shape: T[], axes: number[] | undefined): T[] | undefined {
  if (axes) {
    const drop = new Set(normalizeAxes(axes, shape.length));
    for (const axis of drop)
      if (shape[axis] !== 1 && shape[axis] !== null) throw new OpError(`squeezes axis ${axis} of size ${shape[axis]}`);
    return shape.filter((_, i) => !drop.has(i));
  }
  if (shape.some((d) => d === null)) return undefined;
  return shape.filter((d) => d !== 1);
}

const squeeze: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    const axes = staticParam(node, SQUEEZE_AXES);
    const shape = x?.shape && axes !== null ? squeezeShape(x.shape, axes) : undefined;
    return [{ shape, dtype: x?.dtype ?? 'float32', layout: 'onnx' }];
  },
  fold: (node, inputs) => [relabel(inputs[0], squeezeShape(inputs[0].dims, foldParam(node, inputs, SQUEEZE_AXES))!)],
  build: (ctx) => {
    const x = ctx.onnx(0);
    const axes = runtimeParam(ctx, SQUEEZE_AXES);
    return (inputs) => {
      const input = x(inputs);
      return tf.reshape(input, squeezeShape(input.shape, axes(inputs))!);
    };
  },
};

const UNSQUEEZE_AXES: ParamSource = { attribute: 'axes', inputIndex: 1, inputFromOpset: 13 };

function unsqueezeShape<T extends number | null>(shape: T[], axes: number[]): (T | 1)[] {
  const rank = shape.length + axes.length;
  const inserted = new Set(normalizeAxes(axes, rank));
  const rest = [...shape];
  return Array.from({ length: rank }, (_, i) => (inserted.has(i) ? 1 : rest.shift()!));
}

const unsqueeze: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    const axes = staticParam(node, UNSQUEEZE_AXES);
    const shape = x?.shape && axes ? unsqueezeShape(x.shape, axes) : undefined;
    return [{ shape, dtype: x?.dtype ?? 'float32', layout: 'onnx' }];
  },
  fold: (node, inputs) => [relabel(inputs[0], unsqueezeShape(inputs[0].dims, foldParam(node, inputs, UNSQUEEZE_AXES) ?? []))],
  build: (ctx) => {
    const x = ctx.onnx(0);
    const axes = runtimeParam(ctx, UNSQUEEZE_AXES);
    return (inputs) => {
      const input = x(inputs);
      return tf.reshape(input, unsqueezeShape(input.shape, axes(inputs) ?? []));
    };
  },
};

// ----------------------------------------------------------------------------------------------
// Transpose and Concat

function permutation(node: NodeView, rank: number): number[] {
  const perm = node.attributes.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((axis, i) => axis !== i)) {
    throw new OpError(`has the permutation [${perm.join(', ')}] for a tensor of rank ${rank}`);
  }
  return perm;
}

const transposeOp: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    const rank = x?.shape?.length ?? node.attributes.ints('perm')?.length;
    if (rank === undefined) return [{ dtype: x?.dtype ?? 'float32', layout: 'onnx' }];
    const perm = permutation(node, rank);
    const shape = x?.shape ? perm.map((axis) => x.shape![axis]) : new Array(rank).fill(null);
    // A 4-D result is kept NHWC when that costs nothing (an NHWC input transposed to NCHW is the input
    // itself); otherwise it stays in the layout of its input.
    const from: Layout = x?.layout ?? 'onnx';
    const layout: Layout = rank === 4 && !storedTranspose(perm, from, 'nhwc') ? 'nhwc' : rank === 4 ? from : 'onnx';
    return [{ shape, dtype: x?.dtype ?? 'float32', layout }];
  },
  fold: (node, [x]) => [transpose(x, permutation(node, x.dims.length))],
  build: (ctx) => {
    const x = ctx.stored(0);
    const from = ctx.node.inputs[0]?.layout ?? 'onnx';
    const to = ctx.outputs[0].layout;
    return (inputs) => {
      const input = x(inputs);
      const order = storedTranspose(permutation(ctx.node, input.rank), from, to);
      return order ? tf.transpose(input, order) : input;
    };
  },
};

const transposeGeometry: OpSpec['geometry'] = (node) => {
  const input = node.inputs[0];
  if (input?.shape?.length !== 4) return undefined;
  const perm = node.attributes.ints('perm') ?? [3, 2, 1, 0];
  const [rows, columns] = spatialAxes(input);
  // The result's rows and columns are its ONNX axes 2 and 3: swapping the input's is not pointwise,
  // and on a square map no shape would show it. (Other orders are left to the walk's shape check.)
  return perm[2] === columns && perm[3] === rows ? { kind: 'untraceable', why: 'swaps the height and width axes' } : undefined;
};

/** A flatten written as a reshape: H and W merged with the other axes. */
const reshapeGeometry: OpSpec['geometry'] = (node, outputs) => {
  const outputRank = outputs[0]?.shape?.length;
  return node.inputs[0]?.shape?.length === 4 && outputRank !== undefined && outputRank < 4 ? { kind: 'global' } : undefined;
};

export const RESHAPE_OPS: Record<string, OpSpec> = {
  Shape: shapeOp,
  Size: sizeOp,
  Reshape: { ...reshape, geometry: reshapeGeometry },
  Flatten: { ...flatten, geometry: () => ({ kind: 'global' }) },
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: { ...transposeOp, geometry: transposeGeometry },
};
