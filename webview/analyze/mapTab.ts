/**
 * The Map tab: the folder's features in two dimensions (PCA, t-SNE, UMAP …), coloured by class folder,
 * prediction or dominant concept, optionally over the classifier's decision regions.
 */
import { decisionRegions, type DecisionRegions } from '../../src/engine/dataset/decisionRegions';
import { EMBEDDING_LABELS, EMBEDDING_METHODS, embed, type EmbeddingMethod } from '../../src/engine/dataset/embedding';
import { drawnClasses } from '../../src/engine/dataset/regionGrid';
import { ExplanationCancelled } from '../../src/engine/progress';
import { field, select } from '../common/controls';
import { h } from '../common/dom';
import { latestOnly } from '../common/latestOnly';
import { postToHost } from './channel';
import { conceptColour, conceptLabel, conceptsView, type FolderConcepts } from './conceptsView';
import { createMapView } from './mapView';
import type { Navigator } from './navigator';
import { classColour } from './palette';
import type { AnalyzeSession } from './session';
import type { Tab } from './tabStrip';

/** Cells along each side of the decision-region grid (see docs/explanations.md, "Decision regions"). */
const REGION_GRID = 256;
/** How many times a cell whose dots disagree with it may be halved: down to 1/16384 of the map's side. */
const REGION_DEPTH = 6;

