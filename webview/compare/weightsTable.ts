/**
 * How far each layer's weights moved between the two models: one row per matched layer with its
 * relative L2 change as a number and a bar (scaled to the largest change), and a small histogram of
 * the element-wise changes, every row over the same range. Sorted in graph order or by change.
 */
import { HISTOGRAM_BINS, layersByChange, type LayerChange, type WeightComparison } from '../../src/engine/compare/weightChanges';
import { field, select } from '../common/controls';
import { h } from '../common/dom';

type Order = 'graph' | 'change';

export function weightsTable(comparison: WeightComparison): HTMLElement {
  const largest = Math.max(0, ...comparison.layers.map((l) => (Number.isFinite(l.relativeChange) ? l.relativeChange : 0)));
  const body = h('tbody', {});
  const show = (order: Order) => {
    const layers = order === 'change' ? layersByChange(comparison.layers) : comparison.layers;
    body.replaceChildren(...layers.map((layer) => row(layer, largest)));
  };
  show('graph');
  const [low, high] = comparison.range;
  const unmatched = [
    comparison.unmatchedA.length ? `Only in A (or of other shapes in B): ${comparison.unmatchedA.join(', ')}.` : '',
    comparison.unmatchedB.length ? `Only in B (or of other shapes in A): ${comparison.unmatchedB.join(', ')}.` : '',
  ].filter(Boolean);
  return h(
    'section',
    { class: 'compare-weights', 'aria-labelledby': 'weights-heading' },
    h('h2', { id: 'weights-heading' }, 'How far the weights moved'),
    h(
      'div',
      { class: 'toolbar' },
      field(
        'Order',
        'weights-order',
        select(
          'weights-order',
          [
            ['graph', 'Graph order'],
            ['change', 'Largest change first'],
          ],
          'graph',
          (value) => show(value as Order),
        ),
      ),
    ),
    h(
      'table',
      { id: 'weights-table', class: 'weights-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Layer'),
          h('th', { scope: 'col', title: '‖W_B − W_A‖ / ‖W_A‖ over all the layer’s weights' }, 'Relative L2 change'),
          h('th', { scope: 'col' }, ''),
          h(
            'th',
            { scope: 'col', title: `W_B − W_A per weight, ${HISTOGRAM_BINS} bins from ${number(low)} to ${number(high)}` },
            'Change per weight',
          ),
        ),
      ),
      body,
    ),
    h(
      'p',
      { class: 'caption' },
      `Histograms: W_B − W_A per weight, from ${number(low)} to ${number(high)} in every row; the middle bin is “unchanged”.`,
    ),
    ...unmatched.map((text) => h('p', { class: 'notice', role: 'status' }, text)),
  );
}

function row(layer: LayerChange, largest: number): HTMLElement {
  const bar = h('div', { class: 'prediction-bar change-bar', 'aria-hidden': 'true' });
  const fraction = largest > 0 ? Math.min(1, layer.relativeChange / largest) : 0;
  bar.style.setProperty('--p', String(fraction));
  const name = layer.layer === layer.layerB ? layer.layer : `${layer.layer} ↔ ${layer.layerB}`;
  const detail = layer.tensors.map((t) => `[${t.shape.join('×')}]: ${change(t.relativeChange)}`).join('\n');
  return h(
    'tr',
    { class: 'weights-row', 'data-layer': layer.layer, 'data-change': String(layer.relativeChange), title: detail },
    h('th', { scope: 'row' }, name),
    h('td', { class: 'change-value' }, change(layer.relativeChange)),
    h('td', { class: 'change-bar-cell' }, bar),
    h('td', {}, histogramCanvas(layer.histogram.counts, `Histogram of the weight changes of ${layer.layer}`)),
  );
}

/** The counts as bars on a small canvas, heights on a square-root scale so small tails stay visible. */
function histogramCanvas(counts: readonly number[], label: string): HTMLCanvasElement {
  const canvas = h('canvas', { class: 'change-histogram', width: '164', height: '32', role: 'img', 'aria-label': label });
  const context = canvas.getContext('2d');
  if (!context) return canvas;
  const style = getComputedStyle(document.body);
  const color = style.getPropertyValue('--vscode-progressBar-background').trim() || '#0e70c0';
  const middleColor = style.getPropertyValue('--vscode-descriptionForeground').trim() || '#888';
  const most = Math.sqrt(Math.max(1, ...counts));
  const width = canvas.width / counts.length;
  const middle = (counts.length - 1) / 2;
  for (const [i, count] of counts.entries()) {
    const height = Math.round((Math.sqrt(count) / most) * canvas.height);
    context.fillStyle = i === middle ? middleColor : color;
    context.fillRect(i * width, canvas.height - height, Math.max(1, width - 1), height);
  }
  return canvas;
}

function change(value: number): string {
  if (!Number.isFinite(value)) return 'new (A was all zeros)';
  return value >= 0.01 || value === 0 ? value.toFixed(3) : value.toExponential(2);
}

function number(value: number): string {
  return Math.abs(value) >= 0.01 || value === 0 ? value.toFixed(3) : value.toExponential(2);
}
