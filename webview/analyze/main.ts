/**
 * The Analyze Images panel: streams a folder through the model once (features at a layer, predictions,
 * each channel's peaks at a conv layer), then shows what the network makes of the folder: a 2-D map,
 * nearest neighbours, the patches that excite a channel most, and the confusion matrix with mistakes.
 * This file wires the panel together; the session (session.ts) holds the state, each tab its own view.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { defaultFeatureLayer } from '../../src/engine/dataset/features';
import { matchLabels } from '../../src/engine/dataset/imageFolder';
import { limitsOf } from '../../src/engine/limits';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { describePreprocessing } from '../../src/engine/preprocess';
import type { AnalyzeHostMessage, FolderEntry } from '../../src/shared/analyzeProtocol';
import { field, select } from '../common/controls';
import { h } from '../common/dom';
import { safely } from '../common/safely';
import { BACKEND_LABELS, backendTitle, initBackend, type BackendChoice } from '../common/tfBackend';
import { pageState } from '../common/channel';
import { hostModelSource, onHostMessage, postToHost } from './channel';
import { confusionTab } from './confusionTab';
import { faithfulnessTab } from './faithfulnessTab';
import { FolderImages } from './folderImages';
import { imagePreview } from './imagePreview';
import { looksForTab } from './looksForTab';
import { mapTab } from './mapTab';
import type { Navigator } from './navigator';
import { neighboursTab } from './neighboursTab';
import { patchesTab } from './patchesTab';
import { HostNativePass } from './nativePass';
import { AnalyzeSession } from './session';
import { useImputationThread } from '../common/imputationThread';
import { tabStrip } from './tabStrip';

type AnalyzeMessage = Extract<AnalyzeHostMessage, { type: 'analyze' }>;

const app = document.getElementById('app')!;
// The Faithfulness tab's ROAD imputes on a worker while the network runs here.
useImputationThread();

/** The choices kept when the page is built again (a new checkpoint of the model): the layer and the tab. */
const choices = pageState<{ featureLayer?: string; tab?: string }>();

/** Opens the model on the folder and builds the page; `adopt` gets the session as soon as it exists (Cancel reaches it). */
async function start(message: AnalyzeMessage, adopt: (session: AnalyzeSession) => void): Promise<void> {
  const choice = await initBackend(message.backend);
  let opened: OpenedModel;
  try {
    if (message.images.length === 0) throw new Error(`${message.folderName} holds no images to analyse.`);
    opened = await openModel(hostModelSource(message.modelFileName, message.limits));
  } catch (error) {
    app.replaceChildren(
      h('div', { class: 'error', role: 'alert' }, h('h1', {}, 'This folder cannot be analysed'), h('p', {}, (error as Error).message)),
    );
    postToHost({ type: 'error', message: (error as Error).message });
    return;
  }
  const entries = message.images;
  const folder = new FolderImages(
    entries.map((e) => e.path),
    opened.input.preprocessing,
    limitsOf(opened.source).imagePixels,
  );
  const classes = matchClassFolders(entries, opened);
  const status = h('p', { id: 'analyze-status', class: 'status', role: 'status' });
  const notices = h('div', { class: 'notices' });
  const mine = new AnalyzeSession(
    opened,
    entries,
    folder,
    classes.truth,
    choice.backend,
    {
      status: (text) => (status.textContent = text),
      problem: (text) => {
        notices.append(h('p', { class: 'notice', role: 'alert' }, text));
        postToHost({ type: 'error', message: `${opened.source.fileName}: ${text}` });
      },
      leftOut: (reasons) => showLeftOut(notices, reasons),
    },
    new HostNativePass(message.nativePass),
  );
  adopt(mine);

  const { model } = opened;
  const featureLayers = model.nodes.map((n) => n.id).filter((id) => id !== model.logits);
  const kept = choices.load().featureLayer;
  const featureLayer =
    (kept && featureLayers.includes(kept) ? kept : undefined) ??
    safely(() => defaultFeatureLayer(model)) ??
    featureLayers.at(-2) ??
    featureLayers[0];
  const views = createViews(mine);
  const computeFeatures = async (layer: string) => {
    choices.save({ featureLayer: layer });
    if (await mine.computeFeatures(layer)) views.refresh();
  };
  const layerSelect = select(
    'feature-layer',
    featureLayers.map((id) => [id, id]),
    featureLayer,
    (id) => void computeFeatures(id),
  );
  app.replaceChildren(
    h(
      'div',
      { class: 'analyze' },
      h(
        'header',
        { class: 'model-header' },
        title(message, opened, choice),
        h(
          'dl',
          { class: 'stats' },
          h('div', { class: 'stat' }, h('dt', {}, 'Preprocessing'), h('dd', {}, describePreprocessing(opened.input.preprocessing))),
          h('div', { class: 'stat' }, h('dt', {}, 'Classes'), h('dd', { id: 'classes' }, classes.description)),
        ),
        choice.fallback ? h('p', { id: 'backend-notice', class: 'notice', role: 'status' }, choice.reason) : null,
        h('div', { class: 'toolbar' }, field('Features of layer', 'feature-layer', layerSelect)),
        status,
        notices,
      ),
      views.element,
    ),
  );
  await computeFeatures(featureLayer);
}

