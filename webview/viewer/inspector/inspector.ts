/**
 * The pane beside the layer tree: the selected layer's heading and three tabs, Filters, Feature maps and
 * Statistics (weights and their loss gradients).
 * The model itself (weights and all) loads in the background once the tree is on screen.
 */
import type { LayerInfo, ModelSummary } from '../../../src/engine/model';
import { walkLayers } from '../../../src/engine/model';
import type { OpenedModel } from '../../../src/engine/openModel';
import { describeLayer } from '../../../src/shared/format';
import { h } from '../../common/dom';
import { createTabs } from '../../common/tabs';
import { createFeatureMapsView, type FeatureMapsImage, type FeatureMapsViewOptions } from './featureMapsView';
import { createFiltersView } from './filtersView';
import { createStatisticsView } from './statisticsView';

export type InspectorTab = 'filters' | 'feature-maps' | 'statistics';

export interface InspectorOptions extends Omit<FeatureMapsViewOptions, 'step'> {
  summary: ModelSummary;
  model: Promise<OpenedModel>;
  tab: InspectorTab;
  onTab(tab: InspectorTab): void;
  /** Selects another layer (in the tree, the sidebar and here). */
  select(layerId: string): void;
}

export interface Inspector {
  element: HTMLElement;
  showLayer(layerId: string): void;
  setImage(image: FeatureMapsImage): void;
  /** The model loaded again (its preprocessing changed): redraw with it. */
  setModel(model: Promise<OpenedModel>): void;
}

export function createInspector(options: InspectorOptions): Inspector {
  const layers = [...walkLayers(options.summary.layers)];
  let layer: LayerInfo | undefined;
  let tab = options.tab;
  let model = options.model;

  const filters = createFiltersView(options.onExport);
  const featureMaps = createFeatureMapsView({
    ...options,
    step(direction) {
      // Steps over the layers that have an output of their own (nested models' containers do not).
      const index = layer ? layers.indexOf(layer) : -1;
      const next = layers[index + direction];
      if (next) options.select(next.id);
    },
  });
  const statistics = createStatisticsView(options);
  const title = h('h2', { id: 'inspector-title' }, 'Select a layer');
  const subtitle = h(
    'p',
    { id: 'inspector-subtitle', class: 'description' },
    'Its filters, feature maps and weight statistics appear here.',
  );
  const status = h('p', { id: 'inspector-status', class: 'description', role: 'status' });
  const tabs = createTabs<InspectorTab>(
    [
      { id: 'filters', label: 'Filters', panel: h('div', { id: 'panel-filters' }, filters.element) },
      { id: 'feature-maps', label: 'Feature maps', panel: h('div', { id: 'panel-feature-maps' }, featureMaps.element) },
      { id: 'statistics', label: 'Statistics', panel: h('div', { id: 'panel-statistics' }, statistics.element) },
    ],
    'Layer views',
    (shown) => {
      tab = shown;
      options.onTab(tab);
      void refresh();
    },
  );
  const element = h('section', { class: 'inspector', 'aria-label': 'Layer inspector' }, title, subtitle, status, tabs.element);

  async function refresh(): Promise<void> {
    if (!layer) return;
    const shownLayer = layer;
    let opened: OpenedModel;
    try {
      status.textContent = 'Loading the model’s weights…';
      opened = await model;
      status.textContent = '';
    } catch (error) {
      status.textContent = `The model cannot be run here: ${error instanceof Error ? error.message : String(error)}`;
      return;
    }
    if (layer !== shownLayer) return;
    if (tab === 'filters') await filters.show(opened.model, shownLayer);
    else if (tab === 'feature-maps') await featureMaps.show(opened.model, opened.input.preprocessing, shownLayer);
    else await statistics.show(opened, shownLayer);
  }

  tabs.choose(tab);
  return {
    element,
    showLayer(layerId) {
      const found = layers.find((l) => l.id === layerId);
      if (!found || found === layer) return;
      layer = found;
      title.textContent = found.name;
      subtitle.textContent = describeLayer(found);
      void refresh();
    },
    setModel(next) {
      model = next;
      void refresh();
    },
    setImage(image) {
      featureMaps.setImage(image);
      statistics.setImage(image);
      // Computed once, for the tab the user will see: Statistics keeps it for the gradients.
      if (tab === 'filters') tabs.choose('feature-maps');
      else void refresh();
    },
  };
}
