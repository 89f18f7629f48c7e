/**
 * Elementwise operators: activations, arithmetic with broadcasting, comparisons, Clip, Where, and the
 * variadic Sum / Mean / Max / Min. They work in whatever layout their input is stored in; with several
 * inputs, an NHWC partner makes the others line up with it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../../../model';
import type { Layout } from '../layout';
import type { DType, HostTensor } from '../tensors';
import { broadcastMap, broadcastShapes, scalar } from './host';
import { sameAs } from './shapes';
import { OpError, type BuildContext, type NodeView, type OpSpec, type Operand, type ValueDesc } from './types';

type Attrs = NodeView['attributes'];

interface Unary {
  /** Builds the tensor function once per node (attributes read here, not on every run). */
  tensor(attributes: Attrs): (x: tf.Tensor) => tf.Tensor;
  /** The same on one number, for folding constants. */
  host?(attributes: Attrs): (x: number) => number;
  dtype?: DType;
}

const hardSigmoid = (x: tf.Tensor, alpha: number, beta: number) => tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);

const UNARY: Record<string, Unary> = {
  Relu: { tensor: () => tf.relu, host: () => (x) => Math.max(0, x) },
  Sigmoid: { tensor: () => tf.sigmoid },
  Tanh: { tensor: () => tf.tanh },
  LeakyRelu: {
    tensor: (a) => {
      const alpha = a.float('alpha', 0.01);
      return (x) => tf.leakyRelu(x, alpha);
    },
  },
  Elu: {
    tensor: (a) => {
      const alpha = a.float('alpha', 1);
      return alpha === 1 ? tf.elu : (x) => tf.where(tf.greater(x, 0), x, tf.mul(tf.sub(tf.exp(x), 1), alpha));
    },
  },
  Selu: {
    tensor: (a) => {
      const alpha = a.float('alpha', 1.67326319217681884765625);
      const gamma = a.float('gamma', 1.05070102214813232421875);
      return (x) => tf.mul(tf.where(tf.greater(x, 0), x, tf.mul(tf.sub(tf.exp(x), 1), alpha)), gamma);
    },
  },
  ThresholdedRelu: {
    tensor: (a) => {
      const alpha = a.float('alpha', 1);
      return (x) => tf.where(tf.greater(x, alpha), x, tf.zerosLike(x));
    },
  },
  HardSigmoid: {
    tensor: (a) => {
      const alpha = a.float('alpha', 0.2);
      const beta = a.float('beta', 0.5);
      return (x) => hardSigmoid(x, alpha, beta);
    },
  },
  HardSwish: { tensor: () => (x) => tf.mul(x, hardSigmoid(x, 1 / 6, 0.5)) },
  Softplus: { tensor: () => tf.softplus },
  Softsign: { tensor: () => (x) => tf.div(x, tf.add(tf.abs(x), 1)) },
  Mish: { tensor: () => (x) => tf.mul(x, tf.tanh(tf.softplus(x))) },
  Gelu: {
    tensor: (a) => {
      if (a.string('approximate', 'none') === 'tanh') {
        return (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));
      }
      return (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
    },
  },
  Erf: { tensor: () => tf.erf },
  Exp: { tensor: () => tf.exp, host: () => Math.exp },
  Log: { tensor: () => tf.log, host: () => Math.log },
  Sqrt: { tensor: () => tf.sqrt, host: () => Math.sqrt },
  Neg: { tensor: () => tf.neg, host: () => (x) => -x },
  Abs: { tensor: () => tf.abs, host: () => Math.abs },
  Reciprocal: { tensor: () => tf.reciprocal, host: () => (x) => 1 / x },
  Floor: { tensor: () => tf.floor, host: () => Math.floor },
  Ceil: { tensor: () => tf.ceil, host: () => Math.ceil },
  Round: { tensor: () => tf.round, host: () => roundHalfEven },
  Sign: { tensor: () => tf.sign, host: () => Math.sign },
  Sin: { tensor: () => tf.sin },
  Cos: { tensor: () => tf.cos },
  Not: { tensor: () => tf.logicalNot, host: () => (x) => (x ? 0 : 1), dtype: 'bool' },
};

