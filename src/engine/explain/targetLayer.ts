/** Which layer the CAM family looks at by default, and the checks on a user's choice. */
import { descendantsOf, nodeIndex, type RunnableModel } from '../graph';
import { walkLayers, type Shape } from '../model';
import { scoreNode } from './scores';

/** Each layer's (first) output shape, as the model's summary gives it. */
export function outputShapes(model: RunnableModel): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  for (const layer of walkLayers(model.summary.layers)) if (layer.outputShapes[0]) shapes.set(layer.id, layer.outputShapes[0]);
  return shapes;
}

function isSpatial(shape: Shape | undefined): boolean {
  return shape?.length === 4 && (shape[1] ?? 2) * (shape[2] ?? 2) > 1;
}

/** The last layer with a spatial output (height × width > 1) that the score depends on. */
export function defaultTargetLayer(model: RunnableModel): string {
  const shapes = outputShapes(model);
  const score = scoreNode(model);
  for (let i = model.nodes.length - 1; i >= 0; i--) {
    const node = model.nodes[i];
    if (isSpatial(shapes.get(node.id)) && (node.id === score || descendantsOf(model, node.id).has(score))) return node.id;
  }
  throw new Error('the model has no layer with a spatial output to explain; choose a target layer');
}

/** Throws a one-sentence reason when `layer` cannot be a CAM target. */
export function checkTargetLayer(model: RunnableModel, layer: string): void {
  if (!nodeIndex(model).has(layer)) throw new Error(`the model has no layer "${layer}"`);
  const shape = outputShapes(model).get(layer);
  if (shape && shape.length !== 4) {
    throw new Error(
      `layer "${layer}" has output shape (${shape.map((d) => d ?? 'None').join(', ')}); class activation maps need a layer with height, width and channels`,
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
