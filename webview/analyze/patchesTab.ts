/** The Top patches tab: for a channel of a spatial layer, the folder's patches that excite it most. */
import { camTargetLayers, defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import { ExplanationCancelled } from '../../src/engine/progress';
import { field, select } from '../common/controls';
import { h } from '../common/dom';
import { latestOnly } from '../common/latestOnly';
import { safely } from '../common/safely';
import { postToHost } from './channel';
import type { Navigator } from './navigator';
import type { AnalyzeSession } from './session';
import type { Tab } from './tabStrip';
import { patchGallery, topPatchItems } from './topPatchGallery';

export function patchesTab(session: AnalyzeSession, navigator: Navigator): Tab {
  const model = session.opened.model;
  const layers = camTargetLayers(model);
  const layerSelect = select(
    'patch-layer',
    layers.map((id) => [id, id]),
    safely(() => defaultTargetLayer(model)) ?? layers.at(-1) ?? '',
    () => void refresh(),
  );
  const channel = h('input', { id: 'patch-channel', type: 'number', min: '0', value: '0', 'aria-label': 'Channel' });
  const count = select(
    'patch-count',
    ['9', '16', '25', '36'].map((v) => [v, v]),
    '16',
    () => void refresh(),
  );
  const looksFor = h(
    'button',
    { class: 'secondary', type: 'button', id: 'patch-looks-for', title: 'Synthesise the image this channel responds to most' },
    'What it looks for',
  );
  channel.addEventListener('change', () => void refresh());
  looksFor.addEventListener('click', () => navigator.lookFor(layerSelect.value, Number(channel.value)));
  const note = h('p', { class: 'status', id: 'patch-note' });
  const results = h('div', { class: 'patch-results' });
  const nextDraw = latestOnly();
  const refresh = async () => {
    if (!session.features) return;
    const isLatest = nextDraw();
    const layer = layerSelect.value;
    try {
      note.textContent = `Finding where ${layer} channel ${channel.value} fires hardest…`;
      const { items, field, channels } = await topPatchItems(session, layer, Number(channel.value), Number(count.value));
      channel.max = String(channels - 1);
      if (!isLatest()) return;
      results.replaceChildren(patchGallery(items, navigator, `Top patches of ${layer} channel ${channel.value}`));
      const fieldText =
        field.kind === 'local'
          ? `each patch is the unit's receptive field, ${field.rows.size}×${field.columns.size} input pixels`
          : `every unit sees the whole image (${field.reason})`;
      note.textContent = `The ${items.length} images where ${layer} channel ${channel.value} peaks highest, strongest first; ${fieldText}. Click one to see it in its image.`;
      postToHost({ type: 'rendered', view: 'patches', detail: `${layer} ${channel.value} ${items.length}` });
    } catch (error) {
      if (isLatest()) note.textContent = error instanceof ExplanationCancelled ? 'Cancelled.' : `No patches: ${(error as Error).message}`;
    }
  };
  const panel = h(
    'div',
    { class: 'tab-panel' },
    h(
      'div',
      { class: 'toolbar' },
      field('Layer', 'patch-layer', layerSelect),
      field('Channel', 'patch-channel', channel),
      field('Patches', 'patch-count', count),
      looksFor,
    ),
    note,
    results,
  );
  return { id: 'patches', label: 'Top patches', panel, refresh };
}
