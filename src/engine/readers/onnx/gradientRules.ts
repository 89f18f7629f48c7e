/**
 * The backward rule of each ONNX operator the native input gradient supports (gradientGraph.ts),
 * written as ONNX nodes: given the gradient of a node's outputs, the nodes that compute the gradient of
 * each input that depends on the image. Each rule is PyTorch's derivative of the operator (its
 * autograd formulas: ReLU6 passes where min < x < max, hardswish's three pieces); max pooling sends a
 * window's gradient to every element equal to its maximum, which differs from PyTorch's first-only
 * choice only on exact ties. An operator without a rule here, or an attribute a rule does not handle,
 * throws `NoGradientRule`, and the engine takes the gradient itself. One file because it is one table
 * (`GRADIENT_RULES`) whose rules share the writer and the shape helpers, as the ops/ families share theirs.
 */
import type { Shape } from '../../model';
import type { Attributes } from './attributes';
import type { AttributeValue, AppendedConstant, AppendedNode } from './graphAppendix';
import type { OnnxNode } from './onnxProto';

export class NoGradientRule extends Error {}

/** Collects the nodes and constants of the backward graph, each with a fresh name. */
export class GraphWriter {
  readonly nodes: AppendedNode[] = [];
  readonly constants: AppendedConstant[] = [];
  private readonly cached = new Map<string, string>();
  private count = 0;

  constructor(readonly opset: number) {}

  name(): string {
    return `convlens/gradient/${this.count++}`;
  }

  op(opType: string, inputs: readonly string[], attributes?: Record<string, AttributeValue>): string {
    return this.ops(opType, inputs, 1, attributes)[0];
  }

  ops(opType: string, inputs: readonly string[], outputCount: number, attributes?: Record<string, AttributeValue>): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.name());
    this.nodes.push({ opType, inputs, outputs, ...(attributes ? { attributes } : {}) });
    return outputs;
  }

  floats(values: readonly number[] | Float32Array, dims: readonly number[] = []): string {
    return this.constant('f', Float32Array.from(values), dims);
  }

  ints(values: readonly number[]): string {
    return this.constant('i', BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  private constant(kind: string, values: Float32Array | BigInt64Array, dims: readonly number[]): string {
    // Small constants (a zero, an axis list) are written once however often they are used.
    const key = values.length <= 16 ? `${kind}${dims.join('x')}:${values.join(',')}` : undefined;
    const known = key && this.cached.get(key);
    if (known) return known;
    const name = this.name();
    this.constants.push({ name, dims, values });
    if (key) this.cached.set(key, name);
    return name;
  }

  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    const keep = { int: keepdims ? 1 : 0 };
    return this.opset >= 13
      ? this.op('ReduceSum', [x, this.ints(axes)], { keepdims: keep })
      : this.op('ReduceSum', [x], { axes, keepdims: keep });
  }

  reduceMean(x: string, axes: readonly number[]): string {
    const keepdims = { int: 1 };
    return this.opset >= 18 ? this.op('ReduceMean', [x, this.ints(axes)], { keepdims }) : this.op('ReduceMean', [x], { axes, keepdims });
  }

  unsqueeze(x: string, axes: readonly number[]): string {
    return this.opset >= 13 ? this.op('Unsqueeze', [x, this.ints(axes)]) : this.op('Unsqueeze', [x], { axes });
  }

  /** Where `condition`, the gradient; elsewhere zero. */
  passWhere(condition: string, dy: string): string {
    return this.op('Where', [condition, dy, this.floats([0])]);
  }
}

export interface RuleContext {
  node: OnnxNode;
  attributes: Attributes;
  /** The gradient of each output, undefined where nothing downstream depends on it. */
  dy: (string | undefined)[];
  /** Whether input `index` depends on the image (needs a gradient). */
  needs(index: number): boolean;
  /** A tensor's shape in ONNX order, where the analysis knows its rank. */
  shape(name: string): Shape | undefined;
  /** A constant's values, where the analysis folded it. */
  constantValues(name: string): readonly number[] | undefined;
  graph: GraphWriter;
}

