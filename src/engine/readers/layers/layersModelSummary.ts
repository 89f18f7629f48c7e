/** Turns a built tfjs-layers model (from any Keras-family reader) into the common summary. */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LayerInfo, ModelFormat, ModelSummary, Shape } from '../../model';

type Layer = tfl.LayersModel['layers'][number];

export function summarizeLayersModel(model: tfl.LayersModel, origin: { format: ModelFormat; fileName: string }): ModelSummary {
  const layers = model.layers.map((layer) => summarizeLayer(layer, ''));
  return {
    name: model.name,
    format: origin.format,
    fileName: origin.fileName,
    inputShapes: model.inputs.map((t) => [...t.shape]),
    outputShapes: model.outputs.map((t) => [...t.shape]),
    layers,
    totalParams: model.countParams(),
    trainableParams: countValues(model.trainableWeights),
  };
}

function summarizeLayer(layer: Layer, parentId: string): LayerInfo {
  const id = parentId ? `${parentId}/${layer.name}` : layer.name;
  const nested = isModel(layer) ? layer.layers.map((child) => summarizeLayer(child, id)) : undefined;
  return {
    id,
    name: layer.name,
    type: layer.getClassName(),
    outputShapes: outputShapesOf(layer),
    params: layer.countParams(),
    trainableParams: countValues(layer.trainableWeights),
    inputs: inboundLayerNames(layer),
    ...(nested ? { children: nested } : {}),
  };
}

function isModel(layer: Layer): layer is tfl.LayersModel {
  return Array.isArray((layer as Partial<tfl.LayersModel>).layers);
}

function outputShapesOf(layer: Layer): Shape[] {
  let shape: Shape | Shape[];
  try {
    shape = layer.outputShape as Shape | Shape[];
  } catch {
    // A layer shared between calls with different shapes has no single output shape.
    return [];
  }
  return Array.isArray(shape[0]) ? (shape as Shape[]).map((s) => [...s]) : [[...(shape as Shape)]];
}

function inboundLayerNames(layer: Layer): string[] {
  const names = new Set<string>();
  for (const node of layer.inboundNodes) {
    for (const inbound of node.inboundLayers) names.add(inbound.name);
  }
  return [...names];
}

function countValues(weights: readonly { shape: Shape }[]): number {
  return weights.reduce((sum, w) => sum + w.shape.reduce<number>((n, d) => n * (d ?? 0), 1), 0);
}
