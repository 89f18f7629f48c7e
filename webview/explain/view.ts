/**
 * The Explain panel's page: a toolbar (method, the CAM family's smoothing, methods to compare, target
 * layer, colormap, opacity, the method report)
 * and one card per image with its overlays side by side, its top-5 predictions, each a button
 * that explains that class, and "Check this explanation" with its results. Above them, the
 * preprocessing and why, and the offer of a better one. The header, toolbar and card are one file because
 * they share the options object; the check, report and charts have modules of their own.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { isCamMethod, METHOD_GROUPS, METHOD_LABELS, usesTargetLayer, type Method } from '../../src/engine/explain/methods';
import type { Prediction } from '../../src/engine/predictions';
import type { RgbaImage } from '../../src/engine/preprocess';
import { COLORMAPS, type Colormap } from '../../src/engine/render/colormaps';
import type { ExplainSettings } from '../../src/shared/explainProtocol';
import { field, groupedSelect, select } from '../common/controls';
import { h } from '../common/dom';
import { paint } from '../common/images';
import { methodReportSection, type ReportView } from './methodReport';

export interface ExplainViewOptions {
  modelName: string;
  modelFileName: string;
  preprocessing: string;
  /** Why that preprocessing: the model's files, the sidecar, or a guess. */
  preprocessingReason: string;
  labelsOrigin?: string;
  backend: string;
  backendNotice?: string;
  layers: string[];
  layer?: string;
  settings: ExplainSettings;
  /** Methods shown beside the main one. */
  compared: readonly Method[];
  /**
   * Each image; where the model segments or detects, `picker` (targetView.ts) puts the image with its mask
   * or detections beside the maps, and its legend or list in place of the class buttons.
   */
  images: { name: string; predictions: Prediction[]; classIndex: number; picker?: { figure: HTMLElement; list: HTMLElement } }[];
  /**
   * Whether the checks and the method report are offered: they measure a class's probability, so not
   * where the page explains segmentation classes or detections.
   */
  offersChecks: boolean;
  /** Why chosen files are not shown (they could not be decoded). */
  leftOut: string[];
  onMethod(method: Method): void;
  onLayer(layer: string): void;
  onColormap(colormap: Colormap): void;
  onAlpha(alpha: number): void;
  onSmoothing(smoothing: { augSmooth: boolean; eigenSmooth: boolean }): void;
  onClass(imageIndex: number, classIndex: number): void;
  onCompare(methods: Method[]): void;
  onExport(imageIndex: number, method: Method, canvas: HTMLCanvasElement): void;
  onCopy(canvas: HTMLCanvasElement): void;
  /** The user took the suggested preprocessing. */
  onUseSuggestion(): void;
  /** "Check this explanation" on an image; pressed again while it runs, it cancels. */
  onCheck(imageIndex: number): void;
  /** "Segment object": the object cut out by a graph cut seeded by the image's map. */
  onSegment(imageIndex: number): void;
  /** Save an image's object mask (white on black) as a PNG. */
  onExportMask(imageIndex: number, canvas: HTMLCanvasElement): void;
  onReport(methods: Method[]): void;
  /** Stops the running check or report. */
  onCancel(): void;
}

export interface Shown {
  method: Method;
  layer?: string;
  classIndex: number;
  score: number;
  /** What the map explains, where not a class: "“road” (segmentation, class 2)". */
  subject?: string;
}

export interface ExplainView {
  element: HTMLElement;
  /** The methods each card shows, side by side, in this order; their pictures follow. */
  setMethods(methods: Method[]): void;
  showExplanation(imageIndex: number, picture: RgbaImage, shown: Shown): void;
  setBusy(message: string | undefined): void;
  /** A short note in the status line, such as what was copied. */
  announce(message: string): void;
  showProblem(message: string): void;
  /** Offers a preprocessing that gives a confident prediction: `message`, then a button labelled `action`. */
  showSuggestion(message: string, action: string): void;
  /** Whether the image's check runs (its button then cancels it), and a note beside the button. */
  setChecking(imageIndex: number, running: boolean, message?: string): void;
  /** The image's check results, or none (not checked with the current choices). */
  showCheck(imageIndex: number, results: HTMLElement | undefined): void;
  /** The image with its object's outline, a sentence about it, and the mask to export. */
  showSegmentation(imageIndex: number, outlined: RgbaImage, text: string, mask: RgbaImage): void;
  /** The method as the toolbar shows it, when chosen elsewhere (the report). */
  setMethod(method: Method): void;
  report: ReportView;
}

