/**
 * Large branching models (ResNet, Inception, DenseNet, MobileNetV2) read best as blocks: the layer tree
 * folds each stretch between two "waists" of the graph into one collapsible block.
 *
 * A waist is a layer after which only its own output is still needed: every edge from the layers up
 * to it ends at or before it, except the edges leaving the waist itself. In a plain chain every layer is
 * a waist; in ResNet the waists are the residual blocks' outputs, in Inception the `mixed` concatenations.
 * The stretch between two waists is a block when it branches (holds more than one layer).
 */
import type { LayerInfo } from '../engine/model';

/** Models with fewer layers than this stay flat: their tree is short enough already. */
export const BLOCKS_FROM_LAYERS = 30;

export const BLOCK_TYPE = 'Block';

export function isBlock(layer: LayerInfo): boolean {
  return layer.type === BLOCK_TYPE && layer.id.startsWith('block:');
}

/** The top-level layers with branching stretches folded into blocks (nested layers are left as they are). */
export function groupIntoBlocks(layers: LayerInfo[], minLayers = BLOCKS_FROM_LAYERS): LayerInfo[] {
  if (layers.length < minLayers) return layers;
  const position = new Map<string, number>();
  layers.forEach((layer, i) => {
    position.set(layer.id, i);
    if (!position.has(layer.name)) position.set(layer.name, i);
  });
  // Where each layer's output is last read.
  const lastUse = layers.map((_, i) => i);
  layers.forEach((layer, i) => {
    for (const input of layer.inputs) {
      const from = position.get(input);
      if (from !== undefined && from < i) lastUse[from] = Math.max(lastUse[from], i);
    }
  });

  const grouped: LayerInfo[] = [];
  let start = 0;
  let reach = -1; // the furthest last use of any layer before the current one
  for (let i = 0; i < layers.length; i++) {
    if (reach <= i) {
      // Layer i is a waist: close the stretch that ends with it.
      const stretch = layers.slice(start, i + 1);
      grouped.push(...(stretch.length > 1 ? [block(stretch)] : stretch));
      start = i + 1;
    }
    reach = Math.max(reach, lastUse[i]);
  }
  grouped.push(...layers.slice(start));
  return grouped;
}

function block(stretch: LayerInfo[]): LayerInfo {
  const last = stretch[stretch.length - 1];
  const sum = (key: 'params' | 'trainableParams') => stretch.reduce((total, layer) => total + layer[key], 0);
  return {
    id: `block:${last.id}`,
    name: blockName(stretch),
    type: BLOCK_TYPE,
    outputShapes: last.outputShapes,
    ...(last.declaredShapes ? { declaredShapes: last.declaredShapes } : {}),
    params: sum('params'),
    trainableParams: sum('trainableParams'),
    inputs: stretch[0].inputs,
    children: stretch,
  };
}

/** The layers' common name prefix (`conv2_block1`, `/layer1/layer1.0`), else the last layer's name. */
function blockName(stretch: LayerInfo[]): string {
  let prefix = stretch[0].name;
  for (const { name } of stretch) {
    let n = 0;
    while (n < prefix.length && n < name.length && prefix[n] === name[n]) n++;
    prefix = prefix.slice(0, n);
  }
  prefix = prefix.replace(/[\s_./:-]+$/, '');
  return prefix.length >= 2 ? prefix : stretch[stretch.length - 1].name;
}
