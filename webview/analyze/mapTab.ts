/** The Map tab: the folder's features in two dimensions (PCA, t-SNE, UMAP …), coloured by class. */
import { EMBEDDING_LABELS, EMBEDDING_METHODS, embed, type EmbeddingMethod } from '../../src/engine/dataset/embedding';
import { ExplanationCancelled } from '../../src/engine/progress';
import { field, select } from '../common/controls';
import { h } from '../common/dom';
import { latestOnly } from '../common/latestOnly';
import { postToHost } from './channel';
import { createMapView } from './mapView';
import type { Navigator } from './navigator';
import { classColour } from './palette';
import type { AnalyzeSession } from './session';
import type { Tab } from './tabStrip';

export function mapTab(session: AnalyzeSession, navigator: Navigator): Tab {
  let method: EmbeddingMethod = 'pca';
  let colourBy: 'label' | 'predicted' = 'label';
  const note = h('p', { class: 'status', id: 'map-note' });
  const map = createMapView({
    describe: (image) => session.describe(image),
    thumbnail: (image) => session.folder.thumbnail(session.entries[image].path),
    onSelect: (image) => navigator.show(image),
  });
  const methodSelect = select(
    'map-method',
    EMBEDDING_METHODS.map((m) => [m, EMBEDDING_LABELS[m]]),
    method,
    (m) => {
      method = m as EmbeddingMethod;
      void refresh();
    },
  );
  const colourSelect = select(
    'map-colour',
    [
      ['label', 'Class folder'],
      ['predicted', 'Predicted class'],
    ],
    colourBy,
    (c) => {
      colourBy = c as typeof colourBy;
      void refresh();
    },
  );
  let computed: { key: string; indices: Int32Array; points: Float32Array; note?: string } | undefined;
  const nextDraw = latestOnly();
  const refresh = async () => {
    const features = session.features;
    if (!features) return;
    const isLatest = nextDraw();
    const key = `${features.featureLayer}|${method}`;
    if (computed?.key !== key) {
      const mine = session.claimToken();
      note.textContent = `Computing the ${EMBEDDING_LABELS[method]} map…`;
      try {
        const kept = session.keptRows();
        const title = `ConvLens: ${EMBEDDING_LABELS[method]} map of ${kept.images.length} images`;
        const result = await embed(kept.rows, features.dim, method, {
          progress: { token: mine, report: (done, total) => postToHost({ type: 'progress', title, done, total }) },
        });
        if (!isLatest()) return;
        computed = { key, indices: Int32Array.from(result.indices, (i) => kept.images[i]), points: result.points, note: result.note };
      } catch (error) {
        if (!isLatest()) return;
        note.textContent = error instanceof ExplanationCancelled ? 'Cancelled.' : `The map failed: ${(error as Error).message}`;
        return;
      } finally {
        postToHost({ type: 'progressEnd' });
      }
    }
    const { truth } = session;
    const colourOf = (image: number) => (colourBy === 'label' && truth.some((t) => t >= 0) ? truth[image] : features.predicted[image]);
    const shown = computed;
    const points = Array.from(shown.indices, (image, i) => ({
      image,
      x: shown.points[2 * i],
      y: shown.points[2 * i + 1],
      colour: classColour(colourOf(image)),
    }));
    const classes = [...new Set(points.map((p) => colourOf(p.image)))].sort((a, b) => a - b);
    map.show(
      points,
      classes.map((c) => [c < 0 ? 'no class' : session.className(c), classColour(c)]),
    );
    note.textContent = `${EMBEDDING_LABELS[method]} of ${features.featureLayer} features: ${points.length} images. Scroll to zoom, drag to pan, click a dot to see its image.${shown.note ? ` ${shown.note}` : ''}`;
    postToHost({ type: 'rendered', view: 'map', detail: `${method} ${points.length}` });
  };
  const panel = h(
    'div',
    { class: 'tab-panel' },
    h('div', { class: 'toolbar' }, field('Method', 'map-method', methodSelect), field('Colour by', 'map-colour', colourSelect)),
    note,
    map.element,
  );
  return { id: 'map', label: 'Map', panel, refresh };
}
