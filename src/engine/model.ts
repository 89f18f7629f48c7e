/**
 * The one model description every reader produces, whatever the file format.
 * It is plain data (no tensors), so it crosses the host/webview boundary as it is.
 */

/** A tensor shape; `null` is a dimension fixed only at run time (usually the batch). */
export type Shape = (number | null)[];

export type ModelFormat = 'tfjs-layers' | 'tfjs-graph' | 'keras-h5' | 'keras-zip' | 'onnx';

export interface LayerInfo {
  /** Unique within the model: the names of the enclosing layers and this one, joined by '/'. */
  id: string;
  name: string;
  /** The framework's class or op name, e.g. `Conv2D`. */
  type: string;
  outputShapes: Shape[];
  /** Number of weight values the layer owns, including those of nested layers. */
  params: number;
  trainableParams: number;
  /** Names of the layers feeding this one (empty for inputs and the first layer of a Sequential). */
  inputs: string[];
  /** Present for layers that are models themselves (a Sequential inside a functional model, say). */
  children?: LayerInfo[];
}

export interface ModelSummary {
  name: string;
  format: ModelFormat;
  /** The file the user opened, as they would recognise it (its base name). */
  fileName: string;
  inputShapes: Shape[];
  outputShapes: Shape[];
  layers: LayerInfo[];
  totalParams: number;
  trainableParams: number;
}

export const FORMAT_LABELS: Record<ModelFormat, string> = {
  'tfjs-layers': 'TensorFlow.js layers model',
  'tfjs-graph': 'TensorFlow.js graph model',
  'keras-h5': 'Keras HDF5 model',
  'keras-zip': 'Keras .keras model',
  onnx: 'ONNX model',
};

/** Visits every layer, nested ones included, parents before their children. */
export function* walkLayers(layers: readonly LayerInfo[]): Generator<LayerInfo> {
  for (const layer of layers) {
    yield layer;
    if (layer.children) yield* walkLayers(layer.children);
  }
}

export function findLayer(summary: ModelSummary, id: string): LayerInfo | undefined {
  for (const layer of walkLayers(summary.layers)) if (layer.id === id) return layer;
  return undefined;
}
