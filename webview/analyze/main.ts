/**
 * The Analyze Images panel: streams a folder through the model once (features at a layer, predictions,
 * each channel's peaks at a conv layer), then shows what the network makes of the folder: a 2-D map,
 * nearest neighbours, the patches that excite a channel most, and the confusion matrix with mistakes.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { confusionMatrix } from '../../src/engine/dataset/confusion';
import { EMBEDDING_LABELS, EMBEDDING_METHODS, embed, type EmbeddingMethod } from '../../src/engine/dataset/embedding';
import { analyseFolder, defaultFeatureLayer, folderBatchSize, type FolderFeatures } from '../../src/engine/dataset/features';
import { matchLabels } from '../../src/engine/dataset/imageFolder';
import { nearestNeighbours, unitRows } from '../../src/engine/dataset/neighbours';
import { receptiveField } from '../../src/engine/dataset/receptiveField';
import { cropToTile, fieldInImage, topActivations, type ChannelPeaks, type PixelRect } from '../../src/engine/dataset/topPatches';
import { ExplanationCancelled } from '../../src/engine/progress';
import { camTargetLayers, defaultTargetLayer, outputShapes } from '../../src/engine/explain/targetLayer';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { describePreprocessing } from '../../src/engine/preprocess';
import type { AnalyzeHostMessage, CachedFeatures, FolderEntry } from '../../src/shared/analyzeProtocol';
import { field, select } from '../common/controls';
import { h } from '../common/dom';
import { BACKEND_LABELS, backendTitle, initBackend, type BackendName } from '../common/tfBackend';
import { hostModelSource, lookupCache, onHostMessage, postToHost } from './channel';
import { drawEnlarged, FolderImages } from './folderImages';
import { createMapView } from './mapView';
import { maximizeTab } from './maximizeTab';
import { classColour } from './palette';
import { confusionTable, gallery } from './views';
import { progressReports } from '../common/progressReports';
import { safely } from '../common/safely';
import { limitsOf } from '../../src/engine/limits';

const app = document.getElementById('app')!;
let opened: OpenedModel;
let entries: FolderEntry[] = [];
let folder: FolderImages;
let truth: Int32Array;
let features: FolderFeatures | undefined;
let unitFeatures: Float32Array | undefined;
const peaksByLayer = new Map<string, ChannelPeaks>();
let token = { cancelled: false };
let backend: BackendName = 'cpu';
const status = h('p', { id: 'analyze-status', class: 'status', role: 'status' });
const notices = h('div', { class: 'notices' });

async function start(message: Extract<AnalyzeHostMessage, { type: 'analyze' }>): Promise<void> {
  const choice = await initBackend(message.backend);
  backend = choice.backend;
  entries = message.images;
  try {
    if (entries.length === 0) throw new Error(`${message.folderName} holds no images to analyse.`);
    opened = await openModel(hostModelSource(message.modelFileName, message.limits));
  } catch (error) {
    app.replaceChildren(
      h('div', { class: 'error', role: 'alert' }, h('h1', {}, 'This folder cannot be analysed'), h('p', {}, (error as Error).message)),
    );
    postToHost({ type: 'error', message: (error as Error).message });
    return;
  }
  const { model, labels, input } = opened;
  folder = new FolderImages(
    entries.map((e) => e.path),
    input.preprocessing,
    limitsOf(opened.source).imagePixels,
  );
  const classCount = model.summary.outputShapes[0]?.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1) ?? 0;
  const matched = matchLabels(
    entries.flatMap((e) => (e.label ? [e.label] : [])),
    labels?.names,
    classCount,
  );
  truth = Int32Array.from(entries, (e) => (e.label === undefined ? -1 : (matched.get(e.label) ?? -1)));
  const unmatched = [...matched].filter(([, index]) => index === undefined).map(([label]) => label);

  const featureLayers = model.nodes.map((n) => n.id).filter((id) => id !== model.logits);
  const featureLayer = safely(() => defaultFeatureLayer(model)) ?? featureLayers.at(-2) ?? featureLayers[0];
  const layerSelect = select(
    'feature-layer',
    featureLayers.map((id) => [id, id]),
    featureLayer,
    (id) => void computeFeatures(id),
  );
  const tabs = createTabs();
  app.replaceChildren(
    h(
      'div',
      { class: 'analyze' },
      h(
        'header',
        { class: 'model-header' },
        h(
          'div',
          { class: 'title' },
          h('h1', { id: 'folder-name' }, message.folderName),
          h('span', { class: 'format' }, `${entries.length} image files · ${model.summary.name} (${message.modelFileName})`),
          h('vscode-badge', { id: 'backend', title: backendTitle(choice) }, BACKEND_LABELS[choice.backend]),
        ),
        h(
          'dl',
          { class: 'stats' },
          h('div', { class: 'stat' }, h('dt', {}, 'Preprocessing'), h('dd', {}, describePreprocessing(input.preprocessing))),
          h('div', { class: 'stat' }, h('dt', {}, 'Classes'), h('dd', { id: 'classes' }, describeClasses(matched, unmatched))),
        ),
        choice.fallback ? h('p', { id: 'backend-notice', class: 'notice', role: 'status' }, choice.reason) : null,
        h('div', { class: 'toolbar' }, field('Features of layer', 'feature-layer', layerSelect)),
        status,
        notices,
      ),
      tabs.element,
    ),
  );
  await computeFeatures(featureLayer);
}

function describeClasses(matched: Map<string, number | undefined>, unmatched: string[]): string {
  if (matched.size === 0) return 'no class subfolders (colours show predictions)';
  const known = matched.size - unmatched.length;
  return `${matched.size} subfolders, ${known} matching the model's classes${unmatched.length ? ` (not: ${unmatched.slice(0, 5).join(', ')}${unmatched.length > 5 ? ', …' : ''})` : ''}`;
}

/** The feature pass over the folder: from the cache when this layer was computed before, else streamed. */
async function computeFeatures(layer: string): Promise<void> {
  token.cancelled = true;
  const mine = { cancelled: false };
  token = mine;
  const peakLayer = safely(() => defaultTargetLayer(opened.model));
  const key = `${describePreprocessing(opened.input.preprocessing)}|${layer}|${peakLayer ?? ''}`;
  // The pass's first batches are read while the cache is looked up: on a miss they arrive just
  // behind the lookup's answer, on a hit they were read for nothing.
  const looking = lookupCache(key);
  folder.beginPass(passBatchSize());
  const lookup = await looking;
  const cached = fitsFolder(lookup.features);
  try {
    if (cached) {
      features = {
        count: entries.length,
        featureLayer: cached.featureLayer,
        dim: cached.dim,
        features: new Float32Array(cached.features),
        predicted: new Int32Array(cached.predicted),
        confidence: new Float32Array(cached.confidence),
      };
      for (const [path, reason] of cached.problems) folder.problems.set(path, reason);
      status.textContent = `Features of ${layer} for ${entries.length - folder.problems.size} images, from the cache.`;
    } else {
      folder.setFolderBytes(lookup.imageBytes);
      features = await streamFolder(layer, peakLayer, mine);
      const f = features;
      const problems = [...folder.problems];
      postToHost({
        type: 'storeCache',
        key,
        features: {
          featureLayer: layer,
          dim: f.dim,
          features: f.features.slice().buffer,
          predicted: f.predicted.slice().buffer,
          confidence: f.confidence.slice().buffer,
          problems,
        },
      });
      status.textContent = `Features of ${layer} for ${entries.length - folder.problems.size} images.`;
    }
  } catch (error) {
    if (error instanceof ExplanationCancelled) {
      status.textContent = 'Cancelled.';
      return;
    }
    return report(`Reading the folder failed: ${(error as Error).message}`);
  }
  unitFeatures = unitRows(features.features, features.dim);
  showProblems();
  views.refresh();
}

