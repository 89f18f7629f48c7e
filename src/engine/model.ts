/**
 * The one model description every reader produces, whatever the file format.
 * It is plain data (no tensors), so it crosses the host/webview boundary as it is.
 */

/** A tensor shape; `null` is a dimension fixed only at run time (usually the batch). */
export type Shape = (number | null)[];

/** The axis order of a batch of images: channels last (the engine's) or first (PyTorch's). */
export type ImageLayout = 'NHWC' | 'NCHW';

export type ModelFormat = 'tfjs-layers' | 'tfjs-graph' | 'keras-h5' | 'keras-zip' | 'onnx';

export interface LayerInfo {
  /** Unique within the model: the names of the enclosing layers and this one, joined by '/'. */
  id: string;
  name: string;
  /** The framework's class or op name, e.g. `Conv2D`. */
  type: string;
  /** As ConvLens holds the values while running: images NHWC whatever the file says. */
  outputShapes: Shape[];
  /**
   * The output shapes as the file declares them, where its axis order differs from `outputShapes`
   * (an ONNX export from PyTorch: NCHW). What the user is shown: see `shapesAsDeclared`.
   */
  declaredShapes?: Shape[];
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
  /** As the engine takes and gives them: images NHWC whatever the file says. */
  inputShapes: Shape[];
  outputShapes: Shape[];
  /** The outputs' names in the file, in the order of `outputShapes`, where the format names them (ONNX). */
  outputNames?: string[];
  /** The input and output shapes as the file declares them, where its axis order differs from the engine's. */
  declaredInputShapes?: Shape[];
  declaredOutputShapes?: Shape[];
  /**
   * Per input, the file's axis order where it is an image the engine reorders: `NCHW` for an ONNX export
   * from PyTorch, which ConvLens runs NHWC. An array for such an input is given in that order.
   */
  inputLayouts?: (ImageLayout | null)[];
  /** The tool that wrote the file, with its version where given (ONNX `producer_name`): `onnx-caffe2`, `pytorch 1.7`. */
  producer?: string;
  /** Notes the file carries as keys and values (ONNX `metadata_props`), such as the pixel format its images take. */
  metadata?: Record<string, string>;
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

/** A layer's output shapes as the user knows them: in the file's own axis order. */
export function shapesAsDeclared(layer: LayerInfo): Shape[] {
  return layer.declaredShapes ?? layer.outputShapes;
}

export function inputShapesAsDeclared(summary: Pick<ModelSummary, 'inputShapes' | 'declaredInputShapes'>): Shape[] {
  return summary.declaredInputShapes ?? summary.inputShapes;
}

export function outputShapesAsDeclared(summary: Pick<ModelSummary, 'outputShapes' | 'declaredOutputShapes'>): Shape[] {
  return summary.declaredOutputShapes ?? summary.outputShapes;
}

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
