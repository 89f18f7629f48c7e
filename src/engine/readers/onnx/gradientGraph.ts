/**
 * An ONNX model's gradients as more ONNX: the backward pass written as nodes appended to the model's own
 * graph, so that the native runtime computes ∂score/∂x — x the input, or a layer's output for the CAM
 * family — with its multi-threaded kernels (transposed convolutions for convolutions) instead of
 * TensorFlow.js differentiating on one WebAssembly thread. The score's gradient with respect to the model's outputs (the "seeds") comes in
 * as new graph inputs, so any score the engine computes from the outputs is differentiated exactly by
 * the chain rule. Nodes are walked backwards from the seeded outputs; each on the way from x to them
 * takes its operator's rule (gradientRules.ts). Undefined where an operator on that way has no
 * rule: the engine then differentiates the model itself, as it does everywhere without a native runtime.
 */
import type { GraphAnalysis } from './analysis';
import { Attributes } from './attributes';
import { graphAppendixBytes } from './graphAppendix';
import { GRADIENT_RULES, GraphWriter, NoGradientRule } from './gradientRules';

export interface GradientGraph {
  /** Bytes to append to the model file (graphAppendix.ts). */
  appendix: Uint8Array;
  /** The graph input that takes the seed of each differentiated output, by output tensor name. */
  seeds: ReadonlyMap<string, string>;
  /** The graph output holding ∂score/∂x, in x's ONNX shape. */
  gradient: string;
}

/** The oldest standard operator set whose operators' inputs the rules write as they do (Clip's bounds, Pad's pads). */
const OLDEST_OPSET = 11;

/** The backward graph from `outputs` to `x` (tensor names), or undefined where one step has no rule. */
export function gradientGraph(analysis: GraphAnalysis, x: string, outputs: readonly string[]): GradientGraph | undefined {
  if (analysis.opset < OLDEST_OPSET) return undefined;
  const dependsOnX = tensorsDependingOn(analysis, x);
  if (outputs.some((output) => !dependsOnX.has(output))) return undefined;
  const graph = new GraphWriter(analysis.opset);
  const seeds = new Map(outputs.map((output, k) => [output, `convlens/seed/${k}`]));
  const gradients = new Map<string, string[]>();
  const contribute = (tensor: string, gradient: string) => gradients.set(tensor, [...(gradients.get(tensor) ?? []), gradient]);
  for (const [output, seed] of seeds) contribute(output, seed);
  // A tensor's gradient is complete once every node reading it has been visited: the walk is in reverse order.
  const total = (tensor: string): string | undefined => {
    const parts = gradients.get(tensor);
    if (!parts || parts.length < 2) return parts?.[0];
    const sum = graph.op('Sum', parts);
    gradients.set(tensor, [sum]);
    return sum;
  };

  try {
    for (const { node } of [...analysis.nodes].reverse()) {
      const needs = (index: number) => dependsOnX.has(node.inputs[index] ?? '');
      if (!node.inputs.some((_, i) => needs(i))) continue;
      const dy = node.outputs.map((name) => (name ? total(name) : undefined));
      if (dy.every((gradient) => gradient === undefined)) continue;
      const rule = node.domain === '' || node.domain === 'ai.onnx' ? GRADIENT_RULES[node.opType] : undefined;
      if (!rule) return undefined;
      const dx = rule({
        node,
        attributes: new Attributes(node),
        dy,
        needs,
        shape: (name) => analysis.values.get(name)?.shape,
        constantValues: (name) => constantValues(analysis, name),
        graph,
      });
      dx.forEach((gradient, i) => {
        if (gradient && needs(i)) contribute(node.inputs[i], gradient);
      });
    }
  } catch (error) {
    if (error instanceof NoGradientRule) return undefined;
    throw error;
  }

  const gradient = total(x);
  if (!gradient) return undefined;
  const named = graph.op('Identity', [gradient]);
  return {
    appendix: graphAppendixBytes({ nodes: graph.nodes, constants: graph.constants, inputs: [...seeds.values()], outputs: [named] }),
    seeds,
    gradient: named,
  };
}

/** The float tensors whose values depend on `x`. */
function tensorsDependingOn(analysis: GraphAnalysis, x: string): Set<string> {
  const depending = new Set([x]);
  for (const { node, outputs } of analysis.nodes) {
    if (!node.inputs.some((name) => depending.has(name))) continue;
    node.outputs.forEach((name, k) => {
      const desc = outputs[k];
      if (name && desc?.dtype === 'float32' && !desc.constant) depending.add(name);
    });
  }
  return depending;
}

function constantValues(analysis: GraphAnalysis, name: string): readonly number[] | undefined {
  const data = analysis.values.get(name)?.constant?.data;
  return data ? Array.from(data) : undefined;
}
