/**
 * Resize (opsets 10–19) and its predecessor Upsample (7, 9): nearest, linear and cubic interpolation
 * with every coordinate transformation and nearest rounding mode the specification defines.
 *
 * The interpolation is separable, so each resized axis is done on its own, in the stored layout: every
 * output position reads one to four input positions ("taps") along that axis, with weights worked out
 * on the host from the specification's formulas (onnx/reference/ops/op_resize.py), and the axis is
 * resized as a weighted sum of gathers. That is exact for every mode (tfjs's resize kernels cover only
 * two of them), and differentiable with the gradient of Gather, for explanations through a
 * segmentation head's upsampling.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../../../model';
import { onnxShape, storedAxis } from '../layout';
import { normalizeAxes } from './shapes';
import { OpError, type BuildContext, type Inputs, type NodeView, type OpSpec, type Run, type ValueDesc } from './types';

type Mode = 'nearest' | 'linear' | 'cubic';
type Transform = 'half_pixel' | 'half_pixel_symmetric' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric';
type Rounding = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
type AspectPolicy = 'stretch' | 'not_larger' | 'not_smaller';

interface ResizeRules {
  mode: Mode;
  transform: Transform;
  rounding: Rounding;
  cubicA: number;
  excludeOutside: boolean;
  /** The axes scales and sizes are given for (opset 18); all when undefined. */
  axes?: number[];
  aspect: AspectPolicy;
  /** Where the scales and the sizes are: an input index, or the scales of Upsample-7's attribute. */
  scalesInput?: number;
  sizesInput?: number;
  scalesAttribute?: number[];
}

