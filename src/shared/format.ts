/** How shapes and counts read everywhere in ConvLens (tree view, webview, command line). */
import type { LayerInfo, Shape } from '../engine/model';

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
  return `${layer.type} · ${formatShapes(layer.outputShapes)} · ${formatParams(layer.params)}`;
}
