/**
 * Receptive fields: the rectangle of model-input pixels that one position of a node's output can
 * depend on, worked out from the layer stack (kernel sizes, strides, dilations, padding, pooling)
 * rather than estimated from gradients. The "maximally activating patches" of a channel are these
 * rectangles cut from the images that excite it most.
 *
 * Along each axis the field of unit i is [start + i·jump, start + i·jump + size): every windowed
 * node multiplies the jump by its stride, widens the field by (span − 1) input jumps, and moves the
 * start back by its leading padding. Where branches meet (add, concat on channels) the field is the
 * union of theirs. The rectangle is the bounding box of what can matter: a dilated kernel skips rows
 * and columns inside it, and weights that happen to be zero are not looked at; nothing outside it can
 * change the unit. Fields are unclipped: they reach into the padding around the image.
 *
 * Mirror and edge padding (MirrorPad, ONNX Pad in reflect or edge mode) fill that padding with
 * copies of pixels near the border: the field counts the padded positions, not the pixels they copy,
 * so a unit at the border can also depend on a few pixels mirrored from just beyond its clipped field.
 *
 * Nodes without geometry are taken to be pointwise; where the model's summary shows one changing
 * the feature map's size or rank anyway, the field becomes the whole input, saying which node.
 */
import { nodeIndex, requiredNodes, type GraphNode, type RunnableModel, type SpatialGeometry } from '../graph';
import { walkLayers, type Shape } from '../model';

/** [height, width] in pixels or units. */
export type Size = [number, number];

/** One axis of a field: unit i sees input pixels [start + i·jump, start + i·jump + size). */
export interface AxisField {
  /** Input pixels between the fields of adjacent units (the product of the strides on the way). */
  jump: number;
  /** Pixels one unit's field spans. */
  size: number;
  /** The input coordinate of unit 0's first pixel; negative where the field starts in the padding. */
  start: number;
}