function roundHalfEven(x: number): number {
  const rounded = Math.round(x);
  return Math.abs(x % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

function unaryOp(unary: Unary): OpSpec {
  return {
    infer: (node) => [sameAs(node.inputs[0], unary.dtype ?? node.inputs[0]?.dtype)],
    fold: unary.host
      ? (node, [x]) => {
          const fn = unary.host!(node.attributes);
          const dtype = unary.dtype ?? x.dtype;
          return [broadcastMap([x], dtype, dtype === 'float32' ? fn : (v) => Math.trunc(fn(v)))];
        }
      : undefined,
    build: (ctx) => {
      const x = ctx.stored(0);
      const fn = unary.tensor(ctx.node.attributes);
      return (inputs) => fn(x(inputs));
    },
  };
}

/** The layout for an elementwise result: NHWC when a 4-D input is NHWC and all inputs can follow it. */
function elementwiseLayout(inputs: readonly (ValueDesc | undefined)[], shape: Shape | undefined): Layout {
  if (shape?.length !== 4) return 'onnx';
  return inputs.some((input) => input?.layout === 'nhwc') ? 'nhwc' : 'onnx';
}

function broadcastInfer(node: NodeView, dtype: DType): ValueDesc {
  const inputs = node.inputs.filter((input): input is ValueDesc => input !== undefined);
  const shape = broadcastShapes(inputs.map((input) => input.shape));
  return { shape, dtype, layout: elementwiseLayout(inputs, shape) };
}

function operands(ctx: BuildContext): Operand[] {
  const output = ctx.outputs[0];
  return ctx.node.inputs.map((_, i) => (output.layout === 'nhwc' ? ctx.broadcastable(i, 'nhwc', 4) : ctx.onnx(i)));
}

interface Binary {
  tensor: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  host?: (a: number, b: number, dtype: DType) => number;
  /** The result type when it is not the first input's. */
  dtype?: DType;
}

const BINARY: Record<string, Binary> = {
  Add: { tensor: tf.add, host: (a, b) => a + b },
  Sub: { tensor: tf.sub, host: (a, b) => a - b },
  Mul: { tensor: tf.mul, host: (a, b) => a * b },
  Div: { tensor: tf.div, host: (a, b, dtype) => (dtype === 'float32' ? a / b : Math.trunc(a / b)) },
  // The exponent may be of another type than the base (ONNX Pow has two type parameters).
  Pow: { tensor: (a, b) => tf.pow(a, b.dtype === a.dtype ? b : tf.cast(b, a.dtype)), host: (a, b) => a ** b },
  PRelu: { tensor: (x, slope) => tf.where(tf.less(x, 0), tf.mul(x, slope), x) },
  Equal: { tensor: tf.equal, host: (a, b) => Number(a === b), dtype: 'bool' },
  Less: { tensor: tf.less, host: (a, b) => Number(a < b), dtype: 'bool' },
  LessOrEqual: { tensor: tf.lessEqual, host: (a, b) => Number(a <= b), dtype: 'bool' },
  Greater: { tensor: tf.greater, host: (a, b) => Number(a > b), dtype: 'bool' },
  GreaterOrEqual: { tensor: tf.greaterEqual, host: (a, b) => Number(a >= b), dtype: 'bool' },
  And: { tensor: tf.logicalAnd, host: (a, b) => Number(Boolean(a) && Boolean(b)), dtype: 'bool' },
  Or: { tensor: tf.logicalOr, host: (a, b) => Number(Boolean(a) || Boolean(b)), dtype: 'bool' },
  Xor: { tensor: tf.logicalXor, host: (a, b) => Number(Boolean(a) !== Boolean(b)), dtype: 'bool' },
};

/**
 * Before opset 7, `broadcast=1` with `axis` lines B up with A from that axis (B = [C] against
 * A = [N, C, H, W] at axis 1 means [C, 1, 1]); the trailing ones it needs, or undefined for numpy rules.
 */
function legacyTrailingOnes(node: NodeView, rankA: number | undefined, rankB: number | undefined): number | undefined {
  if (node.opset >= 7 || node.attributes.int('broadcast', 0) !== 1) return undefined;
  const axis = node.attributes.int('axis');
  if (axis === undefined || rankA === undefined || rankB === undefined) return undefined;
  const normalized = axis < 0 ? axis + rankA : axis;
  return Math.max(0, rankA - normalized - rankB);
}

function binaryOp(binary: Binary): OpSpec {
  return {
    infer: (node) => {
      const [a, b] = node.inputs;
      const ones = legacyTrailingOnes(node, a?.shape?.length, b?.shape?.length);
      const dtype = binary.dtype ?? a?.dtype ?? 'float32';
      if (ones === undefined) return [broadcastInfer(node, dtype)];
      return [{ shape: broadcastShapes([a!.shape, [...b!.shape!, ...new Array(ones).fill(1)]]), dtype, layout: 'onnx' }];
    },
    fold: binary.host
      ? (node, [a, b]) => {
          if (!b) throw new OpError(`takes 2 inputs, not ${node.inputs.length}`);
          const dtype = binary.dtype ?? a.dtype;
          const ones = legacyTrailingOnes(node, a.dims.length, b.dims.length) ?? 0;
          const aligned = { ...b, dims: [...b.dims, ...new Array(ones).fill(1)] };
          return [broadcastMap([a, aligned], dtype, (x, y) => binary.host!(x, y, a.dtype))];
        }
      : undefined,
    build: (ctx) => {
      // A damaged file can drop an input: say so rather than fail on an operand that is not there.
      if (ctx.node.inputs.length !== 2) throw new OpError(`takes 2 inputs, not ${ctx.node.inputs.length}`);
      const [a, b] = operands(ctx);
      const [rankA, rankB] = ctx.node.inputs.map((input) => input?.shape?.length);
      const ones = legacyTrailingOnes(ctx.node, rankA, rankB);
      if (ones === undefined) return (inputs) => binary.tensor(a(inputs), b(inputs));
      return (inputs) => {
        const right = b(inputs);
        return binary.tensor(a(inputs), tf.reshape(right, [...right.shape, ...new Array(ones).fill(1)]));
      };
    },
  };
}

/** Sum, Mean, Max, Min over any number of inputs. */
function variadicOp(combine: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, host: (values: number[]) => number, average = false): OpSpec {
  return {
    infer: (node) => [broadcastInfer(node, node.inputs[0]?.dtype ?? 'float32')],
    fold: (_node, inputs) => [broadcastMap(inputs, inputs[0].dtype, (...values) => host(values))],
    build: (ctx) => {
      const all = operands(ctx);
      return (inputs) => {
        const total = all.map((operand) => operand(inputs)).reduce((a, b) => combine(a, b));
        return average ? tf.div(total, all.length) : total;
      };
    },
  };
}

const clip: OpSpec = {
  infer: (node) => [sameAs(node.inputs[0])],
  fold: (node, [x, min, max]) => {
    const [low, high] = clipBounds(node, min, max);
    return [broadcastMap([x], x.dtype, (v) => Math.min(Math.max(v, low), high))];
  },
  build: (ctx) => {
    const x = ctx.stored(0);
    const { node } = ctx;
    // Bounds are attributes before opset 11 and (almost always constant) inputs from it.
    if (node.opset < 11 || [1, 2].every((i) => !node.inputs[i] || ctx.constant(i))) {
      const [low, high] = clipBounds(node, ctx.constant(1), ctx.constant(2));
      return (inputs) => tf.clipByValue(x(inputs), Math.max(low, -3.4e38), Math.min(high, 3.4e38));
    }
    const bound = (i: number) => (node.inputs[i] ? ctx.stored(i) : undefined);
    const [min, max] = [bound(1), bound(2)];
    return (inputs) => {
      let y = x(inputs);
      if (min) y = tf.maximum(y, min(inputs));
      if (max) y = tf.minimum(y, max(inputs));
      return y;
    };
  },
};

function clipBounds(node: NodeView, min: HostTensor | undefined, max: HostTensor | undefined): [number, number] {
  if (node.opset < 11) return [node.attributes.float('min', -Infinity), node.attributes.float('max', Infinity)];
  return [min ? scalar(min, 'minimum') : -Infinity, max ? scalar(max, 'maximum') : Infinity];
}

const where: OpSpec = {
  infer: (node) => [broadcastInfer(node, node.inputs[1]?.dtype ?? 'float32')],
  fold: (_node, [condition, a, b]) => [broadcastMap([condition, a, b], a.dtype, (c, x, y) => (c ? x : y))],
  build: (ctx) => {
    const [condition, a, b] = operands(ctx);
    return (inputs) => {
      const c = condition(inputs);
      return tf.where(c.dtype === 'bool' ? c : tf.cast(c, 'bool'), a(inputs), b(inputs));
    };
  },
};

/** A Clip from 0 is a ReLU (ReLU6 in MobileNets), as far as guided backpropagation is concerned. */
function clipsAtZero(node: NodeView): boolean {
  const min = node.opset < 11 ? node.attributes.float('min', -Infinity) : node.inputs[1]?.constant?.data?.[0];
  return min === 0;
}

export const ELEMENTWISE_OPS: Record<string, OpSpec> = {
  ...Object.fromEntries(Object.entries(UNARY).map(([name, unary]) => [name, unaryOp(unary)])),
  Relu: { ...unaryOp(UNARY.Relu), endsWithRelu: () => true },
  Sigmoid: { ...unaryOp(UNARY.Sigmoid), normalizesScores: true },
  ...Object.fromEntries(Object.entries(BINARY).map(([name, binary]) => [name, binaryOp(binary)])),
  Sum: variadicOp(tf.add, (values) => values.reduce((a, b) => a + b)),
  Mean: variadicOp(tf.add, (values) => values.reduce((a, b) => a + b) / values.length, true),
  Max: variadicOp(tf.maximum, (values) => Math.max(...values)),
  Min: variadicOp(tf.minimum, (values) => Math.min(...values)),
  Clip: { ...clip, endsWithRelu: clipsAtZero },
  Where: where,
};
