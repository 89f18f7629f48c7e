/**
 * How shapes and counts read everywhere in ConvLens (tree view, webview, command line). Shapes are
 * shown in the file's own axis order: NCHW for an ONNX export from PyTorch, as PyTorch and Netron show them.
 */
import { shapesAsDeclared, type LayerInfo, type ModelFormat, type Shape } from '../engine/model';

/** Keras-style, as people know it from `model.summary()`: `(None, 28, 28, 16)`. */
export function formatShape(shape: Shape): string {
  const dims = shape.map((d) => (d === null || d < 0 ? 'None' : String(d)));
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

export function formatShapes(shapes: Shape[]): string {
  if (shapes.length === 0) return '?';
  return shapes.map(formatShape).join(' ');
}

const thousands = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return thousands.format(n);
}

export function formatParams(n: number): string {
  return `${formatCount(n)} ${n === 1 ? 'param' : 'params'}`;
}

/** One line describing a layer after its name, as the sidebar tree and the webview show it. */
export function describeLayer(layer: LayerInfo): string {
  return `${layer.type} · ${formatShapes(shapesAsDeclared(layer))} · ${formatParams(layer.params)}`;
}

/**
 * A convolution kernel's shape as the file declares it, from the HWIO kernel the engine runs (depthwise:
 * height, width, channels, multiplier): ONNX's is (out, in per group, height, width), Keras's HWIO.
 * Matrices keep the engine's [in, out]: whether an ONNX file holds one transposed is its node's attribute.
 */
export function kernelShapeAsDeclared(shape: readonly number[], format: ModelFormat, depthwise: boolean): readonly number[] {
  if (format !== 'onnx' || shape.length !== 4) return shape;
  const [height, width, inputs, outputs] = shape;
  return depthwise ? [inputs * outputs, 1, height, width] : [outputs, inputs, height, width];
}
