/** Which layer the CAM family looks at by default and why ("Which layer?"), and the checks on a user's choice. */
import { descendantsOf, type GraphNode, nodeIndex, type RunnableModel } from '../graph';
import { walkLayers, type Shape } from '../model';
import { scoreNode } from './scores';
import { tokenGridOf } from './tokenGrid';

/** Each layer's (first) output shape, as the model's summary gives it. */
export function outputShapes(model: RunnableModel): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  for (const layer of walkLayers(model.summary.layers)) if (layer.outputShapes[0]) shapes.set(layer.id, layer.outputShapes[0]);
  return shapes;
}

function isSpatial(shape: Shape | undefined): boolean {
  return shape?.length === 4 && (shape[1] ?? 2) * (shape[2] ?? 2) > 1;
}

/** A suggested target layer and, in one sentence, why. */
export interface TargetLayerSuggestion {
  layer: string;
  reason: string;
}

/** The layer the CAM family looks at by default (`suggestTargetLayer`). */
export function defaultTargetLayer(model: RunnableModel): string {
  return suggestTargetLayer(model).layer;
}

/**
 * Which layer to explain, and why: for a vision transformer, the last block's first LayerNorm (its patch
 * tokens form the grid; pytorch-grad-cam's `blocks[-1].norm1`); for a classifier, the input of the global
 * pooling the score depends on (the last spatial layer: what follows is the head); for a network without
 * global pooling (segmentation, detection heads), the input of its last convolution (the per-pixel
 * classifier or the head); else the last spatial layer the score depends on.
 */
export function suggestTargetLayer(model: RunnableModel): TargetLayerSuggestion {
  const shapes = outputShapes(model);
  const score = scoreNode(model);
  const feedsScore = ancestorsOf(model, score);
  const onPath = model.nodes.filter((node) => feedsScore.has(node.id));
  const size = (id: string) => spatialSize(model, id, shapes);

  const norm = lastOf(
    onPath,
    (node) => NORMS.has(node.type ?? '') && tokenGridOf(shapes.get(node.id) ?? []) !== undefined && feedsAttention(model, node.id),
  );
  if (norm) {
    const grid = tokenGridOf(shapes.get(norm.id)!)!;
    return {
      layer: norm.id,
      reason: `the first LayerNorm of the last transformer block, because its ${grid.height}×${grid.width} patch tokens (the class token dropped) are the last ones attention mixes before the head reads the class token`,
    };
  }
  // The pooling that ends the spatial part: no convolution or upsampling after it (a squeeze-and-excitation
  // block or an LR-ASPP branch pools too, but convolutions follow).
  const lastConv = lastOf(onPath, (node) => CONVOLUTIONS.has(node.type ?? '') || UPSAMPLING.has(node.type ?? ''));
  const afterConvs = onPath.slice(lastConv ? onPath.indexOf(lastConv) + 1 : 0);
  const pooling = lastOf(afterConvs, (node) => isGlobalPooling(node) && node.inputs[0] !== undefined && size(node.inputs[0]) !== undefined);
  if (pooling && nodeIndex(model).has(pooling.inputs[0])) {
    return {
      layer: pooling.inputs[0],
      reason: `the last layer with a spatial output (${size(pooling.inputs[0])}) before global pooling, because every layer after it belongs to the classifier head and has no positions left to show`,
    };
  }
  const conv = lastOf(
    onPath,
    (node) => CONVOLUTIONS.has(node.type ?? '') && node.inputs[0] !== undefined && size(node.inputs[0]) !== undefined,
  );
  if (conv && nodeIndex(model).has(conv.inputs[0])) {
    return {
      layer: conv.inputs[0],
      reason: `the input of the last convolution (${size(conv.inputs[0])}), because that convolution is the per-pixel classifier or detection head and its input is the last feature map`,
    };
  }
  for (let i = onPath.length - 1; i >= 0; i--) {
    if (isSpatial(shapes.get(onPath[i].id))) {
      return {
        layer: onPath[i].id,
        reason: 'the last layer with a spatial output, because the score depends on it and on nothing later that has positions',
      };
    }
  }
  throw new Error('the model has no layer with a spatial output to explain; choose a target layer');
}

/** The last item that passes the test. */
function lastOf<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i])) return items[i];
  return undefined;
}

const UPSAMPLING = new Set(['Resize', 'Upsample', 'UpSampling2D', 'ResizeBilinear', 'ResizeNearestNeighbor']);
const NORMS = new Set(['LayerNormalization', 'LayerNorm']);
const CONVOLUTIONS = new Set(['Conv', 'Conv2D', 'SeparableConv2D', 'DepthwiseConv2D', 'ConvTranspose', 'Conv2DTranspose']);