function title(message: AnalyzeMessage, opened: OpenedModel, choice: BackendChoice): HTMLElement {
  return h(
    'div',
    { class: 'title' },
    h('h1', { id: 'folder-name' }, message.folderName),
    h('span', { class: 'format' }, `${message.images.length} image files · ${opened.model.summary.name} (${message.modelFileName})`),
    h('vscode-badge', { id: 'backend', title: backendTitle(choice) }, BACKEND_LABELS[choice.backend]),
  );
}

/** The tabs and the image preview, with the ways each view sends the user to another. */
function createViews(session: AnalyzeSession) {
  const navigator: Navigator = {
    show: (image, mark) => void preview.show(image, mark),
    showNeighbours: (image) => {
      neighbours.query(image);
      strip.choose(neighbours.id);
    },
    lookFor: (layer, channel) => {
      looksFor.choose(layer, channel);
      strip.choose(looksFor.id);
      document.getElementById('maximize-run')?.focus();
    },
  };
  const preview = imagePreview(session, navigator.showNeighbours);
  const neighbours = neighboursTab(session, navigator);
  const looksFor = looksForTab(session, navigator);
  const tabs = [
    mapTab(session, navigator),
    neighbours,
    patchesTab(session, navigator),
    looksFor,
    confusionTab(session, navigator),
    faithfulnessTab(session),
  ];
  const strip = tabStrip(
    tabs,
    () => session.features !== undefined,
    (tab) => choices.save({ tab }),
  );
  strip.choose(choices.load().tab ?? tabs[0].id);
  return {
    element: h('section', { class: 'analyze-views' }, strip.element, preview.element),
    refresh: () => strip.refresh(),
  };
}

/** Each image's class index from its subfolder's name (−1 where none matches), and a sentence about the match. */
function matchClassFolders(entries: readonly FolderEntry[], opened: OpenedModel): { truth: Int32Array; description: string } {
  const matched = matchLabels(
    entries.flatMap((e) => (e.label ? [e.label] : [])),
    opened.labels?.names,
    opened.classCount,
  );
  const truth = Int32Array.from(entries, (e) => (e.label === undefined ? -1 : (matched.get(e.label) ?? -1)));
  const unmatched = [...matched].filter(([, index]) => index === undefined).map(([label]) => label);
  if (matched.size === 0) return { truth, description: 'no class subfolders (colours show predictions)' };
  const known = matched.size - unmatched.length;
  const not = unmatched.length ? ` (not: ${unmatched.slice(0, 5).join(', ')}${unmatched.length > 5 ? ', …' : ''})` : '';
  return { truth, description: `${matched.size} subfolders, ${known} matching the model's classes${not}` };
}

/** Notices for the images that cannot be decoded: the first five by name, the rest counted. */
function showLeftOut(notices: HTMLElement, reasons: readonly string[]): void {
  notices.replaceChildren(
    ...reasons.slice(0, 5).map((problem) => h('p', { class: 'notice left-out', role: 'alert' }, `Left out: ${problem}`)),
  );
  if (reasons.length > 5) notices.append(h('p', { class: 'notice' }, `…and ${reasons.length - 5} more files that cannot be decoded.`));
  for (const problem of reasons.slice(0, 3)) postToHost({ type: 'error', message: problem });
}

/** The host's messages, to the page's one session once it has started. */
function connect(): void {
  let current: AnalyzeSession | undefined;
  onHostMessage((message) => {
    if (message.type === 'analyze') void start(message, (session) => (current = session));
    else if (message.type === 'cancel') current?.cancel();
  });
  postToHost({ type: 'ready' });
}

connect();
