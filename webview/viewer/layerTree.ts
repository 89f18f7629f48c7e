/** The model's layers as a keyboard-navigable tree, one aligned row per layer. */
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-tree/index.js';
import '@vscode-elements/elements/dist/vscode-tree-item/index.js';
import type { VscodeTreeItem } from '@vscode-elements/elements/dist/vscode-tree-item/vscode-tree-item.js';
import { shapesAsDeclared, type LayerInfo } from '../../src/engine/model';
import { formatCount, formatShapes } from '../../src/shared/format';
import { groupIntoBlocks, isBlock } from '../../src/shared/layerBlocks';
import { iconForLayerType } from '../../src/shared/layerIcons';
import { h } from '../common/dom';

export interface LayerTreeView {
  element: HTMLElement;
  select(layerId: string): void;
}

export function createLayerTree(layers: LayerInfo[], onSelect: (layerId: string) => void): LayerTreeView {
  const tree = h('vscode-tree', { id: 'layer-tree', 'aria-label': 'Layers', 'indent-guides': 'always' });
  const items = new Map<string, VscodeTreeItem>();
  const addItems = (parent: HTMLElement, list: LayerInfo[]) => {
    for (const layer of list) {
      const item = layerItem(layer);
      items.set(layer.id, item);
      parent.append(item);
      if (layer.children) addItems(item, layer.children);
    }
  };
  addItems(tree, groupIntoBlocks(layers));

  tree.addEventListener('vsc-tree-select', (event) => {
    // vscode-elements 2.5 sends the selected items as the detail itself, whatever its typings say.
    const [item] = event.detail as unknown as VscodeTreeItem[];
    const layerId = item?.dataset.layerId;
    if (layerId) onSelect(layerId);
  });

  const element = h('section', { class: 'layers', 'aria-label': 'Layer tree' }, columnHeader(), tree);
  return {
    element,
    select(layerId) {
      const item = items.get(layerId);
      if (!item) return;
      for (const other of items.values()) other.selected = other === item;
      for (
        let parent = item.parentElement;
        parent instanceof HTMLElement && parent.tagName === 'VSCODE-TREE-ITEM';
        parent = parent.parentElement
      ) {
        (parent as VscodeTreeItem).open = true;
      }
      item.scrollIntoView({ block: 'nearest' });
    },
  };
}

function layerItem(layer: LayerInfo): VscodeTreeItem {
  // Nested models start open; blocks of a long model start folded.
  const item = h('vscode-tree-item', { 'data-layer-id': layer.id, open: Boolean(layer.children) && !isBlock(layer) }) as VscodeTreeItem;
  const icon = h('vscode-icon', { name: iconForLayerType(layer.type), slot: layer.children ? 'icon-branch' : 'icon-leaf' });
  const openIcon = layer.children && h('vscode-icon', { name: iconForLayerType(layer.type), slot: 'icon-branch-opened' });
  item.append(icon, ...(openIcon ? [openIcon] : []), layerRow(layer));
  item.title = layer.inputs.length ? `${layer.name} ← ${layer.inputs.join(', ')}` : layer.name;
  return item;
}

function layerRow(layer: LayerInfo): HTMLElement {
  return h(
    'span',
    { class: 'layer-row' },
    h('span', { class: 'layer-name' }, layer.name),
    h('span', { class: 'layer-type' }, layer.type),
    h('span', { class: 'layer-shape' }, formatShapes(shapesAsDeclared(layer))),
    h('span', { class: 'layer-params' }, formatCount(layer.params)),
  );
}

function columnHeader(): HTMLElement {
  return h(
    'div',
    { class: 'layer-row layer-header', role: 'presentation' },
    h('span', { class: 'layer-name' }, 'Layer'),
    h('span', { class: 'layer-type' }, 'Type'),
    h('span', { class: 'layer-shape' }, 'Output shape'),
    h('span', { class: 'layer-params' }, 'Params'),
  );
}
