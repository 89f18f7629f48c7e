/**
 * Operator parameters that moved from attributes to inputs as ONNX evolved (Squeeze axes, Slice
 * bounds, Pad amounts, Reduce axes…), read the same way whichever form a model uses.
 */
import type { HostTensor } from '../tensors';
import type { BuildContext, Inputs, NodeView } from './types';

/** Where a parameter lives: the attribute before `inputFromOpset`, input `inputIndex` from it. */
export interface ParamSource {
  attribute: string;
  inputIndex: number;
  inputFromOpset: number;
}

/**
 * The parameter as known before running: its values, `undefined` when the model leaves it out,
 * `null` when it is computed while running.
 */
export function staticParam(node: NodeView, source: ParamSource): number[] | undefined | null {
  if (node.opset < source.inputFromOpset) return node.attributes.ints(source.attribute) ?? floatsAsInts(node, source.attribute);
  const input = node.inputs[source.inputIndex];
  if (!input) return undefined;
  return input.constant?.data ? Array.from(input.constant.data) : null;
}

function floatsAsInts(node: NodeView, attribute: string): number[] | undefined {
  return node.attributes.floats(attribute);
}

/** The parameter when running: constant values, or the input's values read then. */
export function runtimeParam(ctx: BuildContext, source: ParamSource): (inputs: Inputs) => number[] | undefined {
  const known = staticParam(ctx.node, source);
  if (known !== null) return () => known;
  const read = ctx.host(source.inputIndex);
  return (inputs) => Array.from(read(inputs).data);
}

/** The parameter in a fold, where every input is known. */
export function foldParam(node: NodeView, inputs: readonly HostTensor[], source: ParamSource): number[] | undefined {
  if (node.opset < source.inputFromOpset) return node.attributes.ints(source.attribute) ?? floatsAsInts(node, source.attribute);
  const input = inputs[source.inputIndex];
  return input ? Array.from(input.data) : undefined;
}