const TRANSFORMS = new Set(['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric']);
const ROUNDINGS = new Set(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']);

function interpolationMode(node: NodeView): Mode {
  // Upsample-7 and Resize-10 call linear interpolation "bilinear" in some writers.
  const mode = node.attributes.string('mode', 'nearest').toLowerCase();
  if (mode === 'nearest') return 'nearest';
  if (mode === 'linear' || mode === 'bilinear') return 'linear';
  if (mode === 'cubic' && node.opType === 'Resize') return 'cubic';
  throw new OpError(`has the interpolation mode "${mode}", which is not one ONNX defines`);
}

function rulesOf(node: NodeView): ResizeRules {
  const mode = interpolationMode(node);
  // Before opset 11 (Upsample, Resize-10) the only transformation was x / scale, and nearest took the
  // floor, as the reference implementation of Upsample and PyTorch's nearest do.
  if (node.opType === 'Upsample' || node.opset < 11) {
    const common = { mode, transform: 'asymmetric', rounding: 'floor', cubicA: -0.75, excludeOutside: false, aspect: 'stretch' } as const;
    if (node.opType === 'Upsample' && node.opset < 9) {
      const scales = node.attributes.floats('scales');
      if (!scales) throw new OpError('has no scales');
      return { ...common, scalesAttribute: scales };
    }
    return { ...common, scalesInput: 1 };
  }
  const transform = node.attributes.string('coordinate_transformation_mode', 'half_pixel');
  if (transform === 'tf_crop_and_resize') throw new OpError('crops before resizing (tf_crop_and_resize), which ConvLens does not run yet');
  if (!TRANSFORMS.has(transform)) throw new OpError(`has the coordinate transformation "${transform}", which is not one ONNX defines`);
  const rounding = node.attributes.string('nearest_mode', 'round_prefer_floor');
  if (!ROUNDINGS.has(rounding)) throw new OpError(`has the nearest mode "${rounding}", which is not one ONNX defines`);
  if (node.attributes.int('antialias', 0) !== 0) throw new OpError('resizes with antialiasing, which ConvLens does not run yet');
  const aspect = node.attributes.string('keep_aspect_ratio_policy', 'stretch');
  if (aspect !== 'stretch' && aspect !== 'not_larger' && aspect !== 'not_smaller')
    throw new OpError(`has the aspect ratio policy "${aspect}", which is not one ONNX defines`);
  const rank = node.inputs[0]?.shape?.length;
  const axesAttribute = node.attributes.ints('axes');
  const axes = axesAttribute && rank !== undefined ? normalizeAxes(axesAttribute, rank) : axesAttribute;
  return {
    mode,
    transform: transform as Transform,
    rounding: rounding as Rounding,
    cubicA: node.attributes.float('cubic_coeff_a', -0.75),
    excludeOutside: node.attributes.int('exclude_outside', 0) === 1,
    ...(axes ? { axes } : {}),
    aspect,
    scalesInput: 2,
    sizesInput: 3,
  };
}

/** One resized axis: its input and output sizes, and the scale its coordinates are mapped with. */
interface AxisResize {
  axis: number;
  input: number;
  output: number;
  scale: number;
}

/**
 * The output size and scale of every axis, from the scales (output = ⌊input × scale⌋) or the sizes
 * (scale = output / input, one scale for all listed axes under a keep_aspect_ratio_policy). Sizes
 * unknown until running are null.
 */
function plan(
  rules: ResizeRules,
  input: Shape,
  scales: readonly number[] | undefined,
  sizes: readonly (number | null)[] | undefined,
): { output: Shape; scales: (number | null)[] } {
  const rank = input.length;
  const axes = rules.axes ?? input.map((_, i) => i);
  if (rules.axes && rules.axes.some((axis) => axis >= rank)) throw new OpError(`resizes an axis outside a tensor of rank ${rank}`);
  const given = scales?.length ? scales : sizes;
  if (!given) throw new OpError('has neither scales nor sizes');
  if (given.length !== axes.length) throw new OpError(`has ${given.length} ${scales?.length ? 'scales' : 'sizes'} for ${axes.length} axes`);
  const output: Shape = [...input];
  const scaleOf: (number | null)[] = input.map(() => 1);
  if (scales?.length) {
    axes.forEach((axis, i) => {
      const scale = scales[i];
      if (!(scale > 0 && Number.isFinite(scale))) throw new OpError(`has the scale ${scale}, which is not a positive number`);
      scaleOf[axis] = scale;
      output[axis] = input[axis] === null ? null : Math.floor(input[axis]! * scale);
    });
    return { output, scales: scaleOf };
  }
  axes.forEach((axis, i) => {
    const size = sizes![i];
    if (size !== null && !(Number.isSafeInteger(size) && size >= 0)) throw new OpError(`has the size ${size}, which is not a valid size`);
    output[axis] = size;
    scaleOf[axis] = size === null || input[axis] === null ? null : size / input[axis]!;
  });
  if (rules.aspect !== 'stretch') {
    const listed = axes.map((axis) => scaleOf[axis]);
    const scale = listed.some((s) => s === null)
      ? null
      : rules.aspect === 'not_larger'
        ? Math.min(...(listed as number[]))
        : Math.max(...(listed as number[]));
    for (const axis of axes) {
      scaleOf[axis] = scale;
      // The specification rounds half up here.
      output[axis] = scale === null || input[axis] === null ? null : Math.floor(scale * input[axis]! + 0.5);
    }
  }
  return { output, scales: scaleOf };
}

/** Values of an optional parameter input as known before running: undefined when absent or empty, null when computed. */
function staticValues(node: NodeView, index: number | undefined): (number | null)[] | undefined | null {
  if (index === undefined) return undefined;
  const input = node.inputs[index];
  if (!input) return undefined;
  if (input.constant?.data) return input.constant.data.length ? Array.from(input.constant.data) : undefined;
  if (input.shape?.[0] === 0) return undefined;
  return input.partial ?? null;
}

function inferResize(node: NodeView): ValueDesc[] {
  const x = node.inputs[0];
  const rules = rulesOf(node);
  const layout = x?.layout ?? 'onnx';
  if (!x?.shape) return [{ dtype: 'float32', layout }];
  const scales = rules.scalesAttribute ?? staticValues(node, rules.scalesInput);
  const sizes = staticValues(node, rules.sizesInput);
  if (scales === null || (scales === undefined && sizes === null)) return [{ shape: x.shape.map(() => null), dtype: x.dtype, layout }];
  if (scales?.some((s) => s === null)) return [{ shape: x.shape.map(() => null), dtype: x.dtype, layout }];
  const { output } = plan(rules, x.shape, scales as number[] | undefined, sizes ?? undefined);
  return [{ shape: output, dtype: x.dtype, layout }];
}

/** Where output position `y` falls in the input, in input pixels (the specification's x_original). */
function sourceCoordinate(transform: Transform, y: number, { input, output, scale }: AxisResize): number {
  switch (transform) {
    case 'half_pixel':
      return (y + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const adjustment = output / (scale * input);
      return (input / 2) * (1 - adjustment) + (y + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel':
      return output > 1 ? (y + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return output === 1 ? 0 : (y * (input - 1)) / (output - 1);
    case 'asymmetric':
      return y / scale;
  }
}

/** Ties at exactly half a pixel go the way nearest_mode says. */
function roundNearest(x: number, rounding: Rounding): number {
  switch (rounding) {
    case 'round_prefer_floor':
      return Math.ceil(x - 0.5);
    case 'round_prefer_ceil':
      return Math.floor(x + 0.5);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
  }
}

/** Keys's cubic convolution kernel with coefficient `a` (−0.75 in PyTorch and ONNX, −0.5 in TensorFlow). */
function cubicWeight(distance: number, a: number): number {
  const s = Math.abs(distance);
  if (s <= 1) return ((a + 2) * s - (a + 3)) * s * s + 1;
  if (s < 2) return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
  return 0;
}

interface Tap {
  indices: Int32Array;
  weights: Float32Array;
}

/**
 * The input positions and weights each output position reads along one axis. Positions outside the
 * input read its edge (the specification pads with edge values), except under exclude_outside, which
 * gives them no weight and renormalises the others.
 */
function taps(rules: ResizeRules, resize: AxisResize): Tap[] {
  const count = rules.mode === 'nearest' ? 1 : rules.mode === 'linear' ? 2 : 4;
  const result = Array.from({ length: count }, () => ({
    indices: new Int32Array(resize.output),
    weights: new Float32Array(resize.output),
  }));
  const last = resize.input - 1;
  const clamp = (i: number) => Math.min(Math.max(i, 0), last);
  for (let y = 0; y < resize.output; y++) {
    const x = sourceCoordinate(rules.transform, y, resize);
    if (rules.mode === 'nearest') {
      result[0].indices[y] = clamp(roundNearest(x, rules.rounding));
      result[0].weights[y] = 1;
      continue;
    }
    const base = Math.floor(x);
    const t = x - base;
    if (rules.mode === 'linear') {
      result[0].indices[y] = clamp(base);
      result[0].weights[y] = 1 - t;
      result[1].indices[y] = clamp(base + 1);
      result[1].weights[y] = t;
      continue;
    }
    let total = 0;
    const weights = [t + 1, t, 1 - t, 2 - t].map((distance, k) => {
      const outside = base - 1 + k < 0 || base - 1 + k > last;
      const weight = rules.excludeOutside && outside ? 0 : cubicWeight(distance, rules.cubicA);
      total += weight;
      return weight;
    });
    weights.forEach((weight, k) => {
      result[k].indices[y] = clamp(base - 1 + k);
      result[k].weights[y] = rules.excludeOutside ? weight / total : weight;
    });
  }
  return result;
}

/** Resizes stored axis `stored` of `x` as the taps say. */
function resizeAxis(x: tf.Tensor, stored: number, axisTaps: Tap[]): tf.Tensor {
  const [first, ...rest] = axisTaps.map(({ indices, weights }) => {
    const picked = tf.gather(x, tf.tensor1d(indices, 'int32'), stored);
    if (axisTaps.length === 1) return picked;
    const shape = x.shape.map((_, axis) => (axis === stored ? weights.length : 1));
    return tf.mul(picked, tf.tensor(weights, shape));
  });
  return rest.reduce((sum, term) => tf.add(sum, term), first);
}

/** Reads an optional parameter input while running: undefined when it is absent or empty. */
function runtimeValues(ctx: BuildContext, index: number | undefined): (inputs: Inputs) => number[] | undefined {
  if (index === undefined || !ctx.node.inputs[index]) return () => undefined;
  const read = ctx.host(index, 64);
  return (inputs) => {
    const values = Array.from(read(inputs).data);
    return values.length ? values : undefined;
  };
}

function buildResize(ctx: BuildContext): Run {
  const rules = rulesOf(ctx.node);
  const x = ctx.stored(0);
  const layout = ctx.node.inputs[0]!.layout;
  const scalesOf = rules.scalesAttribute ? () => rules.scalesAttribute : runtimeValues(ctx, rules.scalesInput);
  const sizesOf = runtimeValues(ctx, rules.sizesInput);
  if (ctx.outputs[0].layout !== layout) throw new OpError('changes the layout of its input, which ConvLens does not expect');
  return (inputs) => {
    let result = x(inputs);
    if (result.dtype !== 'float32') throw new OpError(`resizes a tensor of ${result.dtype}, where ConvLens resizes float tensors`);
    const shape = onnxShape(result.shape, layout);
    const resizeRules = { ...rules, ...(rules.axes ? { axes: normalizeAxes(rules.axes, shape.length) } : {}) };
    const { output, scales } = plan(resizeRules, shape, scalesOf(inputs), sizesOf(inputs));
    ctx.checkOutput(output as number[], 'float32');
    shape.forEach((size, axis) => {
      const resize: AxisResize = { axis, input: size, output: output[axis]!, scale: scales[axis]! };
      // An axis kept at its size with a scale of 1 maps every position to itself, whatever the mode.
      if (resize.output === size && resize.scale === 1) return;
      if (size === 0) throw new OpError(`resizes an empty axis to ${resize.output}`);
      result = resizeAxis(result, storedAxis(axis, layout), taps(resizeRules, resize));
    });
    return result;
  };
}

/** Resampling moves positions by a factor no window describes; an image kept at its size is pointwise. */
const resizeGeometry: OpSpec['geometry'] = (node, outputs) => {
  const input = node.inputs[0]?.shape;
  const output = outputs[0]?.shape;
  if (input?.length !== 4) return undefined;
  const sameSize = input[2] !== null && input[3] !== null && output?.[2] === input[2] && output?.[3] === input[3];
  return sameSize ? undefined : { kind: 'untraceable', why: 'resamples the image' };
};

const resize: OpSpec = { infer: inferResize, build: buildResize, geometry: resizeGeometry };

export const RESIZE_OPS: Record<string, OpSpec> = {
  Resize: resize,
  Upsample: resize,
};
