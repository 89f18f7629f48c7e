/**
 * Output shapes of a graph model's nodes, worked out without running anything: from `_output_shapes`
 * where the converter kept them, else from the input shapes and attributes of the ops a CNN is made of.
 * Ops whose result depends on a constant's values (Reshape, Pad, Mean's axes) are worked out only when
 * those values are known; any other op gets no shape rather than a guess.
 */
import type { Shape } from '../../../model';
import { attrBool, attrInt, attrInts, attrShapes, attrString, type NodeDefJson } from './graphJson';
import { isConstant, isPlaceholder, type OpGraph, type TensorRef } from './opGraph';

export interface ShapeSources {
  /** A constant's shape, from the weights manifest or the node's own attributes. */
  constantShape(name: string): Shape | undefined;
  /** A small integer constant's values, where they have been read. */
  constantValues?(name: string): number[] | undefined;
}

/** Node name → the shape of each of its outputs (`undefined` where unknown). */
export type OutputShapes = Map<string, (Shape | undefined)[]>;

export function inferOutputShapes(graph: OpGraph, sources: ShapeSources): OutputShapes {
  const shapes: OutputShapes = new Map();
  const inputShapes = new Map(graph.inputs.map((input) => [input.id, input.shape]));
  const shapeOf = (ref: TensorRef) => shapes.get(ref.node)?.[ref.index];
  const valuesOf = (ref: TensorRef) =>
    isConstant(graph.byName.get(ref.node)!) && ref.index === 0 ? sources.constantValues?.(ref.node) : undefined;

  for (const node of graph.order) {
    const declared = attrShapes(node, '_output_shapes');
    if (declared?.length) {
      shapes.set(node.name, declared);
    } else if (isConstant(node)) {
      shapes.set(node.name, [sources.constantShape(node.name)]);
    } else if (isPlaceholder(node)) {
      shapes.set(node.name, [inputShapes.get(node.name)]);
    } else {
      const refs = graph.dataInputs.get(node.name)!;
      shapes.set(node.name, opOutputShapes(node, refs.map(shapeOf), refs.map(valuesOf)));
    }
  }
  return shapes;
}

type MaybeShape = Shape | undefined;
type MaybeValues = number[] | undefined;

const SAME_AS_INPUT = new Set([
  'Identity',
  'StopGradient',
  'Snapshot',
  'Relu',
  'Relu6',
  'Elu',
  'Selu',
  'LeakyRelu',
  'Prelu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'LogSoftmax',
  'Softplus',
  'Softsign',
  'Neg',
  'Abs',
  'Exp',
  'Log',
  'Sqrt',
  'Rsqrt',
  'Square',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Erf',
  'Cast',
  'ClipByValue',
  'BiasAdd',
  'LRN',
  'FusedBatchNorm',
  'FusedBatchNormV2',
  'FusedBatchNormV3',
  'FakeQuantWithMinMaxVars',
]);

const BROADCASTING = new Set([
  'Add',
  'AddV2',
  'Sub',
  'Mul',
  'RealDiv',
  'Div',
  'DivNoNan',
  'FloorDiv',
  'FloorMod',
  'Maximum',
  'Minimum',
  'Pow',
  'SquaredDifference',
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
  'Equal',
  'NotEqual',
  'LogicalAnd',
  'LogicalOr',
]);

const REDUCTIONS = new Set(['Mean', 'Max', 'Min', 'Sum', 'Prod', 'All', 'Any']);

function opOutputShapes(node: NodeDefJson, inputs: MaybeShape[], values: MaybeValues[]): MaybeShape[] {
  const [x] = inputs;
  if (SAME_AS_INPUT.has(node.op)) return [x];
  if (BROADCASTING.has(node.op) || node.op === 'AddN') return [inputs.length ? inputs.reduce(broadcast) : undefined];
  if (REDUCTIONS.has(node.op)) return [reduce(x, values[1], attrBool(node, 'keep_dims') ?? false)];
  switch (node.op) {
    case 'Conv2D':
    case '_FusedConv2D':
      return [convolution(node, x, inputs[1], false)];
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2dNative':
      return [convolution(node, x, inputs[1], true)];
    case 'MaxPool':
    case 'AvgPool':
      return [pool(node, x)];
    case 'MatMul':
    case '_FusedMatMul':
      return [matMul(x, inputs[1], attrBool(node, 'transpose_a') ?? false, attrBool(node, 'transpose_b') ?? false)];
    case 'ArgMax':
    case 'ArgMin':
      return [reduce(x, values[1], false)];
    case 'Reshape':
      return [reshape(x, values[1])];
    case 'Pad':
    case 'PadV2':
    case 'MirrorPad':
      return [pad(x, values[1])];
    case 'ConcatV2':
      return [concat(inputs.slice(0, -1), values.at(-1))];
    case 'Squeeze':
      return [squeeze(x, attrInts(node, 'squeeze_dims') ?? [])];
    case 'ExpandDims':
      return [expandDims(x, values[1])];
    case 'Split':
      return split(inputs[1], values[0], attrInt(node, 'num_split') ?? 1);
    case 'Transpose':
      return [values[1] && x ? values[1].map((axis) => x[axis] ?? null) : undefined];
    case 'ResizeBilinear':
    case 'ResizeNearestNeighbor':
      return [x?.length === 4 && values[1]?.length === 2 ? [x[0], values[1][0], values[1][1], x[3]] : undefined];
    case 'Shape':
      return [x ? [x.length] : undefined];
    default:
      return [];
  }
}

