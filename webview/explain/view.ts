/**
 * The Explain panel's page: a toolbar (method, target layer, colormap, opacity) and one card per
 * image with its overlay and its top-5 predictions, each a button that explains that class.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { isCamMethod, METHOD_LABELS, METHODS, type Method } from '../../src/engine/explain/methods';
import type { Prediction } from '../../src/engine/predictions';
import type { RgbaImage } from '../../src/engine/preprocess';
import { COLORMAPS, type Colormap } from '../../src/engine/render/colormaps';
import type { ExplainSettings } from '../../src/shared/explainProtocol';
import { field, select } from '../controls';
import { h } from '../dom';
import { paint } from './images';

export interface ExplainViewOptions {
  modelName: string;
  modelFileName: string;
  preprocessing: string;
  labelsOrigin?: string;
  backend: string;
  backendNotice?: string;
  layers: string[];
  layer?: string;
  settings: ExplainSettings;
  images: { name: string; predictions: Prediction[]; classIndex: number }[];
  onMethod(method: Method): void;
  onLayer(layer: string): void;
  onColormap(colormap: Colormap): void;
  onAlpha(alpha: number): void;
  onClass(imageIndex: number, classIndex: number): void;
  onExport(imageIndex: number, canvas: HTMLCanvasElement): void;
}

export interface ExplainView {
  element: HTMLElement;
  showExplanation(imageIndex: number, picture: RgbaImage, shown: { method: Method; layer?: string; classIndex: number; score: number }): void;
  setBusy(message: string | undefined): void;
  showProblem(message: string): void;
}

export function createExplainView(options: ExplainViewOptions): ExplainView {
  const status = h('p', { id: 'explain-status', class: 'status', role: 'status' });
  const problem = h('p', { id: 'explain-problem', class: 'notice', role: 'alert', hidden: true });
  const layerField = field('Target layer', 'layer-select', select('layer-select', options.layers.map((id) => [id, id]), options.layer ?? '', options.onLayer));
  const showLayerField = (method: Method) => (layerField.hidden = !isCamMethod(method) || options.layers.length === 0);
  showLayerField(options.settings.method);

  const methodSelect = select('method-select', METHODS.map((m) => [m, METHOD_LABELS[m]]), options.settings.method, (value) => {
    showLayerField(value as Method);
    options.onMethod(value as Method);
  });
  const alpha = h('input', { id: 'alpha-input', type: 'range', min: '0', max: '1', step: '0.05', value: String(options.settings.alpha), 'aria-label': 'Overlay opacity' });
  alpha.addEventListener('change', () => options.onAlpha(Number(alpha.value)));

  const toolbar = h(
    'div',
    { class: 'toolbar', role: 'toolbar', 'aria-label': 'Explanation settings' },
    field('Method', 'method-select', methodSelect),
    layerField,
    field('Colormap', 'colormap-select', select('colormap-select', COLORMAPS.map((c) => [c, c]), options.settings.colormap, (value) => options.onColormap(value as Colormap))),
    field('Opacity', 'alpha-input', alpha),
  );

  const cards = options.images.map((image, index) => imageCard(image, index, options));
  const header = h(
    'header',
    { class: 'model-header' },
    h(
      'div',
      { class: 'title' },
      h('h1', { id: 'model-name' }, options.modelName),
      h('span', { class: 'format' }, options.modelFileName),
      h('vscode-badge', { id: 'backend', title: 'TensorFlow.js backend' }, options.backend),
    ),
    h(
      'dl',
      { class: 'stats' },
      h('div', { class: 'stat' }, h('dt', {}, 'Preprocessing'), h('dd', { id: 'preprocessing' }, options.preprocessing)),
      h('div', { class: 'stat' }, h('dt', {}, 'Class names'), h('dd', { id: 'labels-origin' }, options.labelsOrigin ?? 'none found (class numbers)')),
    ),
    options.backendNotice ? h('p', { class: 'notice', role: 'status' }, options.backendNotice) : null,
    toolbar,
    status,
    problem,
  );
  const element = h('div', { class: 'explain' }, header, h('div', { class: 'cards' }, ...cards.map((c) => c.element)));

  return {
    element,
    showExplanation(imageIndex, picture, shown) {
      problem.hidden = true;
      cards[imageIndex].show(picture, shown);
    },
    setBusy(message) {
      status.textContent = message ?? '';
      element.toggleAttribute('aria-busy', Boolean(message));
    },
    showProblem(message) {
      problem.textContent = message;
      problem.hidden = false;
    },
  };
}

function imageCard(image: ExplainViewOptions['images'][number], index: number, options: ExplainViewOptions) {
  const canvas = h('canvas', { class: 'overlay', role: 'img', 'aria-label': `Explanation of ${image.name}` });
  const caption = h('figcaption', { class: 'caption' });
  const buttons = image.predictions.map((prediction) => {
    const button = h(
      'button',
      { class: 'prediction', type: 'button', 'data-class': String(prediction.index), title: `Explain class ${prediction.index} (score ${prediction.score.toPrecision(4)})` },
      h('span', { class: 'prediction-label' }, prediction.label),
      h('span', { class: 'prediction-bar' }),
      h('span', { class: 'prediction-probability' }, `${(prediction.probability * 100).toFixed(1)}%`),
    );
    (button.querySelector('.prediction-bar') as HTMLElement).style.setProperty('--p', String(prediction.probability));
    button.addEventListener('click', () => options.onClass(index, prediction.index));
    return button;
  });
  const markSelected = (classIndex: number) => {
    for (const button of buttons) button.setAttribute('aria-pressed', String(Number(button.dataset.class) === classIndex));
  };
  markSelected(image.classIndex);
  const exportButton = h('button', { class: 'secondary', type: 'button', title: 'Save this picture as a PNG file' }, 'Export PNG');
  exportButton.addEventListener('click', () => options.onExport(index, canvas));

  const element = h(
    'section',
    { class: 'card', 'aria-label': image.name, 'data-image': image.name },
    h('h2', {}, image.name),
    h('figure', {}, canvas, caption),
    h('div', { class: 'predictions', role: 'group', 'aria-label': `Top predictions for ${image.name}` }, ...buttons),
    h('div', { class: 'card-actions' }, exportButton),
  );
  return {
    element,
    show(picture: RgbaImage, shown: { method: Method; layer?: string; classIndex: number; score: number }) {
      paint(canvas, picture);
      const label = image.predictions.find((p) => p.index === shown.classIndex)?.label ?? `class ${shown.classIndex}`;
      caption.textContent = `${METHOD_LABELS[shown.method]} for “${label}” (class ${shown.classIndex}, score ${shown.score.toPrecision(4)})${shown.layer ? ` at ${shown.layer}` : ''}`;
      markSelected(shown.classIndex);
    },
  };
}