/** A rectangle of input pixels; `bottom` and `right` are exclusive. */
export interface FieldBox {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

interface FieldBase {
  nodeId: string;
  inputSize: Size;
  /** The field of output unit (y, x), unclipped. Throws a RangeError for a unit outside the output. */
  fieldOf(y: number, x: number): FieldBox;
  /** The same, clipped to the image: the patch to cut out. */
  clippedFieldOf(y: number, x: number): FieldBox;
}

/** Each unit sees its own window of the input. */
export interface LocalField extends FieldBase {
  kind: 'local';
  /** The node's output size, [H, W]. */
  outputSize: Size;
  rows: AxisField;
  columns: AxisField;
}

/** Every unit sees the whole input (or no rectangle can be vouched for): `reason` says why. */
export interface WholeInputField extends FieldBase {
  kind: 'whole-input';
  /** A sentence naming the node responsible. */
  reason: string;
  /** The node's output size, where the model's summary knows a 4-D one. */
  outputSize?: Size;
}

export type ReceptiveField = LocalField | WholeInputField;

export interface ReceptiveFieldOptions {
  /** The graph input the field is measured in; the model's first by default. */
  inputId?: string;
  /**
   * Where a branch that has pooled over the whole input meets a local one (a squeeze-and-excitation
   * gate multiplying a feature map), leave it out: the field is then the local window that positions
   * the unit, not the whole input that strictly speaking scales it.
   */
  ignoreGlobalBranches?: boolean;
}

/** The field of every unit of `nodeId`'s output, for an input of `inputSize` ([H, W]). */
export function receptiveField(model: RunnableModel, nodeId: string, inputSize: Size, options: ReceptiveFieldOptions = {}): ReceptiveField {
  const [height, width] = inputSize;
  if (![height, width].every((d) => Number.isSafeInteger(d) && d > 0))
    throw new RangeError(`An input size must be two positive integers, not ${height}×${width}.`);
  const inputId = options.inputId ?? model.inputs[0]?.id;
  const input = model.inputs.find((candidate) => candidate.id === inputId);
  if (!input) throw new Error(`The model has no input "${inputId}".`);
  checkInputSize(input.shape, inputId!, inputSize);
  if (nodeId !== inputId && !nodeIndex(model).has(nodeId)) throw new Error(`The model has no node "${nodeId}".`);

  const summaryShapes = new Map<string, Shape>();
  for (const layer of walkLayers(model.summary.layers))
    if (layer.outputShapes[0]?.length) summaryShapes.set(layer.id, layer.outputShapes[0]);
  const states = new Map<string, State>(model.inputs.map((graphInput) => [graphInput.id, CONSTANT]));
  states.set(inputId!, {
    kind: 'local',
    rows: { jump: 1, size: 1, start: 0, count: height },
    columns: { jump: 1, size: 1, start: 0, count: width },
  });

  const needed = requiredNodes(model, [nodeId], new Set(model.inputs.map((graphInput) => graphInput.id)));
  for (const node of model.nodes) {
    if (!needed.has(node.id)) continue;
    states.set(
      node.id,
      step(
        node,
        node.inputs.map((id) => states.get(id) ?? CONSTANT),
        summaryShapes.get(node.id),
        inputSize,
        options,
      ),
    );
  }
  return fieldOfState(nodeId, states.get(nodeId)!, inputSize, summaryShapes.get(nodeId));
}

/** The part of `box` inside an image of `size`. */
export function clipToImage(box: FieldBox, [height, width]: Size): FieldBox {
  const clamp = (value: number, high: number) => Math.min(Math.max(value, 0), high);
  return { top: clamp(box.top, height), left: clamp(box.left, width), bottom: clamp(box.bottom, height), right: clamp(box.right, width) };
}

// ------------------------------------------------------------------------------------------------
// Propagation

/** An axis of a node's output: its field and how many units it has. */
interface AxisState extends AxisField {
  count: number;
}

type State =
  | { kind: 'local'; rows: AxisState; columns: AxisState }
  /** `global`: reached through pooling over every position (as opposed to an untraceable op). */
  | { kind: 'whole'; reason: string; global: boolean }
  /** Does not depend on the input the field is measured in (a constant, another input). */
  | { kind: 'constant' };

type LocalState = Extract<State, { kind: 'local' }>;

const CONSTANT: State = { kind: 'constant' };

function step(node: GraphNode, inputs: State[], summaryShape: Shape | undefined, inputSize: Size, options: ReceptiveFieldOptions): State {
  const joined = join(node, inputs, options);
  if (joined.kind !== 'local') return joined;
  const geometry = node.geometry;
  if (!geometry) return pointwise(node, joined, summaryShape);
  if (geometry.kind === 'global') return { kind: 'whole', reason: `${describe(node)} combines every position of its input.`, global: true };
  if (geometry.kind === 'untraceable')
    return { kind: 'whole', reason: `${describe(node)} ${geometry.why}, which ConvLens cannot trace.`, global: false };
  const moved: LocalState = {
    kind: 'local',
    rows: throughAxis(node, geometry, 0, joined.rows),
    columns: throughAxis(node, geometry, 1, joined.columns),
  };
  const known = spatialSize(summaryShape);
  if (known && ((known[0] !== null && known[0] !== moved.rows.count) || (known[1] !== null && known[1] !== moved.columns.count))) {
    throw new Error(
      `The layer stack gives ${describe(node)} a ${moved.rows.count}×${moved.columns.count} output for a ${inputSize[0]}×${inputSize[1]} input, ` +
        `but the model says ${known.map((d) => d ?? '?').join('×')}.`,
    );
  }
  return moved;
}

/** The inputs' fields together: the union of the local ones (which must step alike). */
function join(node: GraphNode, inputs: State[], options: ReceptiveFieldOptions): State {
  const relevant = inputs.filter((state) => state.kind !== 'constant');
  const locals = relevant.filter((state): state is LocalState => state.kind === 'local');
  const wholes = relevant.filter((state) => state.kind === 'whole');
  if (!relevant.length) return CONSTANT;
  const ignorable = options.ignoreGlobalBranches && locals.length > 0 && wholes.every((state) => state.global);
  if (wholes.length && !ignorable) return wholes[0];
  let joined = locals[0];
  for (const other of locals.slice(1)) {
    const rows = unite(joined.rows, other.rows);
    const columns = unite(joined.columns, other.columns);
    if (typeof rows === 'string' || typeof columns === 'string') {
      return {
        kind: 'whole',
        reason: `${describe(node)} joins ${typeof rows === 'string' ? rows : columns}, which ConvLens cannot trace.`,
        global: false,
      };
    }
    joined = { kind: 'local', rows, columns };
  }
  return joined;
}

/** The union of two branches' fields along an axis, or why there is no single one. */
function unite(a: AxisState, b: AxisState): AxisState | string {
  if (a.count !== b.count) return `feature maps of different sizes (${a.count} and ${b.count} units)`;
  // With a single unit the jump only extrapolates into the padding: either will do.
  if (a.jump !== b.jump && a.count > 1) return `branches whose units are ${a.jump} and ${b.jump} pixels apart`;
  const start = Math.min(a.start, b.start);
  const end = Math.max(a.start + a.size, b.start + b.size);
  return { count: a.count, jump: Math.max(a.jump, b.jump), start, size: end - start };
}

/** A node without geometry keeps positions where they are, unless its output says otherwise. */
function pointwise(node: GraphNode, state: LocalState, summaryShape: Shape | undefined): State {
  if (!summaryShape) return state;
  if (summaryShape.length !== 4) {
    return {
      kind: 'whole',
      reason: `${describe(node)} turns the feature map into a tensor of rank ${summaryShape.length}, which ConvLens cannot trace.`,
      global: false,
    };
  }
  const [, height, width] = summaryShape;
  if ((height === null || height === state.rows.count) && (width === null || width === state.columns.count)) return state;
  return {
    kind: 'whole',
    reason: `${describe(node)} changes the feature map from ${state.rows.count}×${state.columns.count} to ${height ?? '?'}×${width ?? '?'} in a way ConvLens cannot trace.`,
    global: false,
  };
}

type Movement = Exclude<SpatialGeometry, { kind: 'global' } | { kind: 'untraceable' }>;

/** The field along one axis (0: rows, 1: columns) after a window or a padding. */
function throughAxis(node: GraphNode, geometry: Movement, axis: 0 | 1, from: AxisState): AxisState {
  if (geometry.kind === 'pad') {
    const before = axis === 0 ? geometry.top : geometry.left;
    const after = axis === 0 ? geometry.bottom : geometry.right;
    const count = from.count + before + after;
    if (count <= 0) throw new Error(`${describe(node)} crops away all ${from.count} units of its input.`);
    return { ...from, count, start: from.start - before * from.jump };
  }
  const kernel = geometry.kernel[axis];
  const stride = geometry.strides[axis];
  const span = geometry.dilations[axis] * (kernel - 1) + 1;
  const { before, count } = windowPlacement(node, from.count, span, stride, geometry.padding, axis, geometry.ceilMode ?? false);
  return { count, jump: from.jump * stride, size: from.size + (span - 1) * from.jump, start: from.start - before * from.jump };
}

/** Where a window's padding puts the first window, and how many windows fit, along an axis of `size`. */
function windowPlacement(
  node: GraphNode,
  size: number,
  span: number,
  stride: number,
  padding: Extract<SpatialGeometry, { kind: 'window' }>['padding'],
  axis: 0 | 1,
  ceilMode: boolean,
): { before: number; count: number } {
  if (padding === 'same' || padding === 'same-lower') {
    // TensorFlow's SAME (ONNX SAME_UPPER): the output is ceil(size / stride) and the odd padding pixel
    // goes after; SAME_LOWER puts it before.
    const count = Math.ceil(size / stride);
    const total = Math.max((count - 1) * stride + span - size, 0);
    return { before: padding === 'same' ? Math.floor(total / 2) : Math.ceil(total / 2), count };
  }
  const [before, after] = padding === 'valid' ? [0, 0] : axis === 0 ? [padding.top, padding.bottom] : [padding.left, padding.right];
  const room = size + before + after - span;
  if (room < 0)
    throw new Error(`${describe(node)} has a window of ${span} pixels, wider than its padded input of ${size + before + after}.`);
  let count = (ceilMode ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  // With ceil_mode a last window that would start in the trailing padding is dropped (as ONNX does).
  if (ceilMode && (count - 1) * stride >= size + before) count--;
  return { before, count };
}

// ------------------------------------------------------------------------------------------------
// Results

function fieldOfState(nodeId: string, state: State, inputSize: Size, summaryShape: Shape | undefined): ReceptiveField {
  if (state.kind === 'local') {
    const rows = axisField(state.rows);
    const columns = axisField(state.columns);
    const outputSize: Size = [state.rows.count, state.columns.count];
    const fieldOf = (y: number, x: number): FieldBox => {
      checkUnit(nodeId, y, x, outputSize);
      const top = rows.start + y * rows.jump;
      const left = columns.start + x * columns.jump;
      return { top, left, bottom: top + rows.size, right: left + columns.size };
    };
    return {
      kind: 'local',
      nodeId,
      inputSize,
      outputSize,
      rows,
      columns,
      fieldOf,
      clippedFieldOf: (y, x) => clipToImage(fieldOf(y, x), inputSize),
    };
  }
  const reason = state.kind === 'whole' ? state.reason : `"${nodeId}" does not depend on the input.`;
  const known = spatialSize(summaryShape);
  const outputSize = known?.every((d) => d !== null) ? (known as Size) : undefined;
  const fieldOf = (y: number, x: number): FieldBox => {
    if (outputSize) checkUnit(nodeId, y, x, outputSize);
    return { top: 0, left: 0, bottom: inputSize[0], right: inputSize[1] };
  };
  return { kind: 'whole-input', nodeId, inputSize, reason, ...(outputSize ? { outputSize } : {}), fieldOf, clippedFieldOf: fieldOf };
}

function axisField({ jump, size, start }: AxisState): AxisField {
  return { jump, size, start };
}

function checkUnit(nodeId: string, y: number, x: number, [height, width]: Size): void {
  const inside = (value: number, count: number) => Number.isInteger(value) && value >= 0 && value < count;
  if (!inside(y, height) || !inside(x, width))
    throw new RangeError(`(${y}, ${x}) is not a unit of "${nodeId}", whose output is ${height}×${width}.`);
}

function checkInputSize(shape: Shape, inputId: string, [height, width]: Size): void {
  if (shape.length !== 4)
    throw new Error(`The input "${inputId}" is not an image: its shape is [${shape.map((d) => d ?? '?').join(', ')}].`);
  const [, fixedHeight, fixedWidth] = shape;
  if ((fixedHeight !== null && fixedHeight !== height) || (fixedWidth !== null && fixedWidth !== width)) {
    throw new Error(`The input "${inputId}" takes ${fixedHeight ?? 'any'}×${fixedWidth ?? 'any'} images, not ${height}×${width}.`);
  }
}

/** H and W of a 4-D NHWC shape from the summary; undefined for any other. */
function spatialSize(shape: Shape | undefined): [number | null, number | null] | undefined {
  return shape?.length === 4 ? [shape[1], shape[2]] : undefined;
}

function describe(node: GraphNode): string {
  return `${node.type ?? 'the node'} "${node.id}"`;
}