/** Cached features are used only when they have one row per image of the folder (else: computed afresh). */
function fitsFolder(cached: CachedFeatures | undefined): CachedFeatures | undefined {
  const count = entries.length;
  return cached &&
    cached.dim > 0 &&
    cached.features.byteLength === count * cached.dim * 4 &&
    cached.predicted.byteLength === count * 4 &&
    cached.confidence.byteLength === count * 4
    ? cached
    : undefined;
}

async function streamFolder(layer: string, peakLayer: string | undefined, mine: { cancelled: boolean }): Promise<FolderFeatures> {
  const title = `ConvLens: reading ${entries.length} images`;
  status.textContent = `Computing features of ${layer}…`;
  // User Timing: the pass shows in DevTools' performance panel, and bench/analyzeWebview.ts reads it.
  performance.mark('ConvLens folder pass start');
  try {
    const result = await analyseFolder(opened.model, {
      count: entries.length,
      loadBatch: (start, end) => folder.batch(start, end),
      featureLayer: layer,
      peakLayer,
      batchSize: passBatchSize(),
      progress: { token: mine, report: progressReports((done, total) => postToHost({ type: 'progress', title, done, total })) },
    });
    if (result.peaks && peakLayer) peaksByLayer.set(peakLayer, result.peaks);
    performance.measure('ConvLens folder pass', 'ConvLens folder pass start');
    return result;
  } finally {
    postToHost({ type: 'progressEnd' });
  }
}

