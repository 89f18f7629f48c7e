/**
 * The Statistics tab: for the selected layer, each weight tensor's range, mean, spread, sparsity, norm
 * and histogram; beside them, those of the loss gradient with respect to it for the chosen image (the
 * cross-entropy of the predicted class, or of a class the user picks) and the ratio ‖∂L/∂W‖ / ‖W‖. Below,
 * every layer's weight spread and gradient ratio in one sortable table, where an exploding or vanishing
 * layer stands out. Definitions: docs/explanations.md, "Weight and gradient statistics". One view with
 * its three parts (tensor cards, the image and class choice, the overview table), drawn from one state.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../../../src/engine/graph';
import { layerOverview, weightGradients, type LayerOverview, type WeightGradients } from '../../../src/engine/inspect/weightGradients';
import { NEAR_ZERO_FRACTION, tensorStatistics, weightNames, type ValueStatistics } from '../../../src/engine/inspect/weightStatistics';
import { layerKernel } from '../../../src/engine/inspect/weightPicture';
import type { LayerInfo } from '../../../src/engine/model';
import type { OpenedModel } from '../../../src/engine/openModel';
import { imageToInput, type Preprocessing } from '../../../src/engine/preprocess';
import { formatCount, kernelShapeAsDeclared } from '../../../src/shared/format';
import { field } from '../../common/controls';
import { h } from '../../common/dom';
import type { FeatureMapsImage } from './featureMapsView';

export interface StatisticsViewOptions {
  chooseImage(): void;
  /** Selects another layer (a click on its row in the overview). */
  select(layerId: string): void;
  onError(message: string): void;
}

export interface StatisticsView {
  element: HTMLElement;
  /** The image the gradients are taken for, from the next `show`. */
  setImage(image: FeatureMapsImage): void;
  show(opened: OpenedModel, layer: LayerInfo): Promise<void>;
}

/** `top`: each image's predicted class; otherwise a class index. */
type ClassChoice = 'top' | number;

/** The gradients of one model, image, preprocessing and class: computed once, shared by every layer. */
interface GradientRun {
  model: RunnableModel;
  image: FeatureMapsImage;
  preprocessing: Preprocessing;
  choice: ClassChoice;
  result: Promise<WeightGradients>;
}

type SortKey = 'order' | 'std' | 'ratio';

