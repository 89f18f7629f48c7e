/**
 * The Faithfulness tab: how faithful each explanation method's maps are to the model, over a sample of
 * the folder spread across its classes. A table of ROAD, deletion and insertion, average drop and
 * increase in confidence per method (mean ± standard error), sortable, the most faithful per column
 * marked. The computation is the engine's (`folderFaithfulness`); this file chooses and shows.
 */
import { METHOD_LABELS, METHODS, type Method } from '../../src/engine/explain/methods';
import {
  bestRows,
  FAITHFULNESS_COLUMNS,
  folderFaithfulness,
  QUICK_PERCENTILES,
  spreadSample,
  type Estimate,
  type FaithfulnessColumn,
  type MethodFaithfulness,
} from '../../src/engine/metrics';
import { imagesToInput, type RgbaImage } from '../../src/engine/preprocess';
import { ExplanationCancelled } from '../../src/engine/progress';
import { field, select } from '../common/controls';
import { h } from '../common/dom';
import { latestOnly } from '../common/latestOnly';
import { progressReports } from '../common/progressReports';
import { postToHost } from './channel';
import type { AnalyzeSession } from './session';
import type { Tab } from './tabStrip';

/** Checked at first: the methods that cost a pass or two per image. */
const FAST_METHODS: readonly Method[] = ['gradcam', 'gradcam++', 'layercam', 'saliency', 'guided'];
const SAMPLE_SEED = 1;

interface Shown {
  results: MethodFaithfulness[];
  images: number;
  sortBy?: FaithfulnessColumn;
  /** Most faithful first when true. */
  bestFirst: boolean;
}

