/** The Neighbours tab: the images whose features are nearest (by cosine distance) to a query image's. */
import { nearestNeighbours } from '../../src/engine/dataset/neighbours';
import { field, select } from '../common/controls';
import { h } from '../common/dom';
import { latestOnly } from '../common/latestOnly';
import { postToHost } from './channel';
import type { Navigator } from './navigator';
import type { AnalyzeSession } from './session';
import type { Tab } from './tabStrip';
import { gallery } from './views';

export interface NeighboursTab extends Tab {
  /** Makes `image` the query (the caller shows the tab). */
  query(image: number): void;
}

export function neighboursTab(session: AnalyzeSession, navigator: Navigator): NeighboursTab {
  const { entries } = session;
  let queryImage = 0;
  const options = h('datalist', { id: 'image-names' });
  const input = h('input', {
    id: 'neighbours-query',
    type: 'search',
    list: 'image-names',
    placeholder: 'Image name…',
    'aria-label': 'Query image',
  });
  const k = select(
    'neighbours-k',
    ['5', '10', '20'].map((v) => [v, v]),
    '10',
    () => void refresh(),
  );
  const results = h('div', { class: 'neighbours-results' });
  input.addEventListener('change', () => {
    const found = entries.findIndex((e) => e.path === input.value);
    if (found >= 0) {
      queryImage = found;
      void refresh();
    }
  });
  const nextDraw = latestOnly();
  const refresh = async () => {
    const features = session.features;
    const unit = session.unitFeatures;
    if (!features || !unit) return;
    const isLatest = nextDraw();
    if (options.childElementCount !== entries.length) options.replaceChildren(...entries.map((e) => h('option', { value: e.path })));
    const query = queryImage;
    input.value = entries[query].path;
    const skip = session.skipped();
    const count = Number(k.value);
    const found = nearestNeighbours(unit, features.dim, query, count + skip.size)
      .filter((n) => !skip.has(n.index))
      .slice(0, count);
    const thumbnails = await Promise.all([query, ...found.map((n) => n.index)].map((i) => session.folder.thumbnail(entries[i].path)));
    if (!isLatest()) return;
    const label = (i: number) => entries[i].label ?? session.className(features.predicted[i]);
    const open = (image: number) => navigator.show(image);
    results.replaceChildren(
      h('h3', {}, 'Query'),
      gallery([{ image: query, caption: `${entries[query].path} · ${label(query)}`, picture: thumbnails[0] }], open, 'Query image'),
      h('h3', {}, `${found.length} nearest by cosine distance in ${features.featureLayer}`),
      gallery(
        found.map((n, i) => ({
          image: n.index,
          caption: `${n.distance.toFixed(3)} · ${label(n.index)}`,
          title: entries[n.index].path,
          picture: thumbnails[i + 1],
        })),
        open,
        'Nearest images',
      ),
    );
    postToHost({
      type: 'rendered',
      view: 'neighbours',
      detail: `${entries[query].path} ${found.map((n) => entries[n.index].path).join(' ')}`,
    });
  };
  const panel = h(
    'div',
    { class: 'tab-panel' },
    h('div', { class: 'toolbar' }, field('Image', 'neighbours-query', input), field('How many', 'neighbours-k', k)),
    options,
    results,
  );
  return {
    id: 'neighbours',
    label: 'Neighbours',
    panel,
    refresh,
    query: (image) => {
      queryImage = image;
    },
  };
}