export function createStatisticsView(options: StatisticsViewOptions): StatisticsView {
  let image: FeatureMapsImage | undefined;
  let choice: ClassChoice = 'top';
  let run: GradientRun | undefined;
  let current: { opened: OpenedModel; layer: LayerInfo } | undefined;
  let overview: LayerOverview[] = [];
  // The overview changes only with the model or the gradients: computed once for each pair.
  let overviewRun: { model: RunnableModel; gradients?: WeightGradients; rows: Promise<LayerOverview[]> } | undefined;
  let sort: { key: SortKey; descending: boolean } = { key: 'order', descending: false };
  let shownClasses: OpenedModel | undefined;

  const chooseButton = h(
    'button',
    { id: 'statistics-choose-image', class: 'secondary', type: 'button', title: 'Pick an image to take the loss gradient for' },
    'Choose image…',
  );
  chooseButton.addEventListener('click', () => options.chooseImage());
  const imageName = h('span', { id: 'statistics-image', class: 'description' }, 'No image yet.');
  const classSelect = h('select', { id: 'statistics-class' });
  classSelect.addEventListener('change', () => {
    choice = classSelect.value === 'top' ? 'top' : Number(classSelect.value);
    rerun();
  });
  const status = h('p', { id: 'statistics-status', class: 'description', role: 'status' });
  const cards = h('div', { id: 'weight-cards', class: 'weight-cards' });
  const empty = h('p', { id: 'statistics-empty', class: 'description', hidden: true });
  const overviewBody = h('tbody', {});
  const sortButtons = {
    order: sortButton('order', 'Layer', 'In the order of the network'),
    std: sortButton('std', 'Weight std', 'Standard deviation of the layer’s main weight'),
    ratio: sortButton('ratio', '‖∇‖ / ‖W‖', 'Gradient norm over weight norm: how far one step of the loss would move the weight'),
  };
  const overviewTable = h(
    'table',
    { id: 'statistics-overview', class: 'weights-table statistics-overview' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', 'data-sort': 'order' }, sortButtons.order),
        h('th', { scope: 'col' }, 'Weight'),
        h('th', { scope: 'col', 'data-sort': 'std' }, sortButtons.std),
        h('th', { scope: 'col', 'data-sort': 'ratio' }, sortButtons.ratio),
      ),
    ),
    overviewBody,
  );

  const element = h(
    'section',
    { class: 'statistics', 'aria-label': 'Weight and gradient statistics' },
    h(
      'div',
      { class: 'image-chooser' },
      h('span', {}, 'Gradients for an image:'),
      chooseButton,
      imageName,
      field('Class', 'statistics-class', classSelect),
    ),
    status,
    empty,
    cards,
    h('h3', { class: 'statistics-heading' }, 'All layers'),
    h(
      'p',
      { class: 'legend' },
      'Each layer’s main weight (its kernel or matrix). A ratio far above the others marks a layer the loss pulls hard on (exploding); near zero, one that no longer learns (vanishing).',
    ),
    overviewTable,
  );

  function sortButton(key: SortKey, label: string, title: string): HTMLButtonElement {
    const button = h('button', { class: 'link sort', type: 'button', title }, label);
    button.addEventListener('click', () => {
      sort = { key, descending: sort.key === key ? !sort.descending : key !== 'order' };
      drawOverview();
    });
    return button;
  }

  function rerun(): void {
    if (current) void show(current.opened, current.layer);
  }

  /** The class picker, filled once per model: the predicted class, then every class by name. */
  function fillClasses(opened: OpenedModel): void {
    if (shownClasses === opened) return;
    shownClasses = opened;
    const count = Math.max(2, opened.classCount);
    const names = opened.labels?.names;
    if (typeof choice === 'number' && choice >= count) choice = 'top';
    classSelect.replaceChildren(
      h('option', { value: 'top', selected: choice === 'top' }, 'Predicted class'),
      ...Array.from({ length: count }, (_, c) =>
        h('option', { value: String(c), selected: choice === c }, names?.[c] ? `${c}: ${names[c]}` : `class ${c}`),
      ),
    );
  }

  /** The gradients for the current model, image and class: the running computation when they match. */
  function gradientsFor(opened: OpenedModel): Promise<WeightGradients> | undefined {
    if (!image) return undefined;
    const preprocessing = opened.input.preprocessing;
    if (run && run.model === opened.model && run.image === image && run.preprocessing === preprocessing && run.choice === choice) {
      return run.result;
    }
    void run?.result.then(
      (old) => old.dispose(),
      () => undefined,
    );
    const input = imageToInput(image.pixels, preprocessing);
    const result = weightGradients(opened.model, input, choice === 'top' ? {} : { classIndex: choice }).finally(() => input.dispose());
    run = { model: opened.model, image, preprocessing, choice, result };
    return result;
  }

  async function show(opened: OpenedModel, layer: LayerInfo): Promise<void> {
    current = { opened, layer };
    const { model } = opened;
    fillClasses(opened);
    const weights = model.weights(layer.id);
    if (layer.children || weights.length === 0) {
      empty.textContent = `${layer.name} (${layer.type}) has no weights of its own.`;
      empty.hidden = false;
      cards.replaceChildren();
    } else {
      empty.hidden = true;
    }
    status.textContent = image
      ? `Taking the loss gradient for ${image.name}…`
      : 'Choose an image to see the loss gradient beside the weights.';
    let gradients: WeightGradients | undefined;
    try {
      gradients = await gradientsFor(opened);
    } catch (error) {
      const message = `the loss gradient cannot be computed: ${error instanceof Error ? error.message : String(error)}`;
      status.textContent = `The ${message}`;
      options.onError(`${layer.name}: ${message}`);
    }
    if (current.layer !== layer || current.opened !== opened) return; // the user moved on meanwhile
    try {
      const layerGradients = gradients?.byLayer.get(layer.id);
      const [weightStats, gradientStats, rows] = await Promise.all([
        Promise.all(weights.map((w) => tensorStatistics(w))),
        Promise.all(weights.map((_, i) => (layerGradients?.[i] ? tensorStatistics(layerGradients[i]) : undefined))),
        overviewOf(model, gradients),
      ]);
      if (current.layer !== layer || current.opened !== opened) return;
      if (gradients && image) status.textContent = lossLine(gradients, image.name, opened);
      if (!layer.children && weights.length) drawCards(model, layer, weights, weightStats, gradientStats, gradients !== undefined);
      overview = rows;
      drawOverview();
    } catch (error) {
      const message = `${layer.name}'s statistics cannot be computed: ${error instanceof Error ? error.message : String(error)}`;
      status.textContent = message;
      options.onError(message);
    }
  }

  function overviewOf(model: RunnableModel, gradients: WeightGradients | undefined): Promise<LayerOverview[]> {
    if (overviewRun?.model !== model || overviewRun.gradients !== gradients) {
      overviewRun = { model, gradients, rows: layerOverview(model, gradients) };
    }
    return overviewRun.rows;
  }

  function drawCards(
    model: RunnableModel,
    layer: LayerInfo,
    weights: tf.Tensor[],
    weightStats: ValueStatistics[],
    gradientStats: (ValueStatistics | undefined)[],
    haveGradients: boolean,
  ): void {
    const names = weightNames(
      weights.map((w) => w.shape),
      layer.type,
    );
    const depthwise = layerKernel(weights, layer)?.depthwise ?? false;
    cards.replaceChildren(
      ...weights.map((tensor, i) => {
        const shape = kernelShapeAsDeclared(tensor.shape, model.summary.format, depthwise);
        const gradient = gradientStats[i];
        const missing = haveGradients && !gradient ? 'none (the stored weight is folded into another when the model loads)' : undefined;
        return weightCard(names[i], shape, weightStats[i], gradient, missing);
      }),
    );
  }

  function drawOverview(): void {
    const order = overview.map((_, i) => i);
    const value = (row: LayerOverview) => (sort.key === 'std' ? row.weightStd : (row.ratio ?? -Infinity));
    if (sort.key !== 'order') order.sort((a, b) => value(overview[a]) - value(overview[b]));
    if (sort.descending) order.reverse();
    for (const [key, button] of Object.entries(sortButtons)) {
      const direction = sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none';
      button.parentElement?.setAttribute('aria-sort', direction);
    }
    overviewBody.replaceChildren(
      ...order.map((i) => {
        const row = overview[i];
        const link = h('button', { class: 'link', type: 'button', title: `Show ${row.name}` }, row.name);
        link.addEventListener('click', () => options.select(row.layerId));
        return h(
          'tr',
          { 'data-layer-id': row.layerId, class: row.layerId === current?.layer.id ? 'current' : undefined },
          h('th', { scope: 'row' }, link),
          h('td', {}, row.weight),
          h('td', { class: 'number', 'data-stat': 'std' }, number(row.weightStd)),
          h('td', { class: 'number', 'data-stat': 'ratio' }, row.ratio === undefined ? '—' : number(row.ratio)),
        );
      }),
    );
  }

  return {
    element,
    setImage(next) {
      image = next;
      imageName.textContent = next.name;
    },
    show,
  };
}

