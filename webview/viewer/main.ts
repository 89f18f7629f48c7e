/**
 * The model viewer webview: the layer tree (from the summary the host sends) beside the inspector of
 * the selected layer (filters and feature maps, from the model loaded here on TensorFlow.js).
 */
import type { LayerInfo, ModelSummary } from '../../src/engine/model';
import { walkLayers } from '../../src/engine/model';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { sidecarName } from '../../src/engine/modelInput';
import type { BackendPreference, HostMessage, ViewerProtocol, WebviewState } from '../../src/shared/protocol';
import { h } from '../common/dom';
import { canvasPng, decodeImage } from '../common/images';
import { createInspector, type Inspector } from './inspector/inspector';
import { createLayerTree, type LayerTreeView } from './layerTree';
import { createModelHeader } from './modelHeader';
import { createPreprocessingEditor, type PreprocessingEditor } from './preprocessingEditor';
import { BACKEND_LABELS, backendTitle, initBackend, type BackendChoice } from '../common/tfBackend';
import { connectToHost, pageState } from '../common/channel';
import { limitsOf } from '../../src/engine/limits';

const { postToHost, onHostMessage, hostModelSource } = connectToHost<ViewerProtocol>();
const { load: loadState, save: saveState } = pageState<WebviewState>();
const app = document.getElementById('app')!;
let layerTree: LayerTreeView | undefined;
let inspector: Inspector | undefined;
let backend: Promise<BackendChoice> | undefined;
let opened: Promise<OpenedModel> | undefined;
let shownModel: ModelSummary | undefined;
let preprocessing: PreprocessingEditor | undefined;

function showModel(model: ModelSummary, preference: BackendPreference = 'auto'): void {
  // The host resends the summary whenever the webview reports ready: keep what is already running.
  if (shownModel && JSON.stringify(shownModel) === JSON.stringify(model)) return;
  shownModel = model;
  backend ??= startBackend(preference);
  inspector = undefined;
  preprocessing = createPreprocessingEditor(sidecarName(model.fileName), (settings) => postToHost({ type: 'savePreprocessing', settings }));
  loadModel(model);

  const select = (layerId: string) => {
    saveState({ selectedLayerId: layerId });
    layerTree?.select(layerId);
    inspector?.showLayer(layerId);
    postToHost({ type: 'layerSelected', layerId });
  };
  layerTree = createLayerTree(model.layers, select);
  inspector = createInspector({
    summary: model,
    model: opened!,
    tab: loadState().inspectorTab ?? 'filters',
    onTab: (inspectorTab) => saveState({ inspectorTab }),
    select,
    chooseImage: () => postToHost({ type: 'chooseImage' }),
    dropFile: (file) => void file.arrayBuffer().then((bytes) => showImage(file.name, bytes)),
    dropUri: (uri) => postToHost({ type: 'openImageUri', uri }),
    onExport: (canvas, name) => void exportPng(canvas, name),
    onError: (message) => postToHost({ type: 'error', message: `${model.fileName}: ${message}` }),
  });
  app.replaceChildren(
    createModelHeader(model, preprocessing),
    backendNotice(),
    h('div', { class: 'viewer' }, layerTree.element, inspector.element),
  );
  void backend.then(showBackend);
  const selected = loadState().selectedLayerId ?? firstLayerWithWeights(model.layers)?.id;
  if (selected) select(selected);
}

/** Loads (or loads again, after the preprocessing changed) the model the inspector runs. */
function loadModel(model: ModelSummary): void {
  const previous = opened;
  void previous?.then(
    (m) => m.model.dispose(),
    () => undefined,
  );
  const next = backend!.then(() => openModel(hostModelSource(model.fileName, loadState().limits)));
  opened = next;
  // The inspector says why in the view; the notification says so where the user is looking.
  void next.then(
    ({ input }) => preprocessing?.show(input.preprocessing, input.sidecar),
    (error: unknown) => postToHost({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
  inspector?.setModel(next);
}

function firstLayerWithWeights(layers: LayerInfo[]): LayerInfo | undefined {
  return [...walkLayers(layers)].find((layer) => !layer.children && layer.params > 0);
}

async function showImage(name: string, bytes: ArrayBuffer): Promise<void> {
  try {
    inspector?.setImage({
      name,
      pixels: await decodeImage(name, new Uint8Array(bytes), limitsOf({ limits: loadState().limits }).imagePixels),
    });
  } catch (error) {
    postToHost({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}

async function exportPng(canvas: HTMLCanvasElement, suggestedName: string): Promise<void> {
  postToHost({ type: 'exportPng', suggestedName, bytes: (await canvasPng(canvas)).buffer as ArrayBuffer });
}

function showError(message: string): void {
  layerTree = undefined;
  inspector = undefined;
  shownModel = undefined;
  app.replaceChildren(
    h('div', { class: 'error', role: 'alert', id: 'model-error' }, h('h1', {}, 'This model cannot be shown'), h('p', {}, message)),
  );
}

function backendNotice(): HTMLElement {
  return h('p', { id: 'backend-notice', class: 'notice', role: 'status', hidden: true });
}

function showBackend(choice: BackendChoice): void {
  const badge = document.getElementById('backend');
  const notice = document.getElementById('backend-notice');
  if (!badge || !notice) return;
  badge.textContent = BACKEND_LABELS[choice.backend];
  badge.title = backendTitle(choice);
  if (choice.fallback) {
    notice.textContent = choice.reason;
    notice.hidden = false;
  }
}

async function startBackend(preference: BackendPreference): Promise<BackendChoice> {
  const choice = await initBackend(preference);
  // The host warns that the window runs on the CPU: only when it does, and was not asked to.
  const fallbackReason = choice.backend === 'cpu' && choice.fallback ? choice.reason : undefined;
  postToHost({ type: 'backendReady', backend: choice.backend, fallbackReason });
  return choice;
}

onHostMessage((message: HostMessage) => {
  switch (message.type) {
    case 'showModel':
      saveState({ model: message.model, backend: message.backend, limits: message.limits, error: undefined });
      showModel(message.model, message.backend);
      break;
    case 'showError':
      saveState({ model: undefined, error: message.message });
      showError(message.message);
      break;
    case 'revealLayer':
      saveState({ selectedLayerId: message.layerId });
      layerTree?.select(message.layerId);
      inspector?.showLayer(message.layerId);
      break;
    case 'showImage':
      void showImage(message.name, message.bytes);
      break;
    case 'preprocessingSaved':
      if (!message.error && shownModel) loadModel(shownModel);
      else
        void opened?.then(
          ({ input }) => preprocessing?.show(input.preprocessing, input.sidecar),
          () => undefined,
        );
      break;
  }
});

// Shown again after being hidden: draw the tree from the saved state at once; the host then resends it.
const saved = loadState();
if (saved.model) showModel(saved.model, saved.backend);
else if (saved.error) showError(saved.error);
postToHost({ type: 'ready' });
