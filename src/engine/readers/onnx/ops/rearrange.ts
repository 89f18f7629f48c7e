/**
 * Operators that copy parts of values into new ones: Concat, Gather, Slice, Split, Expand, Tile and Pad.
 * Each maps its axes onto the stored order (NHWC for images), and `fold` computes it on the host where
 * its inputs are small constants (shape arithmetic). Seven operators of one family, each with its
 * `infer`, `fold` and `build` side by side, as the other families' files.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../../../model';
import { onnxShape, storedAxis, type Layout } from '../layout';
import { type HostTensor } from '../tensors';
import { broadcastMap, broadcastShapes, concat, elements, gather, HOST_FOLD_LIMIT, normalizeAxis, take } from './host';
import { foldParam, runtimeParam, staticParam, type ParamSource } from './params';
import { normalizeAxes, sliceAxis, spatialAxes } from './shapes';
import { NotFoldable, OpError, type Inputs, type NodeView, type OpSpec, type ValueDesc } from './types';

function concatAxis(node: NodeView, rank: number): number {
  return normalizeAxis(node.attributes.int('axis', 1), rank);
}

const concatOp: OpSpec = {
  infer: (node) => {
    const inputs = node.inputs.filter((input): input is ValueDesc => input !== undefined);
    const dtype = inputs[0]?.dtype ?? 'float32';
    const rank = inputs.find((input) => input.shape)?.shape?.length;
    if (rank === undefined) return [{ dtype, layout: 'onnx' }];
    const axis = concatAxis(node, rank);
    const shape: Shape = [];
    for (let i = 0; i < rank; i++) {
      const dims = inputs.map((input) => input.shape?.[i] ?? null);
      if (i === axis) shape.push(dims.includes(null) ? null : (dims as number[]).reduce((a, b) => a + b, 0));
      else shape.push(dims.find((d) => d !== null) ?? null);
    }
    const layout: Layout = rank === 4 && inputs.some((input) => input.layout === 'nhwc') ? 'nhwc' : 'onnx';
    return [{ shape, dtype, layout }];
  },
  fold: (node, inputs) => [concat(inputs, concatAxis(node, inputs[0].dims.length))],
  build: (ctx) => {
    const nhwc = ctx.outputs[0].layout === 'nhwc';
    const parts = ctx.node.inputs.map((_, i) => (nhwc ? ctx.nhwc(i) : ctx.onnx(i)));
    return (inputs) => {
      const tensors = parts.map((part) => part(inputs));
      const axis = concatAxis(ctx.node, tensors[0].rank);
      const nonEmpty = tensors.filter((t) => t.size > 0);
      return tf.concat(nonEmpty.length ? nonEmpty : [tensors[0]], nhwc ? storedAxis(axis, 'nhwc') : axis);
    };
  },
};

// ----------------------------------------------------------------------------------------------
// Gather, Slice, Expand, Tile, Split

function gatherAxis(node: NodeView, rank: number): number {
  return normalizeAxis(node.attributes.int('axis', 0), rank);
}

const gatherOp: OpSpec = {
  infer: (node) => {
    const [data, indices] = node.inputs;
    if (!data?.shape || !indices?.shape) return [{ dtype: data?.dtype ?? 'float32', layout: 'onnx' }];
    const axis = gatherAxis(node, data.shape.length);
    return [{ shape: [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)], dtype: data.dtype, layout: 'onnx' }];
  },
  fold: (node, [data, indices]) => [gather(data, indices, gatherAxis(node, data.dims.length))],
  build: (ctx) => {
    const data = ctx.onnx(0);
    const indices = ctx.stored(1);
    return (inputs) => {
      const x = data(inputs);
      const axis = gatherAxis(ctx.node, x.rank);
      const index = indices(inputs);
      const size = x.shape[axis];
      // Negative indices count from the end.
      const flat = tf.reshape(index.dtype === 'int32' ? index : tf.cast(index, 'int32'), [-1]);
      const positive = tf.where(tf.less(flat, 0), tf.add(flat, tf.scalar(size, 'int32')), flat);
      const gathered = tf.gather(x, positive, axis);
      return tf.reshape(gathered, [...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)]);
    };
  },
};

interface SliceParams {
  starts: number[];
  ends: number[];
  axes?: number[];
  steps?: number[];
}

const SLICE_SOURCES = {
  starts: { attribute: 'starts', inputIndex: 1, inputFromOpset: 10 },
  ends: { attribute: 'ends', inputIndex: 2, inputFromOpset: 10 },
  axes: { attribute: 'axes', inputIndex: 3, inputFromOpset: 10 },
  steps: { attribute: 'steps', inputIndex: 4, inputFromOpset: 10 },
} satisfies Record<string, ParamSource>;

/** For each sliced ONNX axis of `shape`, the selection; unknown dims give a null count. */
function slicePlan(
  shape: readonly (number | null)[],
  params: SliceParams,
): Map<number, { start: number; count: number | null; step: number; end: number }> {
  const { starts, ends } = params;
  const axes = normalizeAxes(params.axes ?? starts.map((_, i) => i), shape.length);
  const steps = params.steps ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw new OpError('has slice starts, ends, axes and steps of different lengths');
  }
  const plan = new Map<number, { start: number; count: number | null; step: number; end: number }>();
  axes.forEach((axis, i) => {
    const size = shape[axis];
    if (size === null) plan.set(axis, { start: starts[i], count: null, step: steps[i], end: ends[i] });
    else plan.set(axis, { ...sliceAxis(size, starts[i], ends[i], steps[i]), end: ends[i] });
  });
  return plan;
}