/** The gradient of each input (undefined where not needed). */
type Rule = (context: RuleContext) => (string | undefined)[];

const passThrough: Rule = ({ dy, node, graph, needs }) => [
  needs(0) ? graph.op('Reshape', [dy[0]!, graph.op('Shape', [node.inputs[0]])]) : undefined,
];

const unary =
  (local: (context: RuleContext, x: string, y: string, dy: string) => string): Rule =>
  (context) => [local(context, context.node.inputs[0], context.node.outputs[0], context.dy[0]!)];

export const GRADIENT_RULES: Readonly<Record<string, Rule>> = {
  Identity: passThrough,
  Dropout: passThrough,
  Flatten: passThrough,
  Reshape: passThrough,
  Squeeze: passThrough,
  Unsqueeze: passThrough,
  Relu: unary(({ graph }, _x, y, dy) => graph.passWhere(graph.op('Greater', [y, graph.floats([0])]), dy)),
  LeakyRelu: unary(({ graph, attributes }, x, _y, dy) =>
    graph.op('Where', [
      graph.op('Greater', [x, graph.floats([0])]),
      dy,
      graph.op('Mul', [dy, graph.floats([attributes.float('alpha', 0.01)])]),
    ]),
  ),
  Clip: clip,
  Sigmoid: unary(({ graph }, _x, y, dy) => graph.op('Mul', [dy, graph.op('Mul', [y, graph.op('Sub', [graph.floats([1]), y])])])),
  Tanh: unary(({ graph }, _x, y, dy) => graph.op('Mul', [dy, graph.op('Sub', [graph.floats([1]), graph.op('Mul', [y, y])])])),
  HardSigmoid: unary(({ graph, attributes }, x, _y, dy) => {
    const alpha = attributes.float('alpha', 0.2);
    const v = graph.op('Add', [graph.op('Mul', [x, graph.floats([alpha])]), graph.floats([attributes.float('beta', 0.5)])]);
    const inside = graph.op('And', [graph.op('Greater', [v, graph.floats([0])]), graph.op('Less', [v, graph.floats([1])])]);
    return graph.passWhere(inside, graph.op('Mul', [dy, graph.floats([alpha])]));
  }),
  HardSwish: unary(({ graph }, x, _y, dy) => {
    const middle = graph.op('Mul', [dy, graph.op('Add', [graph.op('Mul', [x, graph.floats([1 / 3])]), graph.floats([0.5])])]);
    const belowOrMiddle = graph.op('Where', [graph.op('Less', [x, graph.floats([-3])]), graph.floats([0]), middle]);
    return graph.op('Where', [graph.op('Greater', [x, graph.floats([3])]), dy, belowOrMiddle]);
  }),
  Exp: unary(({ graph }, _x, y, dy) => graph.op('Mul', [dy, y])),
  Sqrt: unary(({ graph }, _x, y, dy) => graph.op('Div', [dy, graph.op('Mul', [y, graph.floats([2])])])),
  Neg: unary(({ graph }, _x, _y, dy) => graph.op('Neg', [dy])),
  Erf: unary(({ graph }, x, _y, dy) => {
    const gaussian = graph.op('Exp', [graph.op('Neg', [graph.op('Mul', [x, x])])]);
    return graph.op('Mul', [dy, graph.op('Mul', [gaussian, graph.floats([2 / Math.sqrt(Math.PI)])])]);
  }),
  Pow: pow,
  Add: (context) => {
    const [a, b] = context.node.inputs;
    return [broadcastBack(context, 0, context.dy[0]!, a), broadcastBack(context, 1, context.dy[0]!, b)];
  },
  Sub: (context) => {
    const [a, b] = context.node.inputs;
    const db = context.needs(1) ? context.graph.op('Neg', [context.dy[0]!]) : undefined;
    return [broadcastBack(context, 0, context.dy[0]!, a), db && broadcastBack(context, 1, db, b)];
  },
  Mul: (context) => {
    const [a, b] = context.node.inputs;
    const { graph, dy } = context;
    return [
      context.needs(0) ? broadcastBack(context, 0, graph.op('Mul', [dy[0]!, b]), a) : undefined,
      context.needs(1) ? broadcastBack(context, 1, graph.op('Mul', [dy[0]!, a]), b) : undefined,
    ];
  },
  Div: (context) => {
    const [a, b] = context.node.inputs;
    const { graph, dy } = context;
    const db = () => graph.op('Neg', [graph.op('Div', [graph.op('Mul', [dy[0]!, a]), graph.op('Mul', [b, b])])]);
    return [
      context.needs(0) ? broadcastBack(context, 0, graph.op('Div', [dy[0]!, b]), a) : undefined,
      context.needs(1) ? broadcastBack(context, 1, db(), b) : undefined,
    ];
  },
  Pad: pad,
  Slice: slice,
  Gather: gather,
  LayerNormalization: layerNormalization,
  Conv: conv,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: ({ node, graph, dy, shape }) => {
    const x = node.inputs[0];
    const spatial = staticDims(shape(x)).slice(2);
    const scaled = graph.op('Mul', [dy[0]!, graph.floats([1 / spatial.reduce((p, d) => p * d, 1)])]);
    return [graph.op('Expand', [scaled, graph.op('Shape', [x])])];
  },
  ReduceMean: (context) => reduce(context, true),
  ReduceSum: (context) => reduce(context, false),
  BatchNormalization: batchNormalization,
  Gemm: gemm,
  MatMul: matMul,
  Concat: concat,
  Transpose: ({ node, graph, dy, attributes, shape }) => {
    const rank = knownShape(shape(node.inputs[0])).length;
    const perm = attributes.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [graph.op('Transpose', [dy[0]!], { perm: inverse })];
  },
  Softmax: ({ node, graph, dy, attributes, shape }) => {
    const rank = knownShape(shape(node.inputs[0])).length;
    const axis = normalisedAxis(attributes.int('axis', graph.opset >= 13 ? -1 : 1), rank);
    // Before opset 13 Softmax flattens from `axis` on: the same only where that is the last axis.
    if (graph.opset < 13 && axis !== rank - 1) throw new NoGradientRule();
    const y = node.outputs[0];
    const dot = graph.reduceSum(graph.op('Mul', [dy[0]!, y]), [axis], true);
    return [graph.op('Mul', [y, graph.op('Sub', [dy[0]!, dot])])];
  },
};