function passBatchSize(): number {
  return folderBatchSize(backend, opened.input.preprocessing.width * opened.input.preprocessing.height);
}

/** Channel peaks at another layer: one more pass over the folder, kept for the panel's life. */
async function peaksAt(layer: string): Promise<ChannelPeaks> {
  const known = peaksByLayer.get(layer);
  if (known) return known;
  const mine = { cancelled: false };
  token = mine;
  folder.beginPass(passBatchSize());
  const result = await streamFolder(features!.featureLayer, layer, mine);
  return result.peaks!;
}

function showProblems(): void {
  notices.replaceChildren(
    ...[...folder.problems.values()]
      .slice(0, 5)
      .map((problem) => h('p', { class: 'notice left-out', role: 'alert' }, `Left out: ${problem}`)),
  );
  if (folder.problems.size > 5)
    notices.append(h('p', { class: 'notice' }, `…and ${folder.problems.size - 5} more files that cannot be decoded.`));
  for (const problem of [...folder.problems.values()].slice(0, 3)) postToHost({ type: 'error', message: problem });
}

function report(message: string): void {
  notices.append(h('p', { class: 'notice', role: 'alert' }, message));
  postToHost({ type: 'error', message: `${opened.source.fileName}: ${message}` });
}

/** Images left out of every view: those that could not be decoded. */
function skipped(): Set<number> {
  return new Set(entries.flatMap((e, i) => (folder.problems.has(e.path) ? [i] : [])));
}

function className(index: number): string {
  return opened.labels?.names[index] ?? `class ${index}`;
}

function describe(image: number): string {
  const entry = entries[image];
  const predicted = features
    ? ` · predicted ${className(features.predicted[image])} (${(features.confidence[image] * 100).toFixed(0)}%)`
    : '';
  return `${entry.path}${entry.label ? ` · ${entry.label}` : ''}${predicted}`;
}

// ------------------------------------------------------------------------------------------------
// The views

interface Tab {
  id: string;
  label: string;
  panel: HTMLElement;
  refresh(): void | Promise<void>;
}

let views: { refresh(): void };

/**
 * Views redraw after awaiting thumbnails, patches or a map: a redraw started later (another query,
 * channel or method) must win, so each call gets a check that says whether it is still the latest.
 */
function latestOnly(): () => () => boolean {
  let generation = 0;
  return () => {
    const mine = ++generation;
    return () => mine === generation;
  };
}

function createTabs() {
  const preview = createPreview();
  const tabs: Tab[] = [
    mapTab(preview.show),
    neighboursTab(preview.show),
    patchesTab(preview.show),
    lookForTab(preview.show),
    confusionTab(preview.show),
  ];
  let current = tabs[0];
  const buttons = tabs.map((tab) => {
    const button = h(
      'button',
      { class: 'tab', role: 'tab', type: 'button', id: `tab-${tab.id}`, 'aria-controls': `panel-${tab.id}` },
      tab.label,
    );
    button.addEventListener('click', () => choose(tab));
    button.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
      choose(next);
      document.getElementById(`tab-${next.id}`)?.focus();
    });
    return button;
  });
  const choose = (tab: Tab) => {
    current = tab;
    tabs.forEach((t, i) => {
      t.panel.hidden = t !== tab;
      buttons[i].setAttribute('aria-selected', String(t === tab));
      buttons[i].tabIndex = t === tab ? 0 : -1;
    });
    if (features) void tab.refresh();
  };
  for (const tab of tabs) {
    tab.panel.id = `panel-${tab.id}`;
    tab.panel.setAttribute('role', 'tabpanel');
    tab.panel.setAttribute('aria-labelledby', `tab-${tab.id}`);
  }
  views = { refresh: () => void current.refresh() };
  choose(tabs[0]);
  return {
    element: h(
      'section',
      { class: 'analyze-views' },
      h('div', { class: 'tabs', role: 'tablist' }, ...buttons),
      ...tabs.map((t) => t.panel),
      preview.element,
    ),
  };
}