function sliceShape(shape: Shape, params: SliceParams): Shape {
  const plan = slicePlan(shape, params);
  return shape.map((d, axis) => (plan.has(axis) ? plan.get(axis)!.count : d));
}

const sliceOp: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    const [starts, ends, axes, steps] = (['starts', 'ends', 'axes', 'steps'] as const).map((key) => staticParam(node, SLICE_SOURCES[key]));
    if (!x?.shape || !starts || !ends || axes === null || steps === null) {
      return [{ shape: x?.shape?.map(() => null), dtype: x?.dtype ?? 'float32', layout: x?.layout ?? 'onnx' }];
    }
    return [{ shape: sliceShape(x.shape, { starts, ends, axes, steps }), dtype: x.dtype, layout: x.layout }];
  },
  fold: (node, inputs) => {
    const [starts, ends, axes, steps] = (['starts', 'ends', 'axes', 'steps'] as const).map((key) =>
      foldParam(node, inputs, SLICE_SOURCES[key]),
    );
    let result = inputs[0];
    for (const [axis, { start, count, step }] of slicePlan(result.dims, { starts: starts!, ends: ends!, axes, steps })) {
      result = take(
        result,
        axis,
        Array.from({ length: count! }, (_, i) => start + i * step),
      );
    }
    return [result];
  },
  build: (ctx) => {
    const x = ctx.stored(0);
    const layout = ctx.node.inputs[0]?.layout ?? 'onnx';
    const [starts, ends, axes, steps] = (['starts', 'ends', 'axes', 'steps'] as const).map((key) => runtimeParam(ctx, SLICE_SOURCES[key]));
    return (inputs) => {
      let input = x(inputs);
      const shape = onnxShape(input.shape, layout);
      const plan = slicePlan(shape, { starts: starts(inputs) ?? [], ends: ends(inputs) ?? [], axes: axes(inputs), steps: steps(inputs) });
      const begin = input.shape.map(() => 0);
      const size = [...input.shape];
      const strided: [number, { start: number; count: number; step: number }][] = [];
      for (const [axis, selection] of plan) {
        const stored = storedAxis(axis, layout);
        const count = selection.count!;
        if (selection.step === 1) {
          begin[stored] = selection.start;
          size[stored] = count;
        } else strided.push([stored, { ...selection, count }]);
      }
      input = tf.slice(input, begin, size);
      for (const [stored, { start, count, step }] of strided) {
        input = tf.gather(input, tf.range(start, start + count * step, step, 'int32'), stored);
      }
      return input;
    };
  },
};

