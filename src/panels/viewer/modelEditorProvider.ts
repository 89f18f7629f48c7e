/**
 * The read-only custom editor for model files. Opening a model (by double-click, "Open With…" or
 * Visualize Layers) lands here; each editor gets a ModelViewer, and the registry tracks the active one
 * for the sidebar's layer tree.
 */
import * as vscode from 'vscode';
import { ModelViewer } from './modelViewer';
import { modelViewerHtml, webviewOptions } from '../common/webviewHtml';

export const MODEL_VIEWER = 'convlens.modelViewer';
/** The same viewer for `*.json`, offered as an option only so JSON files keep their text editor. */
export const MODEL_JSON_VIEWER = 'convlens.modelJsonViewer';

export function viewTypeFor(uri: vscode.Uri): string {
  return uri.path.toLowerCase().endsWith('.json') ? MODEL_JSON_VIEWER : MODEL_VIEWER;
}

export class ModelViewerRegistry implements vscode.Disposable {
  private readonly viewers = new Set<ModelViewer>();
  private activeViewer: ModelViewer | undefined;
  private readonly activeChanged = new vscode.EventEmitter<ModelViewer | undefined>();
  readonly onDidChangeActive = this.activeChanged.event;

  get active(): ModelViewer | undefined {
    return this.activeViewer;
  }

  /** An open viewer of `uri`, the active one first. */
  find(uri: vscode.Uri): ModelViewer | undefined {
    const key = uri.toString();
    if (this.activeViewer?.uri.toString() === key) return this.activeViewer;
    return [...this.viewers].find((viewer) => viewer.uri.toString() === key);
  }

  add(viewer: ModelViewer): void {
    this.viewers.add(viewer);
    const { panel } = viewer;
    panel.onDidChangeViewState(() => {
      if (panel.active) this.setActive(viewer);
    });
    panel.onDidDispose(() => {
      this.viewers.delete(viewer);
      viewer.dispose();
      if (this.activeViewer === viewer) this.setActive([...this.viewers].at(-1));
    });
    this.setActive(viewer);
  }

  dispose(): void {
    this.activeChanged.dispose();
  }

  private setActive(viewer: ModelViewer | undefined): void {
    if (this.activeViewer === viewer) return;
    this.activeViewer = viewer;
    this.activeChanged.fire(viewer);
  }
}

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider {
  static register(context: vscode.ExtensionContext, registry: ModelViewerRegistry): vscode.Disposable[] {
    const provider = new ModelEditorProvider(context.extensionUri, registry);
    const options = { supportsMultipleEditorsPerDocument: true, webviewOptions: { retainContextWhenHidden: false } };
    return [
      vscode.window.registerCustomEditorProvider(MODEL_VIEWER, provider, options),
      vscode.window.registerCustomEditorProvider(MODEL_JSON_VIEWER, provider, options),
    ];
  }

  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: ModelViewerRegistry,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = modelViewerHtml(panel.webview, this.extensionUri);
    const viewer = new ModelViewer(document.uri, panel, (webview) => modelViewerHtml(webview, this.extensionUri));
    this.registry.add(viewer);
    await viewer.load();
  }
}