type Show = (image: number, mark?: PixelRect) => void;

function mapTab(show: Show): Tab {
  let method: EmbeddingMethod = 'pca';
  let colourBy: 'label' | 'predicted' = 'label';
  const note = h('p', { class: 'status', id: 'map-note' });
  const map = createMapView({ describe, thumbnail: (image) => folder.thumbnail(entries[image].path), onSelect: (image) => show(image) });
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
    if (!features) return;
    const isLatest = nextDraw();
    const key = `${features.featureLayer}|${method}`;
    if (computed?.key !== key) {
      const mine = { cancelled: false };
      token = mine;
      note.textContent = `Computing the ${EMBEDDING_LABELS[method]} map…`;
      try {
        const kept = keptRows();
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
    const colourOf = (image: number) => (colourBy === 'label' && truth.some((t) => t >= 0) ? truth[image] : features!.predicted[image]);
    const points = Array.from(computed.indices, (image, i) => ({
      image,
      x: computed!.points[2 * i],
      y: computed!.points[2 * i + 1],
      colour: classColour(colourOf(image)),
    }));
    const classes = [...new Set(points.map((p) => colourOf(p.image)))].sort((a, b) => a - b);
    map.show(
      points,
      classes.map((c) => [c < 0 ? 'no class' : className(c), classColour(c)]),
    );
    note.textContent = `${EMBEDDING_LABELS[method]} of ${features.featureLayer} features: ${points.length} images. Scroll to zoom, drag to pan, click a dot to see its image.${computed.note ? ` ${computed.note}` : ''}`;
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

/** The feature rows of the images that could be decoded, and which images they are. */
function keptRows(): { rows: Float32Array; images: number[] } {
  const skip = skipped();
  if (skip.size === 0) return { rows: features!.features, images: entries.map((_, i) => i) };
  const images = entries.map((_, i) => i).filter((i) => !skip.has(i));
  const rows = new Float32Array(images.length * features!.dim);
  images.forEach((image, i) =>
    rows.set(features!.features.subarray(image * features!.dim, (image + 1) * features!.dim), i * features!.dim),
  );
  return { rows, images };
}

let neighboursQuery = 0;
let showNeighbours: (image: number) => void = () => undefined;

function neighboursTab(show: Show): Tab {
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
      neighboursQuery = found;
      void refresh();
    }
  });
  const nextDraw = latestOnly();
  const refresh = async () => {
    if (!features || !unitFeatures) return;
    const isLatest = nextDraw();
    if (options.childElementCount !== entries.length) options.replaceChildren(...entries.map((e) => h('option', { value: e.path })));
    input.value = entries[neighboursQuery].path;
    const skip = skipped();
    const found = nearestNeighbours(unitFeatures, features.dim, neighboursQuery, Number(k.value) + skip.size)
      .filter((n) => !skip.has(n.index))
      .slice(0, Number(k.value));
    const thumbnails = await Promise.all([neighboursQuery, ...found.map((n) => n.index)].map((i) => folder.thumbnail(entries[i].path)));
    if (!isLatest()) return;
    const label = (i: number) => entries[i].label ?? className(features!.predicted[i]);
    results.replaceChildren(
      h('h3', {}, 'Query'),
      gallery(
        [{ image: neighboursQuery, caption: `${entries[neighboursQuery].path} · ${label(neighboursQuery)}`, picture: thumbnails[0] }],
        (i) => show(i),
        'Query image',
      ),
      h('h3', {}, `${found.length} nearest by cosine distance in ${features.featureLayer}`),
      gallery(
        found.map((n, i) => ({
          image: n.index,
          caption: `${n.distance.toFixed(3)} · ${label(n.index)}`,
          title: entries[n.index].path,
          picture: thumbnails[i + 1],
        })),
        (i) => show(i),
        'Nearest images',
      ),
    );
    postToHost({
      type: 'rendered',
      view: 'neighbours',
      detail: `${entries[neighboursQuery].path} ${found.map((n) => entries[n.index].path).join(' ')}`,
    });
  };
  const panel = h(
    'div',
    { class: 'tab-panel' },
    h('div', { class: 'toolbar' }, field('Image', 'neighbours-query', input), field('How many', 'neighbours-k', k)),
    options,
    results,
  );
  showNeighbours = (image) => {
    neighboursQuery = image;
    document.getElementById('tab-neighbours')?.click();
  };
  return { id: 'neighbours', label: 'Neighbours', panel, refresh };
}