const EXPAND_SHAPE: ParamSource = { attribute: 'shape', inputIndex: 1, inputFromOpset: 1 };

const expand: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    const target = staticParam(node, EXPAND_SHAPE);
    return [{ shape: target ? broadcastShapes([x?.shape, target]) : undefined, dtype: x?.dtype ?? 'float32', layout: 'onnx' }];
  },
  fold: (_node, [x, shape]) => [expandHost(x, Array.from(shape.data))],
  build: (ctx) => {
    const x = ctx.onnx(0);
    const target = runtimeParam(ctx, EXPAND_SHAPE);
    return (inputs) => {
      const input = x(inputs);
      const shape = ctx.checkOutput(broadcastShapes([input.shape, target(inputs) ?? []]) as number[], ctx.outputs[0].dtype);
      const padded = tf.reshape(input, [...new Array(shape.length - input.rank).fill(1), ...input.shape]);
      return tf.broadcastTo(padded, shape);
    };
  },
};

function expandHost(x: HostTensor, target: number[]): HostTensor {
  const dims = broadcastShapes([x.dims, target]) as number[];
  if (elements(dims) > HOST_FOLD_LIMIT) throw new NotFoldable();
  const shaped: HostTensor = { dims, dtype: x.dtype, data: new Array(elements(dims)).fill(0) };
  return broadcastMap([x, shaped], x.dtype, (v) => v);
}

const TILE_REPEATS: ParamSource = { attribute: 'repeats', inputIndex: 1, inputFromOpset: 6 };

const tile: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    const repeats = staticParam(node, TILE_REPEATS);
    if (x?.shape && repeats && repeats.length !== x.shape.length)
      throw new OpError(`has ${repeats.length} repeats for a tensor of rank ${x.shape.length}`);
    const shape = x?.shape && repeats ? x.shape.map((d, i) => (d === null ? null : d * repeats[i])) : x?.shape?.map(() => null);
    return [{ shape, dtype: x?.dtype ?? 'float32', layout: 'onnx' }];
  },
  build: (ctx) => {
    const x = ctx.onnx(0);
    const repeats = runtimeParam(ctx, TILE_REPEATS);
    return (inputs) => {
      const input = x(inputs);
      const times = repeats(inputs) ?? [];
      ctx.checkOutput(
        input.shape.map((d, i) => d * (times[i] ?? 1)),
        ctx.outputs[0].dtype,
      );
      return tf.tile(input, times);
    };
  },
};

/** One size per output: not bounded by a rank. */
const SPLIT_SIZES: ParamSource = { attribute: 'split', inputIndex: 1, inputFromOpset: 13, maxLength: 1 << 12 };

function splitSizes(node: NodeView, size: number | null, given: number[] | undefined | null): (number | null)[] {
  if (given) {
    if (size !== null && given.reduce((a, b) => a + b, 0) !== size)
      throw new OpError(`splits an axis of ${size} into [${given.join(', ')}]`);
    return given;
  }
  const parts = node.attributes.int('num_outputs') ?? node.outputCount;
  if (size === null) return new Array(node.outputCount).fill(null);
  // Equal parts; with num_outputs (opset 18) the last may be smaller.
  const each = Math.ceil(size / parts);
  return Array.from({ length: node.outputCount }, (_, i) => Math.max(0, Math.min(each, size - i * each)));
}

