/**
 * The pane beside the layer tree: the selected layer's heading and two tabs, Filters and Feature maps.
 * The model itself (weights and all) loads in the background once the tree is on screen.
 */
import type { LayerInfo, ModelSummary } from '../../../src/engine/model';
import { walkLayers } from '../../../src/engine/model';
import type { OpenedModel } from '../../../src/engine/openModel';
import { describeLayer } from '../../../src/shared/format';
import { h } from '../../common/dom';
import { createFeatureMapsView, type FeatureMapsImage, type FeatureMapsViewOptions } from './featureMapsView';
import { createFiltersView } from './filtersView';

export type InspectorTab = 'filters' | 'feature-maps';

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
  const title = h('h2', { id: 'inspector-title' }, 'Select a layer');
  const subtitle = h('p', { id: 'inspector-subtitle', class: 'description' }, 'Its filters and feature maps appear here.');
  const status = h('p', { id: 'inspector-status', class: 'description', role: 'status' });
  const tabButton = (id: InspectorTab, label: string) => {
    const button = h('button', { id: `tab-${id}`, class: 'tab', type: 'button', role: 'tab', 'aria-controls': `panel-${id}` }, label);
    button.addEventListener('click', () => chooseTab(id));
    return button;
  };
  const tabs = { filters: tabButton('filters', 'Filters'), 'feature-maps': tabButton('feature-maps', 'Feature maps') };
  const panels = {
    filters: h('div', { id: 'panel-filters', role: 'tabpanel', 'aria-labelledby': 'tab-filters' }, filters.element),
    'feature-maps': h('div', { id: 'panel-feature-maps', role: 'tabpanel', 'aria-labelledby': 'tab-feature-maps' }, featureMaps.element),
  };
  const tabList = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Layer views' }, tabs.filters, tabs['feature-maps']);
  tabList.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    const other: InspectorTab = tab === 'filters' ? 'feature-maps' : 'filters';
    chooseTab(other);
    tabs[other].focus();
  });
  const element = h(
    'section',
    { class: 'inspector', 'aria-label': 'Layer inspector' },
    title,
    subtitle,
    tabList,
    status,
    panels.filters,
    panels['feature-maps'],
  );

  function chooseTab(next: InspectorTab): void {
    tab = next;
    for (const id of ['filters', 'feature-maps'] as const) {
      tabs[id].setAttribute('aria-selected', String(id === tab));
      tabs[id].tabIndex = id === tab ? 0 : -1;
      panels[id].hidden = id !== tab;
    }
    options.onTab(tab);
    void refresh();
  }

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
    else await featureMaps.show(opened.model, opened.input.preprocessing, shownLayer);
  }

  chooseTab(tab);
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
      // Computed once, for the tab the user will see.
      if (tab !== 'feature-maps') chooseTab('feature-maps');
      else void refresh();
    },
  };
}