export function faithfulnessTab(session: AnalyzeSession): Tab {
  const count = select(
    'faithfulness-count',
    ['8', '16', '32'].map((v) => [v, v]),
    '16',
    () => undefined,
  );
  const boxes = METHODS.map((method) => {
    const box = h('input', {
      type: 'checkbox',
      id: `faithfulness-method-${method}`,
      value: method,
      checked: FAST_METHODS.includes(method),
    });
    return { method, box, label: h('label', { class: 'faithfulness-choice' }, box, h('span', {}, METHOD_LABELS[method])) };
  });
  const methodList = h(
    'fieldset',
    { class: 'faithfulness-methods', id: 'faithfulness-methods' },
    h('legend', {}, 'Methods'),
    ...boxes.map((b) => b.label),
  );
  methodList.style.cssText = 'display:flex;flex-wrap:wrap;gap:4px 14px;border:none;padding:0;margin:8px 0 0';
  const run = h('button', { class: 'primary', type: 'button', id: 'faithfulness-run' }, 'Measure');
  const note = h(
    'p',
    { class: 'status', id: 'faithfulness-note' },
    'Choose the methods and how many images, then Measure: each method explains the predicted class of every image of the sample.',
  );
  const table = h('div', { class: 'faithfulness-results' });
  table.style.overflowX = 'auto';
  let shown: Shown | undefined;
  const nextRun = latestOnly();

  run.addEventListener('click', () => void measure());

  async function measure(): Promise<void> {
    const methods = boxes.filter((b) => b.box.checked).map((b) => b.method);
    if (methods.length === 0) {
      note.textContent = 'Choose at least one method.';
      return;
    }
    const isLatest = nextRun();
    const token = session.claimToken();
    const chosen = spreadSample(session.truth, Number(count.value), SAMPLE_SEED, session.skipped());
    const title = `ConvLens: faithfulness of ${methods.length} methods on ${chosen.length} images`;
    note.textContent = `Measuring ${methods.length} methods on ${chosen.length} images…`;
    run.disabled = true;
    try {
      const decoded = await session.folder.decode(chosen.map((i) => session.entries[i].path));
      const images = chosen.flatMap((image, i) => (decoded[i] ? [{ image, pixels: decoded[i] as RgbaImage }] : []));
      if (images.length === 0) throw new Error('none of the sampled images could be decoded');
      const predicted = session.features?.predicted;
      const input = imagesToInput(
        images.map((i) => i.pixels),
        session.opened.input.preprocessing,
      );
      let results: MethodFaithfulness[];
      try {
        results = await folderFaithfulness(session.opened.model, input, methods, {
          classes: predicted ? images.map((i) => predicted[i.image]) : undefined,
          percentiles: QUICK_PERCENTILES,
          seed: SAMPLE_SEED,
          progress: { token, report: progressReports((done, total) => postToHost({ type: 'progress', title, done, total })) },
        });
      } finally {
        input.dispose();
      }
      if (!isLatest()) return;
      shown = { results, images: images.length, bestFirst: true };
      draw();
      note.textContent =
        `Faithfulness of ${methods.length} methods on ${images.length} images (a sample spread over the classes), ` +
        `mean ± standard error; ROAD at ${QUICK_PERCENTILES.join(', ')} %, on the probability of the predicted class. ` +
        '★ marks the most faithful in each column; click a heading to sort.';
      postToHost({ type: 'rendered', view: 'faithfulness', detail: `${methods.length} ${images.length}` });
    } catch (error) {
      if (isLatest()) {
        note.textContent = error instanceof ExplanationCancelled ? 'Cancelled.' : `The metrics failed: ${(error as Error).message}`;
      }
    } finally {
      postToHost({ type: 'progressEnd' });
      if (isLatest()) run.disabled = false;
    }
  }

  function draw(): void {
    if (!shown) return;
    const { results, sortBy, bestFirst } = shown;
    const best = bestRows(results);
    const order = results.map((_, i) => i);
    if (sortBy) {
      const better = FAITHFULNESS_COLUMNS.find((c) => c.key === sortBy)!.better;
      const value = (i: number) => results[i].summary[sortBy].mean;
      const sign = (better === 'higher' ? -1 : 1) * (bestFirst ? 1 : -1);
      order.sort((a, b) => finiteOr(value(a) - value(b), 0) * sign);
    }
    const heading = h(
      'tr',
      {},
      h('th', { scope: 'col' }, 'Method'),
      ...FAITHFULNESS_COLUMNS.map(({ key, label, better }) => {
        const sorted = sortBy === key ? (bestFirst ? ' ▼' : ' ▲') : '';
        const button = h(
          'button',
          { type: 'button', 'data-column': key, title: `${better} is more faithful; click to sort` },
          `${label}${sorted}`,
        );
        button.style.cssText = 'background:none;border:none;padding:0;color:inherit;font:inherit;font-weight:600;cursor:pointer';
        button.addEventListener('click', () => {
          shown = { ...shown!, sortBy: key, bestFirst: sortBy === key ? !bestFirst : true };
          draw();
        });
        return h(
          'th',
          { scope: 'col', 'aria-sort': sortBy === key ? (bestFirst === (better === 'higher') ? 'descending' : 'ascending') : undefined },
          button,
        );
      }),
    );
    const rows = order.map((i) =>
      h(
        'tr',
        { 'data-method': results[i].method },
        h('th', { scope: 'row' }, METHOD_LABELS[results[i].method]),
        ...FAITHFULNESS_COLUMNS.map(({ key }) => {
          const isBest = best[key] === i;
          const cell = h(
            'td',
            { 'data-column': key, class: isBest ? 'best' : undefined, title: isBest ? 'the most faithful of these methods' : undefined },
            ...formatted(results[i].summary[key], key),
            isBest ? ' ★' : null,
          );
          if (isBest) cell.style.fontWeight = '600';
          return cell;
        }),
      ),
    );
    const element = h('table', { id: 'faithfulness-table' }, h('thead', {}, heading), h('tbody', {}, ...rows));
    element.style.cssText = 'border-collapse:collapse;margin-top:8px;font-variant-numeric:tabular-nums';
    // Headings wrap (the table fits a narrow panel), numbers do not; the method names sit left.
    for (const cell of element.querySelectorAll<HTMLElement>('th, td')) {
      cell.style.cssText += ';padding:3px 7px;text-align:right;vertical-align:bottom;white-space:nowrap';
    }
    for (const cell of element.querySelectorAll<HTMLElement>('thead th')) cell.style.whiteSpace = 'normal';
    for (const cell of element.querySelectorAll<HTMLElement>('th:first-child')) cell.style.textAlign = 'left';
    table.replaceChildren(element);
  }

  const panel = h(
    'div',
    { class: 'tab-panel' },
    h('div', { class: 'toolbar' }, field('Images', 'faithfulness-count', count), run),
    methodList,
    note,
    table,
  );
  // The table does not depend on the feature layer: nothing to redraw when the pass changes.
  return { id: 'faithfulness', label: 'Faithfulness', panel, refresh: () => undefined };
}

/** "0.123 ± 0.045" (the error in smaller type, to keep the table narrow); percentages with one decimal. */
function formatted({ mean, standardError }: Estimate, key: FaithfulnessColumn): (string | HTMLElement)[] {
  const digits = key === 'averageDrop' || key === 'increaseInConfidence' ? 1 : 3;
  if (!Number.isFinite(mean)) return ['–'];
  if (!Number.isFinite(standardError)) return [mean.toFixed(digits)];
  const error = h('span', { class: 'standard-error' }, ` ± ${standardError.toFixed(digits)}`);
  error.style.cssText = 'font-size:0.85em;color:var(--vscode-descriptionForeground)';
  return [mean.toFixed(digits), error];
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}