const split: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    if (!x?.shape) return new Array(node.outputCount).fill(0).map(() => ({ dtype: x?.dtype ?? 'float32', layout: 'onnx' as Layout }));
    const axis = normalizeAxis(node.attributes.int('axis', 0), x.shape.length);
    const sizes = splitSizes(node, x.shape[axis], staticParam(node, SPLIT_SIZES));
    return sizes.map((size) => ({ shape: x.shape!.map((d, i) => (i === axis ? size : d)), dtype: x.dtype, layout: x.layout }));
  },
  fold: (node, inputs) => {
    const x = inputs[0];
    const axis = normalizeAxis(node.attributes.int('axis', 0), x.dims.length);
    const sizes = splitSizes(node, x.dims[axis], foldParam(node, inputs, SPLIT_SIZES)) as number[];
    let offset = 0;
    return sizes.map((size) => {
      const part = take(
        x,
        axis,
        Array.from({ length: size }, (_, i) => offset + i),
      );
      offset += size;
      return part;
    });
  },
  build: (ctx) => {
    const x = ctx.stored(0);
    const layout = ctx.node.inputs[0]?.layout ?? 'onnx';
    const given = runtimeParam(ctx, SPLIT_SIZES);
    return (inputs) => {
      const input = x(inputs);
      const axis = normalizeAxis(ctx.node.attributes.int('axis', 0), input.rank);
      const stored = storedAxis(axis, layout);
      const sizes = splitSizes(ctx.node, input.shape[stored], given(inputs)) as number[];
      return tf.split(input, sizes, stored);
    };
  },
};

// ----------------------------------------------------------------------------------------------
// Pad

const PAD_AMOUNTS: ParamSource = { attribute: 'pads', inputIndex: 1, inputFromOpset: 11 };
const PAD_AXES: ParamSource = { attribute: 'axes', inputIndex: 3, inputFromOpset: 18 };

/** [before, after] per ONNX axis. */
function padPairs(rank: number, pads: number[], axes: number[] | undefined): [number, number][] {
  const padded = axes ? normalizeAxes(axes, rank) : Array.from({ length: rank }, (_, i) => i);
  if (pads.length !== padded.length * 2) throw new OpError(`has ${pads.length} pad amounts for ${padded.length} axes`);
  const pairs = Array.from({ length: rank }, (): [number, number] => [0, 0]);
  padded.forEach((axis, i) => (pairs[axis] = [pads[i], pads[i + padded.length]]));
  return pairs;
}

/**
 * The pad amounts when known before running. For an input of known rank, more than two per axis are
 * refused from their number, before any is copied.
 */
function padAmounts(node: NodeView, rank: number | undefined): number[] | undefined | null {
  if (rank !== undefined) {
    const given =
      node.opset < 2
        ? node.attributes.ints('paddings')
        : node.opset < PAD_AMOUNTS.inputFromOpset
          ? node.attributes.ints('pads')
          : node.inputs[1];
    const count = Array.isArray(given) ? given.length : (given?.constant?.data?.length ?? given?.shape?.[0]);
    if (typeof count === 'number' && count > 2 * rank) throw new OpError(`has ${count} pad amounts for a tensor of rank ${rank}`);
  }
  if (node.opset < 2) return node.attributes.ints('paddings');
  return staticParam(node, PAD_AMOUNTS);
}

/**
 * The rows and columns a Pad adds to (or, negative, crops from) a 4-D image whose ONNX axes `rows`
 * and `columns` are H and W, when its amounts are known before running.
 */
export function padSpatialAmounts(
  node: NodeView,
  rows: number,
  columns: number,
): { top: number; bottom: number; left: number; right: number } | undefined {
  const pads = padAmounts(node, 4);
  const axes = staticParam(node, PAD_AXES);
  if (!pads || axes === null) return undefined;
  const pairs = padPairs(4, pads, axes);
  return { top: pairs[rows][0], bottom: pairs[rows][1], left: pairs[columns][0], right: pairs[columns][1] };
}

