/**
 * One viewer page's state: the summary shown (the layer tree), the model loaded for the inspector, the
 * TensorFlow.js backend, and what VS Code keeps of the page while it is hidden (the page store).
 */
import { limitsOf } from '../../src/engine/limits';
import { walkLayers, type LayerInfo, type ModelSummary } from '../../src/engine/model';
import { sidecarName } from '../../src/engine/modelInput';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import type { BackendPreference, HostMessage, ViewerProtocol, WebviewState } from '../../src/shared/protocol';
import type { HostChannel } from '../common/channel';
import { h } from '../common/dom';
import { canvasPng, decodeImage } from '../common/images';
import { BACKEND_LABELS, backendTitle, initBackend, type BackendChoice } from '../common/tfBackend';
import { createInspector, type Inspector } from './inspector/inspector';
import { createLayerTree, type LayerTreeView } from './layerTree';
import { createModelHeader } from './modelHeader';
import { createPreprocessingEditor, type PreprocessingEditor } from './preprocessingEditor';

export interface ViewerStore {
  load(): WebviewState;
  save(patch: Partial<WebviewState>): void;
}

export class ViewerSession {
  private layerTree?: LayerTreeView;
  private inspector?: Inspector;
  private backend?: Promise<BackendChoice>;
  private opened?: Promise<OpenedModel>;
  private shownModel?: ModelSummary;
  private preprocessing?: PreprocessingEditor;

  constructor(
    private readonly host: Pick<HostChannel<ViewerProtocol>, 'postToHost' | 'hostModelSource'>,
    private readonly app: HTMLElement,
    private readonly store: ViewerStore,
  ) {}

  /** Draws what the page showed before it was hidden, at once; the host then sends it again. */
  restore(): void {
    const saved = this.store.load();
    if (saved.model) this.showModel(saved.model, saved.backend);
    else if (saved.error) this.showError(saved.error);
  }

  receive(message: HostMessage): void {
    switch (message.type) {
      case 'showModel':
        this.store.save({ model: message.model, backend: message.backend, limits: message.limits, error: undefined });
        this.showModel(message.model, message.backend);
        break;
      case 'showError':
        this.store.save({ model: undefined, error: message.message });
        this.showError(message.message);
        break;
      case 'revealLayer':
        this.store.save({ selectedLayerId: message.layerId });
        this.layerTree?.select(message.layerId);
        this.inspector?.showLayer(message.layerId);
        break;
      case 'showImage':
        void this.showImage(message.name, message.bytes);
        break;
      case 'preprocessingSaved':
        if (!message.error && this.shownModel) this.loadModel(this.shownModel);
        else
          void this.opened?.then(
            ({ input }) => this.preprocessing?.show(input.preprocessing, input.sidecar),
            () => undefined,
          );
        break;
    }
  }

  private showModel(model: ModelSummary, preference: BackendPreference = 'auto'): void {
    // The host resends the summary whenever the webview reports ready: keep what is already running.
    if (this.shownModel && JSON.stringify(this.shownModel) === JSON.stringify(model)) return;
    this.shownModel = model;
    this.backend ??= this.startBackend(preference);
    this.inspector = undefined;
    this.preprocessing = createPreprocessingEditor(sidecarName(model.fileName), (settings) =>
      this.host.postToHost({ type: 'savePreprocessing', settings }),
    );
    this.loadModel(model);

    const select = (layerId: string) => {
      this.store.save({ selectedLayerId: layerId });
      this.layerTree?.select(layerId);
      this.inspector?.showLayer(layerId);
      this.host.postToHost({ type: 'layerSelected', layerId });
    };
    this.layerTree = createLayerTree(model.layers, select);
    this.inspector = createInspector({
      summary: model,
      model: this.opened!,
      tab: this.store.load().inspectorTab ?? 'filters',
      onTab: (inspectorTab) => this.store.save({ inspectorTab }),
      select,
      chooseImage: () => this.host.postToHost({ type: 'chooseImage' }),
      dropFile: (file) => void file.arrayBuffer().then((bytes) => this.showImage(file.name, bytes)),
      dropUri: (uri) => this.host.postToHost({ type: 'openImageUri', uri }),
      onExport: (canvas, name) => void this.exportPng(canvas, name),
      onError: (message) => this.host.postToHost({ type: 'error', message: `${model.fileName}: ${message}` }),
    });
    this.app.replaceChildren(
      createModelHeader(model, this.preprocessing),
      h('p', { id: 'backend-notice', class: 'notice', role: 'status', hidden: true }),
      h('div', { class: 'viewer' }, this.layerTree.element, this.inspector.element),
    );
    void this.backend.then(showBackend);
    const selected = this.store.load().selectedLayerId ?? firstLayerWithWeights(model.layers)?.id;
    if (selected) select(selected);
  }

  /** Loads (or loads again, after the preprocessing changed) the model the inspector runs. */
  private loadModel(model: ModelSummary): void {
    void this.opened?.then(
      (m) => m.model.dispose(),
      () => undefined,
    );
    const next = this.backend!.then(() => openModel(this.host.hostModelSource(model.fileName, this.store.load().limits)));
    this.opened = next;
    // The inspector says why in the view; the notification says so where the user is looking.
    void next.then(
      ({ input }) => this.preprocessing?.show(input.preprocessing, input.sidecar),
      (error: unknown) => this.host.postToHost({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
    this.inspector?.setModel(next);
  }

  private async showImage(name: string, bytes: ArrayBuffer): Promise<void> {
    try {
      const maxPixels = limitsOf({ limits: this.store.load().limits }).imagePixels;
      this.inspector?.setImage({ name, pixels: await decodeImage(name, new Uint8Array(bytes), maxPixels) });
    } catch (error) {
      this.host.postToHost({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  }

  private async exportPng(canvas: HTMLCanvasElement, suggestedName: string): Promise<void> {
    this.host.postToHost({ type: 'exportPng', suggestedName, bytes: (await canvasPng(canvas)).buffer as ArrayBuffer });
  }

  private showError(message: string): void {
    this.layerTree = undefined;
    this.inspector = undefined;
    this.shownModel = undefined;
    this.app.replaceChildren(
      h('div', { class: 'error', role: 'alert', id: 'model-error' }, h('h1', {}, 'This model cannot be shown'), h('p', {}, message)),
    );
  }

  private async startBackend(preference: BackendPreference): Promise<BackendChoice> {
    const choice = await initBackend(preference);
    // The host warns that the window runs on the CPU: only when it does, and was not asked to.
    const fallbackReason = choice.backend === 'cpu' && choice.fallback ? choice.reason : undefined;
    this.host.postToHost({ type: 'backendReady', backend: choice.backend, fallbackReason });
    return choice;
  }
}

function firstLayerWithWeights(layers: LayerInfo[]): LayerInfo | undefined {
  return [...walkLayers(layers)].find((layer) => !layer.children && layer.params > 0);
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