export function mapTab(session: AnalyzeSession, navigator: Navigator): Tab {
  let method: EmbeddingMethod = 'pca';
  let colourBy: 'label' | 'predicted' | 'concepts' = 'label';
  let components = 5;
  let showRegions = false;
  const note = h('p', { class: 'status', id: 'map-note' });
  const regionsNote = h('p', { class: 'status', id: 'regions-note', hidden: true });
  const concepts = conceptsView(session, navigator);
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
      ['concepts', 'Concepts'],
    ],
    colourBy,
    (c) => {
      colourBy = c as typeof colourBy;
      conceptCount.hidden = colourBy !== 'concepts';
      void refresh();
    },
  );
  const countSelect = select(
    'map-concepts',
    [2, 3, 4, 5, 6, 7, 8, 10].map((k) => [String(k), String(k)]),
    String(components),
    (k) => {
      components = Number(k);
      void refresh();
    },
  );
  const conceptCount = field('Concepts', 'map-concepts', countSelect);
  conceptCount.hidden = true;
  const regionsBox = h('input', { type: 'checkbox', id: 'map-regions' });
  regionsBox.addEventListener('change', () => {
    showRegions = regionsBox.checked;
    void refresh();
  });
  const regionsToggle = h('label', { class: 'field checkbox', for: 'map-regions' }, regionsBox, h('span', {}, 'Decision regions'));
  let computed: { key: string; indices: Int32Array; points: Float32Array; note?: string } | undefined;
  let regions: { key: string; result: DecisionRegions } | undefined;
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
    const shown = computed;
    const folderConcepts = colourBy === 'concepts' ? await concepts.compute(components, (text) => (note.textContent = text)) : undefined;
    if (!isLatest()) return;
    if (colourBy === 'concepts' && !folderConcepts) return;
    const shownRegions = showRegions ? await regionsOf(shown, isLatest) : undefined;
    if (!isLatest()) return;
    const { truth } = session;
    const colourOf = (image: number) => (colourBy === 'label' && truth.some((t) => t >= 0) ? truth[image] : features.predicted[image]);
    const dotColour = folderConcepts
      ? (image: number) => conceptColour(folderConcepts.dominant[image], folderConcepts.components)
      : (image: number) => classColour(colourOf(image));
    const points = Array.from(shown.indices, (image, i) => ({
      image,
      x: shown.points[2 * i],
      y: shown.points[2 * i + 1],
      colour: dotColour(image),
    }));
    map.show(
      points,
      folderConcepts
        ? conceptLegend(folderConcepts)
        : classLegend(
            points.map((p) => colourOf(p.image)),
            shownRegions,
          ),
    );
    map.showRegions(shownRegions && { grid: shownRegions.grid, colour: classColour });
    concepts.show(folderConcepts);
    regionsNote.hidden = !shownRegions;
    if (shownRegions) {
      const agreeing = shownRegions.agrees.reduce((sum, a) => sum + a, 0);
      regionsNote.textContent =
        `Decision regions: the background shows the class the classifier after ${features.featureLayer} gives at each point of the map ` +
        `(${REGION_GRID}×${REGION_GRID} cells, halved up to ${REGION_DEPTH} times where a dot's prediction differs, ` +
        `features from the nearest dots${method === 'pca' ? ' moved onto the point along the principal axes' : ''}). ` +
        `The region under a dot is the model's prediction for ${agreeing} of ${points.length} images (${(shownRegions.agreement * 100).toFixed(1)}% agree).`;
    }
    note.textContent = `${EMBEDDING_LABELS[method]} of ${features.featureLayer} features: ${points.length} images. Scroll to zoom, drag to pan, click a dot to see its image.${shown.note ? ` ${shown.note}` : ''}`;
    postToHost({
      type: 'rendered',
      view: 'map',
      detail: `${method} ${points.length}${shownRegions ? ' regions' : ''}${folderConcepts ? ' concepts' : ''}`,
    });
  };

  /** The decision regions of the map shown, computed once per map. */
  const regionsOf = async (shown: NonNullable<typeof computed>, isLatest: () => boolean): Promise<DecisionRegions | undefined> => {
    if (regions?.key === shown.key) return regions.result;
    const features = session.requireFeatures();
    const { dim } = features;
    const rows = new Float32Array(shown.indices.length * dim);
    shown.indices.forEach((image, i) => rows.set(features.features.subarray(image * dim, (image + 1) * dim), i * dim));
    const mine = session.claimToken();
    const title = `ConvLens: decision regions of the ${EMBEDDING_LABELS[method]} map`;
    regionsNote.hidden = false;
    regionsNote.textContent = 'Computing the decision regions…';
    try {
      const result = await decisionRegions(session.opened.model, {
        featureLayer: features.featureLayer,
        features: rows,
        dim,
        points: shown.points,
        predicted: Int32Array.from(shown.indices, (image) => features.predicted[image]),
        method,
        gridSize: REGION_GRID,
        refineDepth: REGION_DEPTH,
        progress: { token: mine, report: (done, total) => postToHost({ type: 'progress', title, done, total }) },
      });
      if (isLatest()) regions = { key: shown.key, result };
      return result;
    } catch (error) {
      if (isLatest()) {
        regionsNote.textContent =
          error instanceof ExplanationCancelled ? 'Cancelled.' : `The decision regions failed: ${(error as Error).message}`;
      }
      return undefined;
    } finally {
      postToHost({ type: 'progressEnd' });
    }
  };

  const classLegend = (classIndices: number[], shownRegions: DecisionRegions | undefined): [string, string][] => {
    const classes = [...new Set([...classIndices, ...(shownRegions ? drawnClasses(shownRegions.grid) : [])])].sort((a, b) => a - b);
    return classes.map((c) => [c < 0 ? 'no class' : session.className(c), classColour(c)]);
  };
  const conceptLegend = (folderConcepts: FolderConcepts): [string, string][] =>
    Array.from({ length: folderConcepts.components }, (_, j) => [
      conceptLabel(session, folderConcepts, j),
      conceptColour(j, folderConcepts.components),
    ]);

  const panel = h(
    'div',
    { class: 'tab-panel' },
    h(
      'div',
      { class: 'toolbar' },
      field('Method', 'map-method', methodSelect),
      field('Colour by', 'map-colour', colourSelect),
      conceptCount,
      regionsToggle,
    ),
    note,
    regionsNote,
    map.element,
    concepts.element,
  );
  return { id: 'map', label: 'Map', panel, refresh };
}