const pad: OpSpec = {
  infer: (node) => {
    const x = node.inputs[0];
    const pads = padAmounts(node, x?.shape?.length);
    const axes = staticParam(node, PAD_AXES);
    if (!x?.shape || !pads || axes === null)
      return [{ shape: x?.shape?.map(() => null), dtype: x?.dtype ?? 'float32', layout: x?.layout ?? 'onnx' }];
    const pairs = padPairs(x.shape.length, pads, axes);
    return [{ shape: x.shape.map((d, i) => (d === null ? null : d + pairs[i][0] + pairs[i][1])), dtype: x.dtype, layout: x.layout }];
  },
  build: (ctx) => {
    const { node } = ctx;
    const x = ctx.stored(0);
    const layout = node.inputs[0]?.layout ?? 'onnx';
    const mode = node.attributes.string('mode', 'constant');
    if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge')
      throw new OpError(`pads in "${mode}" mode, which ConvLens cannot run yet`);
    const known = padAmounts(node, node.inputs[0]?.shape?.length);
    const amounts = node.opset < 2 ? () => known ?? undefined : runtimeParam(ctx, PAD_AMOUNTS);
    const axes = runtimeParam(ctx, PAD_AXES);
    const padValue = node.opset >= 11 && node.inputs[2] ? ctx.host(2) : undefined;
    const value = (inputs: Inputs) =>
      node.opset < 11 ? node.attributes.float('value', 0) : padValue ? (padValue(inputs).data[0] ?? 0) : 0;
    return (inputs) => {
      let input = x(inputs);
      const pairs = padPairs(input.rank, amounts(inputs) ?? [], axes(inputs));
      const stored = input.shape.map((): [number, number] => [0, 0]);
      pairs.forEach((pair, axis) => (stored[storedAxis(axis, layout)] = pair));
      // Negative amounts crop.
      if (stored.some(([before, after]) => before < 0 || after < 0)) {
        const begin = stored.map(([before]) => Math.max(0, -before));
        const size = input.shape.map((d, i) => d - begin[i] - Math.max(0, -stored[i][1]));
        input = tf.slice(input, begin, size);
      }
      const positive = stored.map(([before, after]): [number, number] => [Math.max(0, before), Math.max(0, after)]);
      ctx.checkOutput(
        input.shape.map((d, i) => d + positive[i][0] + positive[i][1]),
        ctx.outputs[0].dtype,
      );
      if (positive.every(([before, after]) => before === 0 && after === 0)) return input;
      if (mode === 'constant') return tf.pad(input, positive, value(inputs));
      if (mode === 'reflect') return tf.mirrorPad(input, positive, 'reflect');
      return edgePad(input, positive);
    };
  },
};

/** Repeats the edge values outward, one axis at a time. */
function edgePad(x: tf.Tensor, pairs: [number, number][]): tf.Tensor {
  let result = x;
  pairs.forEach(([before, after], axis) => {
    if (!before && !after) return;
    const size = result.shape[axis];
    const indices = Array.from({ length: size + before + after }, (_, i) => Math.min(Math.max(i - before, 0), size - 1));
    result = tf.gather(result, tf.tensor1d(indices, 'int32'), axis);
  });
  return result;
}

// ----------------------------------------------------------------------------------------------
// Constants, Identity, Cast, Range

const padGeometry: OpSpec['geometry'] = (node) => {
  const input = node.inputs[0];
  if (input?.shape?.length !== 4) return undefined;
  const [rows, columns] = spatialAxes(input);
  const amounts = padSpatialAmounts(node, rows, columns);
  return amounts && { kind: 'pad', ...amounts };
};

export const REARRANGE_OPS: Record<string, OpSpec> = {
  Concat: concatOp,
  Gather: gatherOp,
  Slice: sliceOp,
  Expand: expand,
  Tile: tile,
  Split: split,
  Pad: { ...pad, geometry: padGeometry },
};
