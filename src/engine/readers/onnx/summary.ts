/**
 * The summary of an analysed ONNX graph: one layer per node, with output shapes as ConvLens stores
 * the values (NHWC for 4-D activations) and as the file declares them (NCHW from PyTorch), and
 * parameter counts from the dimensions of the float initializers each node reads. Integer
 * initializers (reshape targets, slice bounds) are not parameters.
 */
import type { ImageLayout, LayerInfo, ModelSummary, Shape } from '../../model';
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
    const declaredShapes = knownShapes(shown, declared);
    return {
      id: analyzed.id,
      name: node.name || analyzed.id,
      type: node.opType,
      outputShapes: knownShapes(shown, stored),
      ...(shown.some(isReordered) ? { declaredShapes } : {}),
      params,
      // An ONNX file keeps no record of which weights were trainable: all of them count.
      trainableParams: params,
      inputs: [...new Set(producers.map((producer) => producer!.node!.id))],
    };
  });

  const used = new Set(analysis.nodes.flatMap(({ node }) => node.inputs.filter((name) => parameterCount.has(name))));
  const totalParams = [...used].reduce((n, name) => n + parameterCount.get(name)!, 0);
  const inputs = analysis.inputs.map((input) => input.desc);
  const outputs = analysis.outputs.map((output) => output.desc);
  return {
    name: analysis.graphName || analysis.fileName.replace(/\.onnx$/i, ''),
    format: 'onnx',
    fileName: analysis.fileName,
    inputShapes: inputs.map((desc) => stored(desc) ?? []),
    outputShapes: outputs.map((desc) => stored(desc) ?? []),
    outputNames: analysis.outputs.map((output) => output.name),
    ...(inputs.some(isReordered) ? { declaredInputShapes: inputs.map((desc) => declared(desc) ?? []) } : {}),
    ...(outputs.some(isReordered) ? { declaredOutputShapes: outputs.map((desc) => declared(desc) ?? []) } : {}),
    inputLayouts: inputs.map(imageLayout),
    layers,
    totalParams,
    trainableParams: totalParams,
  };
}

function stored(desc: ValueDesc): Shape | undefined {
  return storedShape(desc.shape, desc.layout);
}

/** Analysis describes every value in the file's own axis order, whatever its storage. */
function declared(desc: ValueDesc): Shape | undefined {
  return desc.shape;
}

function isReordered(desc: ValueDesc): boolean {
  return desc.layout === 'nhwc' && desc.shape !== undefined;
}

/** NCHW for an image input ConvLens stores NHWC; NHWC for one the graph itself transposes (TensorFlow converters). */
function imageLayout(desc: ValueDesc): ImageLayout | null {
  if (desc.layout === 'nhwc') return 'NCHW';
  return desc.shape?.length === 4 && desc.dtype === 'float32' ? 'NHWC' : null;
}

/** The shapes worked out, or none at all: an empty shape would read as a scalar. */
function knownShapes(outputs: ValueDesc[], shape: (desc: ValueDesc) => Shape | undefined): Shape[] {
  if (!outputs.some((output) => output.shape)) return [];
  return outputs.map((output) => shape(output) ?? []);
}
