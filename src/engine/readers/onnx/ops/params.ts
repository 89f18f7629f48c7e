/**
 * Operator parameters that moved from attributes to inputs as ONNX evolved (Squeeze axes, Slice
 * bounds, Pad amounts, Reduce axes…), read the same way whichever form a model uses.
 *
 * They are short vectors (one entry per axis, two per axis for pads): a longer one is a damaged file,
 * refused from its length before its values are copied (a damaged size upstream can make one of
 * millions).
 */
import type { HostTensor } from '../tensors';
import { MAX_RANK } from './shapes';
import { OpError, type BuildContext, type Inputs, type NodeView } from './types';

/** Where a parameter lives: the attribute before `inputFromOpset`, input `inputIndex` from it. */
export interface ParamSource {
  attribute: string;
  inputIndex: number;
  inputFromOpset: number;
  /** The most values it can have; by default two per axis of the largest rank (pads). */
  maxLength?: number;
}

/** Two values per axis: pads, the longest per-axis parameter. */
const DEFAULT_MAX_LENGTH = 2 * MAX_RANK;

function checkLength(source: ParamSource, length: number): void {
  const most = source.maxLength ?? DEFAULT_MAX_LENGTH;
  if (length > most)
    throw new OpError(`has ${length} values for its ${source.attribute}, more than any tensor needs (the file is damaged)`);
}

/**
 * The parameter as known before running: its values, `undefined` when the model leaves it out,
 * `null` when it is computed while running.
 */
export function staticParam(node: NodeView, source: ParamSource): number[] | undefined | null {
  if (node.opset < source.inputFromOpset) return fromAttribute(node, source);
  const input = node.inputs[source.inputIndex];
  if (!input) return undefined;
  const length = input.constant?.data?.length ?? (input.shape?.length === 1 ? input.shape[0] : null);
  if (typeof length === 'number') checkLength(source, length);
  return input.constant?.data ? Array.from(input.constant.data) : null;
}

function fromAttribute(node: NodeView, source: ParamSource): number[] | undefined {
  const values = node.attributes.ints(source.attribute) ?? node.attributes.floats(source.attribute);
  if (values) checkLength(source, values.length);
  return values;
}

/** The parameter when running: constant values, or the input's values read then. */
export function runtimeParam(ctx: BuildContext, source: ParamSource): (inputs: Inputs) => number[] | undefined {
  const known = staticParam(ctx.node, source);
  if (known !== null) return () => known;
  const read = ctx.host(source.inputIndex, source.maxLength ?? DEFAULT_MAX_LENGTH);
  return (inputs) => Array.from(read(inputs).data);
}

/** The parameter in a fold, where every input is known. */
export function foldParam(node: NodeView, inputs: readonly HostTensor[], source: ParamSource): number[] | undefined {
  if (node.opset < source.inputFromOpset) return fromAttribute(node, source);
  const input = inputs[source.inputIndex];
  if (!input) return undefined;
  checkLength(source, input.data.length);
  return Array.from(input.data);
}