/** ReLU6 and other clips: the gradient passes where min < x < max, as PyTorch's hardtanh passes it. */
function clip(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy } = context;
  if (context.needs(1) || context.needs(2)) throw new NoGradientRule();
  // The bounds are inputs (or left out) from operator set 11, the oldest the rules take (gradientGraph.ts).
  const [x, min, max] = node.inputs;
  const bounds: string[] = [];
  if (min) bounds.push(graph.op('Greater', [x, min]));
  if (max) bounds.push(graph.op('Less', [x, max]));
  if (bounds.length === 0) return [dy[0]];
  const inside = bounds.length === 1 ? bounds[0] : graph.op('And', bounds);
  return [graph.passWhere(inside, dy[0]!)];
}

function pow(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy } = context;
  const exponent = context.constantValues(node.inputs[1]);
  if (context.needs(1) || exponent?.length !== 1) throw new NoGradientRule();
  const p = exponent[0];
  const slope = graph.op('Mul', [graph.op('Pow', [node.inputs[0], graph.floats([p - 1])]), graph.floats([p])]);
  return [graph.op('Mul', [dy[0]!, slope])];
}

/** Constant padding: the gradient of the part the input fills, cut out of the output's. */
function pad(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, attributes } = context;
  const pads = graph.opset >= 11 ? context.constantValues(node.inputs[1]) : attributes.ints('pads');
  if (!pads || node.inputs[3] || attributes.string('mode', 'constant') !== 'constant' || pads.some((p) => p < 0))
    throw new NoGradientRule();
  const rank = pads.length / 2;
  const axes = Array.from({ length: rank }, (_, i) => i);
  const ends = axes.map((i) => (pads[rank + i] > 0 ? -pads[rank + i] : Number.MAX_SAFE_INTEGER));
  return [graph.op('Slice', [dy[0]!, graph.ints(pads.slice(0, rank)), graph.ints(ends), graph.ints(axes)])];
}

