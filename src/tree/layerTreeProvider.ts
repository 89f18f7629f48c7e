/** The sidebar's Layers view: the layer tree of the active model viewer. */
import * as vscode from 'vscode';
import { FORMAT_LABELS, shapesAsDeclared, type LayerInfo, type ModelSummary, walkLayers } from '../engine/model';
import { describeLayer, formatParams, formatShapes } from '../shared/format';
import { groupIntoBlocks, isBlock } from '../shared/layerBlocks';
import { iconForLayerType } from '../shared/layerIcons';
import type { ModelState } from '../panels/viewer/modelViewer';

export const REVEAL_LAYER_COMMAND = 'convlens.revealLayer';

export class LayerTreeProvider implements vscode.TreeDataProvider<LayerInfo> {
  private model: ModelSummary | undefined;
  /** The top-level layers as shown: long branching models folded into blocks. */
  private roots: LayerInfo[] = [];
  private parents = new Map<string, LayerInfo>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  show(state: ModelState | undefined): void {
    this.model = state?.kind === 'loaded' ? state.model : undefined;
    this.parents = new Map();
    this.roots = this.model ? groupIntoBlocks(this.model.layers) : [];
    if (this.model) {
      for (const layer of walkLayers(this.roots)) {
        for (const child of layer.children ?? []) this.parents.set(child.id, layer);
      }
    }
    this.changed.fire();
  }

  get current(): ModelSummary | undefined {
    return this.model;
  }

  findLayer(id: string): LayerInfo | undefined {
    for (const layer of walkLayers(this.roots)) if (layer.id === id) return layer;
    return undefined;
  }

  getChildren(element?: LayerInfo): LayerInfo[] {
    if (!this.model) return [];
    return element ? (element.children ?? []) : this.roots;
  }

  getParent(element: LayerInfo): LayerInfo | undefined {
    return this.parents.get(element.id);
  }

  getTreeItem(layer: LayerInfo): vscode.TreeItem {
    const item = new vscode.TreeItem(
      layer.name,
      isBlock(layer)
        ? vscode.TreeItemCollapsibleState.Collapsed
        : layer.children
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.None,
    );
    item.id = layer.id;
    item.description = describeLayer(layer);
    item.iconPath = new vscode.ThemeIcon(iconForLayerType(layer.type));
    item.tooltip = layerTooltip(layer);
    item.accessibilityInformation = { label: `${layer.name}, ${describeLayer(layer)}` };
    item.command = { command: REVEAL_LAYER_COMMAND, title: 'Reveal Layer in Viewer', arguments: [layer.id] };
    item.contextValue = 'convlens.layer';
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function layerTooltip(layer: LayerInfo): vscode.MarkdownString {
  const lines = [
    `**${layer.name}** — ${layer.type}`,
    '',
    `Output shape: \`${formatShapes(shapesAsDeclared(layer))}\``,
    '',
    `Parameters: ${formatParams(layer.params)} (${formatParams(layer.trainableParams)} trainable)`,
  ];
  if (layer.inputs.length) lines.push('', `Inputs: ${layer.inputs.join(', ')}`);
  return new vscode.MarkdownString(lines.join('\n'));
}

/** The view's description line: which model the tree shows. */
export function describeModel(model: ModelSummary): string {
  return `${model.fileName} · ${FORMAT_LABELS[model.format]} · ${formatParams(model.totalParams)}`;
}