export function createExplainView(options: ExplainViewOptions): ExplainView {
  const status = h('p', { id: 'explain-status', class: 'status', role: 'status' });
  const suggestion = suggestionNotice(options.onUseSuggestion);
  const problem = h('p', { id: 'explain-problem', class: 'notice', role: 'alert', hidden: true });
  const layerField = field(
    'Target layer',
    'layer-select',
    select(
      'layer-select',
      options.layers.map((id) => [id, id]),
      options.layer ?? '',
      options.onLayer,
    ),
  );
  const smoothing = smoothingChoices(options.settings, options.onSmoothing);
  const showFields = (method: Method) => {
    layerField.hidden = !usesTargetLayer(method) || options.layers.length === 0;
    smoothing.hidden = !isCamMethod(method);
  };
  showFields(options.settings.method);

  const methodSelect = groupedSelect(
    'method-select',
    METHOD_GROUPS.map((group) => ({ label: group.label, choices: group.methods.map((m): [string, string] => [m, METHOD_LABELS[m]]) })),
    options.settings.method,
    (value) => {
      showFields(value as Method);
      options.onMethod(value as Method);
    },
  );
  const alpha = h('input', {
    id: 'alpha-input',
    type: 'range',
    min: '0',
    max: '1',
    step: '0.05',
    value: String(options.settings.alpha),
    'aria-label': 'Overlay opacity',
  });
  alpha.addEventListener('change', () => options.onAlpha(Number(alpha.value)));

  const report = methodReportSection({
    onRun: options.onReport,
    onCancel: options.onCancel,
    onPick: (method) => {
      methodSelect.value = method;
      showFields(method);
      options.onMethod(method);
    },
  });
  const reportButton = h(
    'button',
    { type: 'button', id: 'report-toggle', class: 'secondary', title: 'Compare every method on these images by faithfulness metrics' },
    'Method report',
  );
  reportButton.addEventListener('click', () => report.toggle());

  const toolbar = h(
    'div',
    { class: 'toolbar', role: 'toolbar', 'aria-label': 'Explanation settings' },
    field('Method', 'method-select', methodSelect),
    smoothing,
    layerField,
    field(
      'Colormap',
      'colormap-select',
      select(
        'colormap-select',
        COLORMAPS.map((c) => [c, c]),
        options.settings.colormap,
        (value) => options.onColormap(value as Colormap),
      ),
    ),
    field('Opacity', 'alpha-input', alpha),
    compareMenu(options.compared, options.onCompare),
    options.offersChecks ? reportButton : null,
  );

  const cards = options.images.map((image, index) => imageCard(image, index, options));
  for (const card of cards) card.setMethods([options.settings.method]);
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
      h(
        'div',
        { class: 'stat' },
        h('dt', {}, 'Preprocessing'),
        h('dd', { id: 'preprocessing' }, options.preprocessing),
        h('dd', {}, h('small', { id: 'preprocessing-reason' }, options.preprocessingReason)),
      ),
      h(
        'div',
        { class: 'stat' },
        h('dt', {}, 'Class names'),
        h('dd', { id: 'labels-origin' }, options.labelsOrigin ?? 'none found (class numbers)'),
      ),
    ),
    options.backendNotice ? h('p', { class: 'notice', role: 'status' }, options.backendNotice) : null,
    ...options.leftOut.map((reason) => h('p', { class: 'notice left-out', role: 'alert' }, `Left out: ${reason}`)),
    suggestion.element,
    toolbar,
    status,
    problem,
  );
  const element = h('div', { class: 'explain' }, header, report.element, h('div', { class: 'cards' }, ...cards.map((c) => c.element)));

  return {
    element,
    setMethods(methods) {
      for (const card of cards) card.setMethods(methods);
    },
    showExplanation(imageIndex, picture, shown) {
      problem.hidden = true;
      cards[imageIndex].show(picture, shown);
    },
    setBusy(message) {
      status.textContent = message ?? '';
      element.toggleAttribute('aria-busy', Boolean(message));
    },
    announce(message) {
      status.textContent = message;
    },
    showProblem(message) {
      problem.textContent = message;
      problem.hidden = false;
    },
    showSuggestion: suggestion.show,
    setChecking(imageIndex, running, message) {
      cards[imageIndex].setChecking(running, message ?? '');
    },
    showSegmentation(imageIndex, outlined, text, mask) {
      cards[imageIndex].showSegmentation(outlined, text, mask);
    },
    showCheck(imageIndex, results) {
      cards[imageIndex].showCheck(results);
    },
    setMethod(method) {
      methodSelect.value = method;
      showFields(method);
      report.markCurrent(method);
    },
    report,
  };
}