/** Slicing with step 1: the slice's gradient padded with zeros back to the input's extent. */
function slice(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, shape } = context;
  const dims = knownShape(shape(node.inputs[0]));
  const [starts, ends, axes, steps] = [1, 2, 3, 4].map((i) => (node.inputs[i] ? context.constantValues(node.inputs[i]) : undefined));
  if (!starts || !ends || (node.inputs[3] && !axes) || (node.inputs[4] && !steps) || steps?.some((step) => step !== 1))
    throw new NoGradientRule();
  const pads = new Array<number>(2 * dims.length).fill(0);
  (axes ?? starts.map((_, i) => i)).forEach((given, i) => {
    const axis = normalisedAxis(given, dims.length);
    const size = dims[axis];
    if (size === null) throw new NoGradientRule();
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    pads[axis] = clamp(starts[i]);
    pads[dims.length + axis] = size - Math.max(clamp(ends[i]), clamp(starts[i]));
  });
  return [graph.op('Pad', [dy[0]!, graph.ints(pads)])];
}

/** Gathering one index (a transformer's class token, say): its gradient put back at that index, zeros elsewhere. */
function gather(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, attributes, shape } = context;
  const indices = context.constantValues(node.inputs[1]);
  const indexShape = shape(node.inputs[1]);
  if (context.needs(1) || indices?.length !== 1 || indexShape?.length !== 0) throw new NoGradientRule();
  const dims = knownShape(shape(node.inputs[0]));
  const axis = normalisedAxis(attributes.int('axis', 0), dims.length);
  const size = dims[axis];
  if (size === null) throw new NoGradientRule();
  const index = indices[0] < 0 ? indices[0] + size : indices[0];
  const pads = new Array<number>(2 * dims.length).fill(0);
  pads[axis] = index;
  pads[dims.length + axis] = size - index - 1;
  return [graph.op('Pad', [graph.unsqueeze(dy[0]!, [axis]), graph.ints(pads)])];
}

/**
 * Layer normalisation over the axes from `axis` on: dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ, where
 * dx̂ = dy·scale, x̂ the normalised input and σ = √(var + ε).
 */
function layerNormalization(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, attributes, shape } = context;
  if (context.needs(1) || context.needs(2) || node.outputs.length > 1) throw new NoGradientRule();
  const [x, scale] = node.inputs;
  const rank = knownShape(shape(x)).length;
  const from = normalisedAxis(attributes.int('axis', -1), rank);
  const axes = Array.from({ length: rank - from }, (_, i) => from + i);
  const centred = graph.op('Sub', [x, graph.reduceMean(x, axes)]);
  const deviation = graph.op('Sqrt', [
    graph.op('Add', [graph.reduceMean(graph.op('Mul', [centred, centred]), axes), graph.floats([attributes.float('epsilon', 1e-5)])]),
  ]);
  const normalised = graph.op('Div', [centred, deviation]);
  const dNormalised = graph.op('Mul', [dy[0]!, scale]);
  const meanGradient = graph.reduceMean(dNormalised, axes);
  const meanProjection = graph.reduceMean(graph.op('Mul', [dNormalised, normalised]), axes);
  const centredGradient = graph.op('Sub', [graph.op('Sub', [dNormalised, meanGradient]), graph.op('Mul', [normalised, meanProjection])]);
  return [graph.op('Div', [centredGradient, deviation])];
}

/** `gradient` (the shape of the node's output) summed over the axes `operand` was broadcast along. */
function broadcastBack(context: RuleContext, index: number, gradient: string, operand: string): string | undefined {
  if (!context.needs(index)) return undefined;
  const { graph, shape, node } = context;
  const to = knownShape(shape(operand));
  const from = knownShape(shape(node.outputs[0]));
  const lead = from.length - to.length;
  const axes = from.map((_, i) => i).filter((i) => i < lead || (to[i - lead] === 1 && from[i] !== 1));
  if (axes.length === 0) return gradient;
  return graph.op('Reshape', [graph.reduceSum(gradient, axes, true), graph.op('Shape', [operand])]);
}