function isGlobalPooling(node: GraphNode): boolean {
  return (
    node.geometry?.kind === 'global' || POOLING.has(node.type ?? '') || node.type === 'GlobalMaxPool' || node.type === 'GlobalMaxPooling2D'
  );
}

/** Whether a Softmax (an attention's) is computed from the node's output. */
function feedsAttention(model: RunnableModel, id: string): boolean {
  const after = descendantsOf(model, id);
  return model.nodes.some((node) => node.type === 'Softmax' && after.has(node.id));
}

/** The node and everything it is computed from. */
function ancestorsOf(model: RunnableModel, id: string): Set<string> {
  const byId = nodeIndex(model);
  const found = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const next = stack.pop()!;
    if (found.has(next)) continue;
    found.add(next);
    for (const input of byId.get(next)?.inputs ?? []) stack.push(input);
  }
  return found;
}

/**
 * "h×w" where the node's value is an image held NHWC with more than one position; undefined otherwise.
 * An ONNX value the reader keeps in the file's own axis order (no declared reordering) is not taken for
 * one: [N, 1, 768, 1] after a head's transpose is no 1×768 image.
 */
function spatialSize(model: RunnableModel, id: string, shapes: Map<string, Shape>): string | undefined {
  const shape = shapes.get(id);
  if (!isSpatial(shape)) return undefined;
  if (model.summary.format === 'onnx' && !heldNhwc(model).has(id)) return undefined;
  return `${shape![1] ?? '?'}×${shape![2] ?? '?'}`;
}

/** The ONNX layers whose 4-D value the reader holds NHWC (it declares their NCHW shape apart). */
function heldNhwc(model: RunnableModel): Set<string> {
  const held = new Set<string>();
  for (const layer of walkLayers(model.summary.layers)) if (layer.declaredShapes?.[0]?.length === 4) held.add(layer.id);
  return held;
}

/** Throws a one-sentence reason when `layer` cannot be a CAM target. */
export function checkTargetLayer(model: RunnableModel, layer: string): void {
  if (!nodeIndex(model).has(layer)) throw new Error(`the model has no layer "${layer}"`);
  const shape = outputShapes(model).get(layer);
  if (shape && shape.length !== 4 && !tokenGridOf(shape)) {
    throw new Error(
      `layer "${layer}" has output shape (${shape.map((d) => d ?? 'None').join(', ')}); class activation maps need a layer with height, width and channels, or a transformer's tokens on a square patch grid`,
    );
  }
  if (!descendantsOf(model, layer).has(scoreNode(model))) throw new Error(`the model's output does not depend on layer "${layer}"`);
}

const POOLING = new Set(['GlobalAveragePooling2D', 'GlobalAveragePool', 'ReduceMean', 'Mean']);
const PASS_THROUGH = new Set(['Flatten', 'Reshape', 'Dropout', 'Identity', 'Squeeze', 'Softmax', 'Activation']);
const LINEAR = new Set(['Dense', 'Gemm', 'MatMul', 'Add', 'BiasAdd', '_FusedMatMul']);

/** CAM needs the network after the target layer to be global average pooling then a linear classifier. */
export function checkCamHead(model: RunnableModel, layer: string): void {
  const after = model.nodes.filter((node) => descendantsOf(model, layer).has(node.id));
  const types = after.map((node) => node.type ?? '?');
  const poolAt = types.findIndex((type) => POOLING.has(type));
  const fits =
    poolAt >= 0 &&
    types.slice(0, poolAt).every((type) => PASS_THROUGH.has(type)) &&
    types.slice(poolAt + 1).every((type) => PASS_THROUGH.has(type) || LINEAR.has(type));
  if (!fits) {
    throw new Error(
      `CAM needs global average pooling and a linear classifier right after layer "${layer}" (found ${types.join(' → ')}); use Grad-CAM, which generalises it`,
    );
  }
}

/** Every layer a CAM method can look at (spatial output, and the score depends on it), in graph order. */
export function camTargetLayers(model: RunnableModel): string[] {
  const shapes = outputShapes(model);
  const byId = nodeIndex(model);
  const feedsScore = new Set<string>();
  const stack = [scoreNode(model)];
  while (stack.length) {
    const id = stack.pop()!;
    if (feedsScore.has(id)) continue;
    feedsScore.add(id);
    for (const input of byId.get(id)?.inputs ?? []) stack.push(input);
  }
  return model.nodes
    .filter((node) => feedsScore.has(node.id) && node.id !== scoreNode(model) && isSpatial(shapes.get(node.id)))
    .map((node) => node.id);
}