function lossLine(gradients: WeightGradients, imageName: string, opened: OpenedModel): string {
  const c = gradients.classIndex[0];
  const name = opened.labels?.names[c];
  return `Loss gradient for ${imageName}: cross-entropy ${number(gradients.loss)} for class ${c}${name ? ` (${name})` : ''}.`;
}

const ROWS: [keyof ValueStatistics, string, (v: number) => string][] = [
  ['min', 'Min', number],
  ['max', 'Max', number],
  ['mean', 'Mean', number],
  ['std', 'Std', number],
  ['zeros', 'Zeros', percent],
  ['nearZero', `|v| < ${NEAR_ZERO_FRACTION} · max`, percent],
  ['norm', 'L2 norm', number],
];

/** One weight tensor: its numbers beside its gradient's, the two histograms, and the norm ratio. */
function weightCard(
  name: string,
  shape: readonly number[],
  weights: ValueStatistics,
  gradient: ValueStatistics | undefined,
  missing: string | undefined,
): HTMLElement {
  const gradientCell = (value: string) => h('td', { class: 'number', 'data-of': 'gradient' }, value);
  const rows = ROWS.map(([key, label, format]) =>
    h(
      'tr',
      { 'data-stat': key },
      h('th', { scope: 'row' }, label),
      h('td', { class: 'number', 'data-of': 'weights' }, format(weights[key] as number)),
      gradientCell(gradient ? format(gradient[key] as number) : '—'),
    ),
  );
  const ratio = gradient && weights.norm > 0 ? gradient.norm / weights.norm : undefined;
  rows.push(
    h(
      'tr',
      { 'data-stat': 'ratio' },
      h(
        'th',
        { scope: 'row', title: 'How far one step along the loss gradient would move this weight, relative to its size' },
        '‖∇‖ / ‖W‖',
      ),
      h('td', {}),
      gradientCell(ratio === undefined ? '—' : number(ratio)),
    ),
  );
  return h(
    'div',
    { class: 'weight-card', 'data-weight': name },
    h('h4', {}, `${name} [${shape.join(', ')}] · ${formatCount(weights.count)} values`),
    h(
      'div',
      { class: 'weight-card-body' },
      h(
        'table',
        { class: 'weights-table statistics-table' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', { scope: 'col' }, ''), h('th', { scope: 'col' }, 'Weights'), h('th', { scope: 'col' }, 'Gradient ∂L/∂W')),
        ),
        h('tbody', {}, ...rows),
      ),
      h(
        'div',
        { class: 'histograms' },
        histogramFigure(weights, `Histogram of ${name}`, 'weights'),
        gradient
          ? histogramFigure(gradient, `Histogram of the loss gradient of ${name}`, 'gradient')
          : h('p', { class: 'legend' }, missing ?? 'Gradient: choose an image.'),
      ),
    ),
  );
}