function conv(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, attributes, shape } = context;
  if (context.needs(1) || context.needs(2)) throw new NoGradientRule();
  const [x, w] = node.inputs;
  const window = convWindow(
    attributes,
    staticDims(shape(x)).slice(2),
    staticDims(shape(node.outputs[0])).slice(2),
    staticDims(shape(w)).slice(2),
  );
  return [
    graph.op('ConvTranspose', [dy[0]!, w], {
      group: { int: attributes.int('group', 1) },
      kernel_shape: window.kernel,
      strides: window.strides,
      dilations: window.dilations,
      pads: window.pads,
      output_padding: window.outputPadding,
    }),
  ];
}

interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin pads then end pads, as ONNX writes them. */
  pads: number[];
  /** What a transposed convolution adds at the end to give back the input's size. */
  outputPadding: number[];
}

/** A sliding window's geometry, with `auto_pad` resolved, and the output padding that inverts its sizes. */
function convWindow(attributes: Attributes, input: number[], output: number[], kernelFromWeights: number[]): Window {
  const rank = input.length;
  const kernel = attributes.ints('kernel_shape') ?? kernelFromWeights;
  const strides = attributes.ints('strides') ?? new Array<number>(rank).fill(1);
  const dilations = attributes.ints('dilations') ?? new Array<number>(rank).fill(1);
  const autoPad = attributes.string('auto_pad', 'NOTSET');
  let pads = attributes.ints('pads') ?? new Array<number>(2 * rank).fill(0);
  if (autoPad === 'VALID') pads = new Array<number>(2 * rank).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = input.map((size, i) => Math.max((output[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size, 0));
    const small = total.map((t) => Math.floor(t / 2));
    const large = total.map((t, i) => t - small[i]);
    pads = autoPad === 'SAME_UPPER' ? [...small, ...large] : [...large, ...small];
  } else if (autoPad !== 'NOTSET') throw new NoGradientRule();
  const outputPadding = input.map(
    (size, i) => size - ((output[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[rank + i]),
  );
  // A ceil-mode window past the end: crop it with a larger end pad instead.
  outputPadding.forEach((extra, i) => {
    if (extra < 0) {
      pads[rank + i] -= extra;
      outputPadding[i] = 0;
    }
  });
  if (outputPadding.some((extra, i) => extra >= Math.max(strides[i], dilations[i]))) throw new NoGradientRule();
  return { kernel, strides, dilations, pads, outputPadding };
}

/**
 * Max pooling: for each offset in the window, the strided slice of the (−∞-padded) input that the
 * offset reads, compared with the pooled maximum; the gradient where they are equal goes back through a
 * transposed convolution whose kernel is one at that offset (all offsets at once, grouped by channel).
 */
function maxPool(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, attributes, shape } = context;
  const x = node.inputs[0];
  const y = node.outputs[0];
  const [, channels, ...input] = staticDims(shape(x));
  const output = staticDims(shape(y)).slice(2);
  if (input.length !== 2 || context.dy[1]) throw new NoGradientRule();
  const window = convWindow(attributes, input, output, []);
  if (window.dilations.some((d) => d !== 1)) throw new NoGradientRule();
  const [kh, kw] = window.kernel;
  const [sh, sw] = window.strides;
  const [top, left] = window.pads;
  const reach = output.map((size, i) => (size - 1) * window.strides[i] + window.kernel[i]);
  const bottom = Math.max(window.pads[2], reach[0] - input[0] - top);
  const right = Math.max(window.pads[3], reach[1] - input[1] - left);
  const padded = graph.op('Pad', [x, graph.ints([0, 0, top, left, 0, 0, bottom, right]), graph.floats([-Infinity])]);
  const taken: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const ends = [i + (output[0] - 1) * sh + 1, j + (output[1] - 1) * sw + 1];
      const read = graph.op('Slice', [padded, graph.ints([i, j]), graph.ints(ends), graph.ints([2, 3]), graph.ints([sh, sw])]);
      const isMax = graph.op('Cast', [graph.op('Equal', [read, y])], { to: { int: 1 } });
      taken.push(graph.op('Reshape', [graph.op('Mul', [isMax, dy[0]!]), graph.ints([0, channels, 1, ...output])]));
    }
  }
  const offsets = kh * kw;
  const stacked = graph.op('Reshape', [graph.op('Concat', taken, { axis: { int: 2 } }), graph.ints([0, channels * offsets, ...output])]);
  const oneHot = new Float32Array(channels * offsets * offsets);
  for (let c = 0; c < channels; c++) for (let o = 0; o < offsets; o++) oneHot[(c * offsets + o) * offsets + o] = 1;
  const kernel = graph.floats(oneHot, [channels * offsets, 1, kh, kw]);
  return [
    graph.op('ConvTranspose', [stacked, kernel], {
      group: { int: channels },
      kernel_shape: window.kernel,
      strides: window.strides,
      pads: window.pads,
      output_padding: window.outputPadding,
    }),
  ];
}

