/** The model viewer webview: renders what the host sends and reports what the user selects. */
import type { ModelSummary } from '../src/engine/model';
import type { HostMessage } from '../src/shared/protocol';
import { h } from './dom';
import { createLayerTree, type LayerTreeView } from './layerTree';
import { createModelHeader } from './modelHeader';
import { initBackend, type BackendChoice } from './tfBackend';
import { loadState, onHostMessage, postToHost, saveState } from './vscodeApi';

const app = document.getElementById('app')!;
let layerTree: LayerTreeView | undefined;
let backend: BackendChoice | undefined;

function showModel(model: ModelSummary): void {
  layerTree = createLayerTree(model.layers, (layerId) => {
    saveState({ selectedLayerId: layerId });
    postToHost({ type: 'layerSelected', layerId });
  });
  app.replaceChildren(createModelHeader(model), backendNotice(), layerTree.element);
  showBackend();
  const { selectedLayerId } = loadState();
  if (selectedLayerId) layerTree.select(selectedLayerId);
}

function showError(message: string): void {
  layerTree = undefined;
  app.replaceChildren(
    h('div', { class: 'error', role: 'alert', id: 'model-error' }, h('h1', {}, 'This model cannot be shown'), h('p', {}, message)),
  );
}

function backendNotice(): HTMLElement {
  return h('p', { id: 'backend-notice', class: 'notice', role: 'status', hidden: true });
}

function showBackend(): void {
  const badge = document.getElementById('backend');
  const notice = document.getElementById('backend-notice');
  if (!backend || !badge || !notice) return;
  badge.textContent = backend.backend === 'webgl' ? 'WebGL' : 'CPU';
  if (backend.fallbackReason) {
    notice.textContent = `Running on the CPU, which is slower: ${backend.fallbackReason}`;
    notice.hidden = false;
  }
}

onHostMessage((message: HostMessage) => {
  switch (message.type) {
    case 'showModel':
      saveState({ model: message.model, error: undefined });
      showModel(message.model);
      break;
    case 'showError':
      saveState({ model: undefined, error: message.message });
      showError(message.message);
      break;
    case 'revealLayer':
      saveState({ selectedLayerId: message.layerId });
      layerTree?.select(message.layerId);
      break;
  }
});

// Shown again after being hidden: draw from the saved state at once, then ask the host for fresh data.
const saved = loadState();
if (saved.model) showModel(saved.model);
else if (saved.error) showError(saved.error);
postToHost({ type: 'ready' });

void initBackend().then((choice) => {
  backend = choice;
  showBackend();
  postToHost({ type: 'backendReady', ...choice });
});