/** The offer of a better preprocessing: hidden until there is one; its button is the user's consent to save it. */
function suggestionNotice(onUse: () => void) {
  const text = h('span', {});
  const button = h('button', { id: 'use-suggestion', type: 'button' });
  button.addEventListener('click', () => {
    button.disabled = true;
    onUse();
  });
  const element = h('p', { id: 'preprocessing-suggestion', class: 'notice', role: 'status', hidden: true }, text, ' ', button);
  return {
    element,
    show(message: string, action: string) {
      text.textContent = message;
      button.textContent = action;
      button.disabled = false;
      element.hidden = false;
    },
  };
}

/**
 * The CAM family's smoothing options (pytorch-grad-cam's `aug_smooth` and `eigen_smooth`), shown for
 * CAM methods only.
 */
function smoothingChoices(settings: ExplainSettings, onChange: (smoothing: { augSmooth: boolean; eigenSmooth: boolean }) => void) {
  const aug = h('input', { type: 'checkbox', id: 'aug-smooth', checked: settings.augSmooth === true });
  const eigen = h('input', { type: 'checkbox', id: 'eigen-smooth', checked: settings.eigenSmooth === true });
  const changed = () => onChange({ augSmooth: aug.checked, eigenSmooth: eigen.checked });
  aug.addEventListener('change', changed);
  eigen.addEventListener('change', changed);
  return h(
    'fieldset',
    { class: 'smoothing', id: 'smoothing' },
    h('legend', {}, 'Smoothing'),
    h('label', { title: 'Average the maps of 6 flipped and rescaled copies of the image (test-time augmentation)' }, aug, ' augmented'),
    h('label', { title: 'Keep the first principal component of the weighted activations' }, eigen, ' principal component'),
  );
}

/** A drop-down of checkboxes, in the method groups: the methods shown beside the main one, for comparison. */
function compareMenu(initial: readonly Method[], onCompare: (methods: Method[]) => void): HTMLElement {
  const summary = h('summary', { id: 'compare-summary' }, 'Compare methods');
  const boxes = METHOD_GROUPS.flatMap((group) =>
    group.methods.map((method) => {
      const box = h('input', { type: 'checkbox', value: method, 'data-method': method, checked: initial.includes(method) });
      return { method, group: group.label, box, label: h('label', { class: 'compare-choice' }, box, h('span', {}, METHOD_LABELS[method])) };
    }),
  );
  const menu = h(
    'details',
    { class: 'compare', id: 'compare-menu' },
    summary,
    h(
      'div',
      { class: 'compare-list', role: 'group', 'aria-label': 'Methods to compare' },
      ...METHOD_GROUPS.flatMap((group) => [
        h('span', { class: 'compare-group' }, group.label),
        ...boxes.filter((b) => b.group === group.label).map((b) => b.label),
      ]),
    ),
  );
  const describe = (chosen: readonly Method[]) =>
    (summary.textContent = chosen.length ? `Compare methods (${chosen.length})` : 'Compare methods');
  describe(initial);
  const changed = () => {
    const chosen = boxes.filter((b) => b.box.checked).map((b) => b.method);
    describe(chosen);
    onCompare(chosen);
  };
  for (const { box } of boxes) box.addEventListener('change', changed);
  menu.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && menu.open) {
      menu.open = false;
      summary.focus();
    }
  });
  return menu;
}