/** NumPy broadcasting; an unknown size against a known one takes the known one (it must be 1 or equal). */
function broadcast(a: MaybeShape, b: MaybeShape): MaybeShape {
  if (!a || !b) return undefined;
  const rank = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    out.push(da === 1 ? db : db === 1 ? da : (da ?? db));
  }
  return out;
}

function convolution(node: NodeDefJson, x: MaybeShape, filter: MaybeShape, depthwise: boolean): MaybeShape {
  if ((attrString(node, 'data_format') ?? 'NHWC') !== 'NHWC' || x?.length !== 4 || filter?.length !== 4) return undefined;
  const strides = attrInts(node, 'strides') ?? [1, 1, 1, 1];
  const dilations = attrInts(node, 'dilations') ?? [1, 1, 1, 1];
  const padding = attrString(node, 'padding') ?? 'VALID';
  const explicit = attrInts(node, 'explicit_paddings') ?? [];
  const [kernelHeight, kernelWidth, inChannels, outChannels] = filter;
  const channels = !depthwise ? outChannels : inChannels !== null && outChannels !== null ? inChannels * outChannels : null;
  return [
    x[0],
    outputSize(x[1], kernelHeight, strides[1], dilations[1], padding, explicit.slice(2, 4)),
    outputSize(x[2], kernelWidth, strides[2], dilations[2], padding, explicit.slice(4, 6)),
    channels,
  ];
}

function pool(node: NodeDefJson, x: MaybeShape): MaybeShape {
  const size = attrInts(node, 'ksize');
  if ((attrString(node, 'data_format') ?? 'NHWC') !== 'NHWC' || x?.length !== 4 || size?.length !== 4) return undefined;
  const strides = attrInts(node, 'strides') ?? [1, 1, 1, 1];
  const padding = attrString(node, 'padding') ?? 'VALID';
  return [x[0], outputSize(x[1], size[1], strides[1], 1, padding, []), outputSize(x[2], size[2], strides[2], 1, padding, []), x[3]];
}

function outputSize(
  size: number | null,
  kernel: number | null,
  stride: number,
  dilation: number,
  padding: string,
  explicit: number[],
): number | null {
  if (size === null || kernel === null || !(stride > 0)) return null;
  const span = (kernel - 1) * (dilation || 1) + 1;
  if (padding === 'SAME') return Math.ceil(size / stride);
  if (padding === 'VALID') return Math.floor((size - span) / stride) + 1;
  if (padding === 'EXPLICIT' && explicit.length === 2) return Math.floor((size + explicit[0] + explicit[1] - span) / stride) + 1;
  return null;
}

function matMul(a: MaybeShape, b: MaybeShape, transposeA: boolean, transposeB: boolean): MaybeShape {
  if (a?.length !== 2 || b?.length !== 2) return undefined;
  return [transposeA ? a[1] : a[0], transposeB ? b[0] : b[1]];
}

function reduce(x: MaybeShape, axes: MaybeValues, keepDims: boolean): MaybeShape {
  if (!x || !axes) return undefined;
  const reduced = new Set(axes.map((axis) => normalizeAxis(axis, x.length)));
  if (keepDims) return x.map((d, i) => (reduced.has(i) ? 1 : d));
  return x.filter((_, i) => !reduced.has(i));
}

function reshape(x: MaybeShape, target: MaybeValues): MaybeShape {
  if (!target) return undefined;
  const free = target.indexOf(-1);
  if (free < 0) return [...target];
  const known = target.reduce((n, d, i) => (i === free ? n : n * d), 1);
  const total = x && x.every((d) => d !== null) ? (x as number[]).reduce((n, d) => n * d, 1) : null;
  return target.map((d, i) => (i !== free ? d : total === null || known === 0 ? null : total / known));
}

function pad(x: MaybeShape, paddings: MaybeValues): MaybeShape {
  if (!x || paddings?.length !== 2 * x.length) return undefined;
  return x.map((d, i) => (d === null ? null : d + paddings[2 * i] + paddings[2 * i + 1]));
}

function concat(parts: MaybeShape[], axisValue: MaybeValues): MaybeShape {
  const first = parts[0];
  if (!axisValue || !first || parts.some((p) => !p)) return undefined;
  const axis = normalizeAxis(axisValue[0], first.length);
  const sizes = parts.map((p) => p![axis]);
  const total = sizes.some((d) => d === null) ? null : (sizes as number[]).reduce((n, d) => n + d, 0);
  return first.map((d, i) => (i === axis ? total : d));
}

function squeeze(x: MaybeShape, dims: number[]): MaybeShape {
  if (!x) return undefined;
  const removed = new Set(dims.map((axis) => normalizeAxis(axis, x.length)));
  return x.filter((d, i) => (removed.size ? !removed.has(i) : d !== 1));
}

function expandDims(x: MaybeShape, axisValue: MaybeValues): MaybeShape {
  if (!x || !axisValue) return undefined;
  const axis = axisValue[0] < 0 ? axisValue[0] + x.length + 1 : axisValue[0];
  return [...x.slice(0, axis), 1, ...x.slice(axis)];
}

function split(x: MaybeShape, axisValue: MaybeValues, parts: number): MaybeShape[] {
  if (!x || !axisValue) return [];
  const axis = normalizeAxis(axisValue[0], x.length);
  const piece = x.map((d, i) => (i !== axis || d === null ? d : d / parts));
  return Array.from({ length: parts }, () => [...piece]);
}

function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
