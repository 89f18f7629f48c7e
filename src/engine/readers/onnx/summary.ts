/**
 * The summary of an analysed ONNX graph: one layer per node, with output shapes as ConvLens stores
 * the values (NHWC for 4-D activations) and parameter counts from the dimensions of the float
 * initializers each node reads. Integer initializers (reshape targets, slice bounds) are not
 * parameters.
 */
import type { LayerInfo, ModelSummary, Shape } from '../../model';
import type { GraphAnalysis } from './analysis';
import { storedShape } from './layout';
import type { ValueDesc } from './ops/types';
import { dtypeOf } from './tensors';

export function summarizeGraph(analysis: GraphAnalysis): ModelSummary {
  const parameterCount = new Map<string, number>();
  for (const [name, tensor] of analysis.initializers) {
    if (dtypeOf(tensor.dataType) === 'float32')
      parameterCount.set(
        name,
        tensor.dims.reduce((n, d) => n * d, 1),
      );
  }
  const read = new Set(analysis.outputs.map((output) => output.name));
  for (const { node } of analysis.nodes) for (const name of node.inputs) read.add(name);

  const layers = analysis.nodes.map((analyzed): LayerInfo => {
    const { node } = analyzed;
    const weights = [...new Set(node.inputs.filter((name) => parameterCount.has(name)))];
    const params = weights.reduce((n, name) => n + parameterCount.get(name)!, 0);
    const producers = node.inputs.map((name) => analysis.producers.get(name)).filter((producer) => producer?.node);
    const shown = analyzed.outputs.filter((_, k) => k === 0 || read.has(node.outputs[k]));
    return {
      id: analyzed.id,
      name: node.name || analyzed.id,
      type: node.opType,
      outputShapes: knownShapes(shown),
      params,
      // An ONNX file keeps no record of which weights were trainable: all of them count.
      trainableParams: params,
      inputs: [...new Set(producers.map((producer) => producer!.node!.id))],
    };
  });

  const used = new Set(analysis.nodes.flatMap(({ node }) => node.inputs.filter((name) => parameterCount.has(name))));
  const totalParams = [...used].reduce((n, name) => n + parameterCount.get(name)!, 0);
  return {
    name: analysis.graphName || analysis.fileName.replace(/\.onnx$/i, ''),
    format: 'onnx',
    fileName: analysis.fileName,
    inputShapes: analysis.inputs.map((input) => stored(input.desc) ?? []),
    outputShapes: analysis.outputs.map((output) => stored(output.desc) ?? []),
    layers,
    totalParams,
    trainableParams: totalParams,
  };
}

function stored(desc: ValueDesc): Shape | undefined {
  return storedShape(desc.shape, desc.layout);
}

/** The shapes worked out, or none at all: an empty shape would read as a scalar. */
function knownShapes(outputs: ValueDesc[]): Shape[] {
  if (!outputs.some((output) => output.shape)) return [];
  return outputs.map((output) => stored(output) ?? []);
}