function imageCard(image: ExplainViewOptions['images'][number], index: number, options: ExplainViewOptions) {
  const buttons = image.predictions.map((prediction) => {
    const button = h(
      'button',
      {
        class: 'prediction',
        type: 'button',
        'data-class': String(prediction.index),
        title: `Explain class ${prediction.index} (score ${prediction.score.toPrecision(4)})`,
      },
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

  const figures = h('div', { class: 'figures' });
  let slots = new Map<Method, ReturnType<typeof methodFigure>>();
  const checkButton = h(
    'button',
    { type: 'button', class: 'check-button', title: 'Deletion and insertion curves, ROAD, and the map as the model is randomised' },
    'Check this explanation',
  );
  checkButton.addEventListener('click', () => options.onCheck(index));
  const segmentButton = h(
    'button',
    { type: 'button', class: 'secondary segment-button', title: 'Cut the object out of the image with a graph cut seeded by its map' },
    'Segment object',
  );
  segmentButton.addEventListener('click', () => options.onSegment(index));
  const segmentArea = h('div', { class: 'segmentation' });
  const checkStatus = h('span', { class: 'status check-status', role: 'status' });
  const checkArea = h('div', { class: 'check' });
  const element = h(
    'section',
    { class: image.picker ? 'card targets' : 'card', 'aria-label': image.name, 'data-image': image.name },
    h('h2', {}, image.name),
    figures,
    image.picker?.list ?? h('div', { class: 'predictions', role: 'group', 'aria-label': `Top predictions for ${image.name}` }, ...buttons),
    h('div', { class: 'check-actions' }, options.offersChecks ? checkButton : null, ' ', segmentButton, ' ', checkStatus),
    segmentArea,
    checkArea,
  );
  return {
    element,
    setChecking(running: boolean, message: string) {
      checkButton.textContent = running ? 'Cancel check' : 'Check this explanation';
      checkButton.classList.toggle('running', running);
      checkStatus.textContent = message;
    },
    showSegmentation(outlined: RgbaImage, text: string, mask: RgbaImage) {
      const canvas = h('canvas', { class: 'overlay segmentation-outline', role: 'img', 'aria-label': `The object in ${image.name}` });
      paint(canvas, outlined);
      const maskCanvas = h('canvas', {});
      paint(maskCanvas, mask);
      const exportMask = h('button', { class: 'secondary', type: 'button', id: `export-mask-${index}` }, 'Export mask PNG');
      exportMask.addEventListener('click', () => options.onExportMask(index, maskCanvas));
      segmentArea.replaceChildren(
        h(
          'figure',
          {},
          canvas,
          h('figcaption', { class: 'caption segmentation-caption' }, text),
          h('div', { class: 'card-actions' }, exportMask),
        ),
      );
    },
    showCheck(results: HTMLElement | undefined) {
      checkArea.replaceChildren(...(results ? [results] : []));
    },
    setMethods(methods: Method[]) {
      // Keep the pictures already drawn for methods that stay, so nothing flickers while the rest compute.
      slots = new Map(methods.map((method) => [method, slots.get(method) ?? methodFigure(image.name, method, index, options)]));
      figures.replaceChildren(...(image.picker ? [image.picker.figure] : []), ...[...slots.values()].map((slot) => slot.element));
      element.classList.toggle('comparing', methods.length > 1);
    },
    show(picture: RgbaImage, shown: Shown) {
      const label = image.predictions.find((p) => p.index === shown.classIndex)?.label ?? `class ${shown.classIndex}`;
      const score = `score ${shown.score.toPrecision(4)}`;
      const subject = shown.subject ? `${shown.subject}, ${score}` : `“${label}” (class ${shown.classIndex}, ${score})`;
      slots.get(shown.method)?.show(picture, `${METHOD_LABELS[shown.method]} for ${subject}${shown.layer ? ` at ${shown.layer}` : ''}`);
      markSelected(shown.classIndex);
    },
  };
}

/** One method's overlay in a card, with its caption, Copy and Export PNG. */
function methodFigure(imageName: string, method: Method, imageIndex: number, options: ExplainViewOptions) {
  const canvas = h('canvas', { class: 'overlay', role: 'img', 'aria-label': `${METHOD_LABELS[method]} of ${imageName}` });
  const caption = h('figcaption', { class: 'caption' }, `${METHOD_LABELS[method]}…`);
  const copyButton = h('button', { class: 'secondary', type: 'button', title: 'Copy this picture to the clipboard' }, 'Copy');
  copyButton.addEventListener('click', () => options.onCopy(canvas));
  const exportButton = h('button', { class: 'secondary', type: 'button', title: 'Save this picture as a PNG file' }, 'Export PNG');
  exportButton.addEventListener('click', () => options.onExport(imageIndex, method, canvas));
  const element = h('figure', { 'data-method': method }, canvas, caption, h('div', { class: 'card-actions' }, copyButton, exportButton));
  return {
    element,
    show(picture: RgbaImage, text: string) {
      paint(canvas, picture);
      caption.textContent = text;
    },
  };
}