/** Average pooling: each output's gradient spread evenly over its window, by a transposed convolution. */
function averagePool(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, attributes, shape } = context;
  const x = node.inputs[0];
  const [, channels, ...input] = staticDims(shape(x));
  const output = staticDims(shape(node.outputs[0])).slice(2);
  const window = convWindow(attributes, input, output, []);
  const padded = window.pads.some((p) => p > 0);
  // Without counting the padding, windows at the border divide by fewer elements.
  if ((padded && attributes.int('count_include_pad', 0) === 0) || attributes.int('ceil_mode', 0) === 1) throw new NoGradientRule();
  const size = window.kernel.reduce((p, k) => p * k, 1);
  const kernel = graph.floats(new Float32Array(channels * size).fill(1 / size), [channels, 1, ...window.kernel]);
  return [
    graph.op('ConvTranspose', [dy[0]!, kernel], {
      group: { int: channels },
      kernel_shape: window.kernel,
      strides: window.strides,
      pads: window.pads,
      output_padding: window.outputPadding,
    }),
  ];
}

function reduce(context: RuleContext, mean: boolean): (string | undefined)[] {
  const { node, graph, dy, attributes, shape } = context;
  const x = node.inputs[0];
  const dims = staticDims(shape(x));
  const axesInput = node.inputs[1] ? context.constantValues(node.inputs[1]) : undefined;
  if (node.inputs[1] && !axesInput) throw new NoGradientRule();
  const given = attributes.ints('axes') ?? axesInput;
  if (!given?.length && attributes.int('noop_with_empty_axes', 0) === 1) return [dy[0]];
  const axes = given?.length ? given.map((a) => normalisedAxis(a, dims.length)) : dims.map((_, i) => i);
  const kept =
    attributes.int('keepdims', 1) === 1
      ? dy[0]!
      : graph.unsqueeze(
          dy[0]!,
          [...axes].sort((a, b) => a - b),
        );
  const count = axes.reduce((p, a) => p * dims[a], 1);
  const scaled = mean ? graph.op('Mul', [kept, graph.floats([1 / count])]) : kept;
  return [graph.op('Expand', [scaled, graph.op('Shape', [x])])];
}

function batchNormalization(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, attributes, shape } = context;
  if ([1, 2, 3, 4].some((i) => context.needs(i)) || attributes.int('training_mode', 0) === 1 || node.outputs.length > 1)
    throw new NoGradientRule();
  const [x, scale, , , variance] = node.inputs;
  const rank = knownShape(shape(x)).length;
  const [channels] = staticDims(shape(scale));
  const deviation = graph.op('Sqrt', [graph.op('Add', [variance, graph.floats([attributes.float('epsilon', 1e-5)])])]);
  const factor = graph.op('Reshape', [
    graph.op('Div', [scale, deviation]),
    graph.ints([channels, ...new Array<number>(Math.max(rank - 2, 0)).fill(1)]),
  ]);
  return [graph.op('Mul', [dy[0]!, factor])];
}