/** The images where a channel peaks highest, each tile cut to the unit's receptive field. */
async function topPatchItems(layer: string, channel: number, count: number) {
  const peaks = await peaksAt(layer);
  const top = topActivations(peaks, channel, count, skipped());
  const { width, height } = opened.input.preprocessing;
  const field = receptiveField(opened.model, layer, [height, width]);
  const images = await folder.decode(top.map((t) => entries[t.image].path));
  const items = top.map((t, i) => {
    const image = images[i]!;
    const rect = fieldInImage(field, t.y, t.x, image);
    return { image: t.image, caption: `${t.value.toPrecision(3)} · ${entries[t.image].path}`, picture: cropToTile(image, rect, 64), rect };
  });
  return { items, field, channels: peaks.channels };
}

function patchGallery(items: Awaited<ReturnType<typeof topPatchItems>>['items'], show: Show, label: string): HTMLElement {
  return gallery(items, (image) => show(image, items.find((item) => item.image === image)?.rect), label);
}

let lookFor: (layer: string, channel: number) => void = () => undefined;

function patchesTab(show: Show): Tab {
  const layers = camTargetLayers(opened.model);
  const layerSelect = select(
    'patch-layer',
    layers.map((id) => [id, id]),
    safely(() => defaultTargetLayer(opened.model)) ?? layers.at(-1) ?? '',
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
  looksFor.addEventListener('click', () => lookFor(layerSelect.value, Number(channel.value)));
  const note = h('p', { class: 'status', id: 'patch-note' });
  const results = h('div', { class: 'patch-results' });
  const nextDraw = latestOnly();
  const refresh = async () => {
    if (!features) return;
    const isLatest = nextDraw();
    const layer = layerSelect.value;
    try {
      note.textContent = `Finding where ${layer} channel ${channel.value} fires hardest…`;
      const { items, field, channels } = await topPatchItems(layer, Number(channel.value), Number(count.value));
      channel.max = String(channels - 1);
      if (!isLatest()) return;
      results.replaceChildren(patchGallery(items, show, `Top patches of ${layer} channel ${channel.value}`));
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

function lookForTab(show: Show): Tab {
  const shapes = outputShapes(opened.model);
  // Units worth maximising: channels of spatial layers and units of flat ones (the logits are the class score).
  const layers = opened.model.nodes
    .map((n) => n.id)
    .filter((id) => id !== opened.model.logits && [2, 4].includes(shapes.get(id)?.length ?? 0));
  const classCount = opened.model.summary.outputShapes[0]?.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1) ?? 0;
  const tab = maximizeTab({
    model: opened.model,
    preprocessing: opened.input.preprocessing,
    layers,
    defaultLayer: safely(() => defaultTargetLayer(opened.model)) ?? layers.at(-1) ?? '',
    classCount: classCount === 1 ? 2 : classCount,
    className,
    claimToken: () => {
      token = { cancelled: false };
      return token;
    },
    topPatches: async (layer, channel, count) => {
      if (!features || !camTargetLayers(opened.model).includes(layer))
        return h('p', { class: 'status' }, `Top patches need a layer with height and width; ${layer} has none.`);
      try {
        const { items } = await topPatchItems(layer, channel, count);
        return patchGallery(items, show, `Top patches of ${layer} channel ${channel}`);
      } catch (error) {
        return h('p', { class: 'status' }, `No patches: ${(error as Error).message}`);
      }
    },
  });
  lookFor = (layer, channel) => {
    tab.choose(layer, channel);
    document.getElementById('tab-maximize')?.click();
    document.getElementById('maximize-run')?.focus();
  };
  return tab;
}

function confusionTab(show: Show): Tab {
  const results = h('div', { class: 'confusion-results' });
  const nextDraw = latestOnly();
  const refresh = async () => {
    if (!features) return;
    const isLatest = nextDraw();
    const skip = skipped();
    const known = Int32Array.from(truth, (t, i) => (skip.has(i) ? -1 : t));
    if (!known.some((t) => t >= 0)) {
      results.replaceChildren(
        h('p', { class: 'status' }, "A confusion matrix needs one subfolder per class, named like the model's classes."),
      );
      return;
    }
    const classCount = Math.max(opened.labels?.names.length ?? 0, ...features.predicted, ...known) + 1;
    const confusion = confusionMatrix(known, features.predicted, features.confidence, classCount);
    const mistakes = confusion.mistakes.slice(0, 48);
    const thumbnails = await Promise.all(mistakes.map((m) => folder.thumbnail(entries[m.index].path)));
    if (!isLatest()) return;
    results.replaceChildren(
      h(
        'p',
        { id: 'accuracy' },
        `Accuracy ${(confusion.accuracy * 100).toFixed(1)}% on ${known.filter((t) => t >= 0).length} labelled images; ${confusion.mistakes.length} mistakes.`,
      ),
      confusionTable(confusion, className),
      h(
        'h3',
        {},
        `Misclassified, most confident first${confusion.mistakes.length > mistakes.length ? ` (${mistakes.length} of ${confusion.mistakes.length})` : ''}`,
      ),
      gallery(
        mistakes.map((m, i) => ({
          image: m.index,
          caption: `${className(m.truth)} → ${className(m.predicted)} (${(m.confidence * 100).toFixed(0)}%)`,
          title: entries[m.index].path,
          picture: thumbnails[i],
          actions: [['Grad-CAM', () => postToHost({ type: 'explainImage', path: entries[m.index].path })]],
        })),
        (image) => show(image),
        'Misclassified images',
      ),
    );
    postToHost({ type: 'rendered', view: 'confusion', detail: `${confusion.accuracy}` });
  };
  return { id: 'confusion', label: 'Confusion', panel: h('div', { class: 'tab-panel' }, results), refresh };
}

/** A dialog with one image at a readable size, a region outlined, and what can be done with it. */
function createPreview() {
  const canvas = h('canvas', { class: 'preview-canvas' });
  const caption = h('p', { class: 'caption' });
  const open = h('button', { class: 'primary', type: 'button' }, 'Open image');
  const neighbours = h('button', { class: 'secondary', type: 'button' }, 'Nearest neighbours');
  const explain = h('button', { class: 'secondary', type: 'button' }, 'Explain with Grad-CAM');
  const close = h('button', { class: 'secondary', type: 'button' }, 'Close');
  const element = h(
    'dialog',
    { class: 'preview', id: 'image-preview', 'aria-label': 'Image' },
    canvas,
    caption,
    h('div', { class: 'card-actions' }, open, neighbours, explain, close),
  );
  let shown = 0;
  open.addEventListener('click', () => postToHost({ type: 'openImage', path: entries[shown].path }));
  explain.addEventListener('click', () => postToHost({ type: 'explainImage', path: entries[shown].path }));
  neighbours.addEventListener('click', () => {
    element.close();
    showNeighbours(shown);
  });
  close.addEventListener('click', () => element.close());
  const show: Show = async (image, mark) => {
    shown = image;
    const [pixels] = await folder.decode([entries[image].path]);
    if (!pixels) return;
    // Small images (28×28) are drawn at a readable size, pixels kept sharp.
    const scale = Math.max(1, Math.floor(256 / Math.max(pixels.width, pixels.height)));
    const context = drawEnlarged(canvas, pixels, scale);
    if (mark) {
      context.strokeStyle = '#ffd200';
      context.lineWidth = 2;
      context.strokeRect(
        mark.left * scale + 1,
        mark.top * scale + 1,
        (mark.right - mark.left) * scale - 2,
        (mark.bottom - mark.top) * scale - 2,
      );
    }
    caption.textContent = `${describe(image)}${mark ? ` · outlined: the unit's receptive field, x ${mark.left}–${mark.right}, y ${mark.top}–${mark.bottom}` : ''}`;
    canvas.setAttribute('aria-label', caption.textContent);
    if (!element.open) element.showModal();
    open.focus();
  };
  return { element, show };
}

onHostMessage((message) => {
  if (message.type === 'analyze') void start(message);
  else if (message.type === 'cancel') token.cancelled = true;
});
postToHost({ type: 'ready' });