/** The histogram as bars (square-root heights, so thin tails stay visible), with its range underneath. */
function histogramFigure(statistics: ValueStatistics, label: string, of: 'weights' | 'gradient'): HTMLElement {
  const { counts, min, max } = statistics.histogram;
  const canvas = h('canvas', {
    class: 'statistics-histogram',
    width: '192',
    height: '56',
    role: 'img',
    'aria-label': label,
    'data-of': of,
  });
  const context = canvas.getContext('2d');
  if (context) {
    const style = getComputedStyle(document.body);
    const bars = style.getPropertyValue(of === 'weights' ? '--vscode-charts-blue' : '--vscode-charts-orange').trim() || '#3794ff';
    const axis = style.getPropertyValue('--vscode-descriptionForeground').trim() || '#888';
    const most = Math.sqrt(Math.max(1, ...counts));
    const width = canvas.width / counts.length;
    context.fillStyle = bars;
    for (const [i, count] of counts.entries()) {
      const height = count ? Math.max(1, Math.round((Math.sqrt(count) / most) * (canvas.height - 2))) : 0;
      context.fillRect(i * width, canvas.height - height, Math.max(1, width - 1), height);
    }
    // Where zero falls, when the range spans it.
    if (min < 0 && max > 0) {
      const x = Math.round((-min / (max - min)) * canvas.width) + 0.5;
      context.strokeStyle = axis;
      context.setLineDash([2, 2]);
      context.beginPath();
      context.moveTo(x, 0);
      context.lineTo(x, canvas.height);
      context.stroke();
    }
  }
  const caption = max === min ? `all ${number(min)}` : `${number(min)} … ${number(max)}${min < 0 && max > 0 ? ', dashed at 0' : ''}`;
  return h(
    'figure',
    { class: 'statistics-figure' },
    canvas,
    h('figcaption', { class: 'legend' }, `${of === 'weights' ? 'Weights' : 'Gradient'}: ${caption}`),
  );
}

function number(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude < 1e-3 || magnitude >= 1e5 ? value.toExponential(3) : value.toPrecision(4);
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share > 0 && share < 0.001 ? 3 : 1)}%`;
}