/** Gemm's input gradient: Y = α·op(A)·op(B) + β·C, with B and C fixed. */
function gemm(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, attributes } = context;
  if (context.needs(1)) throw new NoGradientRule();
  const [, b, c] = node.inputs;
  const alpha = attributes.float('alpha', 1);
  const transA = attributes.int('transA', 0) === 1;
  const transB = attributes.int('transB', 0) === 1;
  // dA = α·dY·op(B)ᵀ, or its transpose op(B)·dYᵀ where A is transposed.
  const da = transA
    ? graph.op('Gemm', [b, dy[0]!], { alpha, transA: { int: transB ? 1 : 0 }, transB: { int: 1 } })
    : graph.op('Gemm', [dy[0]!, b], { alpha, transB: { int: transB ? 0 : 1 } });
  const dc =
    c && context.needs(2)
      ? broadcastBack(context, 2, graph.op('Mul', [dy[0]!, graph.floats([attributes.float('beta', 1)])]), c)
      : undefined;
  return [context.needs(0) ? da : undefined, undefined, dc];
}

function matMul(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, shape } = context;
  const [a, b] = node.inputs;
  const aShape = knownShape(shape(a));
  const bShape = knownShape(shape(b));
  const out = knownShape(shape(node.outputs[0]));
  if (aShape.length < 2 || bShape.length < 2) throw new NoGradientRule();
  const swapLast = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  const batch = out.slice(0, -2);
  const summed = (gradient: string, gradientShape: Shape, operand: string, operandShape: Shape) => {
    const lead = gradientShape.length - operandShape.length;
    const axes = gradientShape.map((_, i) => i).filter((i) => i < lead || (operandShape[i - lead] === 1 && gradientShape[i] !== 1));
    return axes.length === 0 ? gradient : graph.op('Reshape', [graph.reduceSum(gradient, axes, true), graph.op('Shape', [operand])]);
  };
  const da = context.needs(0)
    ? summed(
        graph.op('MatMul', [dy[0]!, graph.op('Transpose', [b], { perm: swapLast(bShape.length) })]),
        [...batch, ...aShape.slice(-2)],
        a,
        aShape,
      )
    : undefined;
  const db = context.needs(1)
    ? summed(
        graph.op('MatMul', [graph.op('Transpose', [a], { perm: swapLast(aShape.length) }), dy[0]!]),
        [...batch, ...bShape.slice(-2)],
        b,
        bShape,
      )
    : undefined;
  return [da, db];
}

function concat(context: RuleContext): (string | undefined)[] {
  const { node, graph, dy, attributes, shape } = context;
  const output = knownShape(shape(node.outputs[0]));
  const axis = normalisedAxis(attributes.int('axis', 0), output.length);
  const known = node.inputs.map((input) => shape(input)?.[axis] ?? null);
  let parts: string[];
  if (known.every((size): size is number => size !== null)) {
    parts =
      graph.opset >= 13
        ? graph.ops('Split', [dy[0]!, graph.ints(known)], known.length, { axis: { int: axis } })
        : graph.ops('Split', [dy[0]!], known.length, { axis: { int: axis }, split: known });
  } else {
    // A size the analysis does not know (a class token expanded to the batch, say) is read while running.
    if (graph.opset < 13) throw new NoGradientRule();
    const sizes = node.inputs.map((input, i) => {
      const size = known[i];
      return size !== null
        ? graph.ints([size])
        : graph.op('Slice', [graph.op('Shape', [input]), graph.ints([axis]), graph.ints([axis + 1])]);
    });
    parts = graph.ops('Split', [dy[0]!, graph.op('Concat', sizes, { axis: { int: 0 } })], known.length, { axis: { int: axis } });
  }
  return parts.map((part, i) => (context.needs(i) ? part : undefined));
}

function normalisedAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function knownShape(shape: Shape | undefined): Shape {
  if (!shape) throw new NoGradientRule();
  return shape;
}

/** A shape whose dimensions (past the batch) are all known. */
function staticDims(shape: Shape | undefined): number[] {
  const known = knownShape(shape);
  if (known.slice(1).some((d) => d === null)) throw new NoGradientRule();
  return known.map((d) => d ?? -1);
}
