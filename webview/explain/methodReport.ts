/**
 * The Explain panel's method report: which explanation methods are faithful for this model, on the
 * images shown. The user ticks methods (the fast ones at first), runs the report, and gets a sortable
 * table: each method's maps as thumbnails, ROAD, deletion and insertion, the confidence change and the
 * rank correlation left after randomising every layer, the most faithful per column marked. Clicking a
 * row makes that method the panel's. The computation is the engine's (`methodReport`); the session runs it.
 */
import { LONG_METHODS, METHOD_GROUPS, METHOD_LABELS, type Method } from '../../src/engine/explain/methods';
import { bestReportRows, REPORT_COLUMNS, type MethodReport, type ReportColumn } from '../../src/engine/metrics';
import { colorize } from '../../src/engine/render/overlay';
import type { Colormap } from '../../src/engine/render/colormaps';
import { h } from '../common/dom';
import { paint } from '../common/images';

export interface ReportViewOptions {
  onRun(methods: Method[]): void;
  onCancel(): void;
  onPick(method: Method): void;
}

export interface ShownReport {
  report: MethodReport;
  images: string[];
  height: number;
  width: number;
  colormap: Colormap;
}

export interface ReportView {
  element: HTMLElement;
  /** Shows or hides the section (the toolbar's Method report button). */
  toggle(): void;
  setRunning(message: string | undefined): void;
  setNote(message: string): void;
  show(shown: ShownReport, current: Method): void;
  /** Marks the panel's method in the table. */
  markCurrent(method: Method): void;
}

export function methodReportSection(options: ReportViewOptions): ReportView {
  const boxes = METHOD_GROUPS.flatMap((group) =>
    group.methods.map((method) => {
      const box = h('input', { type: 'checkbox', value: method, 'data-method': method, checked: !LONG_METHODS.includes(method) });
      return { method, box, label: h('label', { class: 'report-choice' }, box, h('span', {}, METHOD_LABELS[method])) };
    }),
  );
  const choices = h(
    'fieldset',
    { class: 'report-methods', id: 'report-methods' },
    h('legend', {}, 'Methods'),
    ...boxes.map((b) => b.label),
  );
  const run = h('button', { type: 'button', id: 'report-run', class: 'primary' }, 'Run report');
  const cancel = h('button', { type: 'button', id: 'report-cancel', class: 'secondary', hidden: true }, 'Cancel');
  const note = h(
    'p',
    { class: 'status', id: 'report-note', role: 'status' },
    'Each ticked method explains the class chosen for every image; the long ones (perturbation, SmoothGrad, integrated gradients) are left out unless ticked.',
  );
  const table = h('div', { class: 'report-table' });
  const element = h(
    'section',
    { class: 'method-report', id: 'method-report', 'aria-label': 'Method report', hidden: true },
    h('h2', {}, 'Method report'),
    choices,
    h('div', { class: 'report-actions' }, run, cancel),
    note,
    table,
  );
  run.addEventListener('click', () => {
    const methods = boxes.filter((b) => b.box.checked).map((b) => b.method);
    if (methods.length === 0) note.textContent = 'Tick at least one method.';
    else options.onRun(methods);
  });
  cancel.addEventListener('click', () => options.onCancel());

  let shown: ShownReport | undefined;
  let current: Method | undefined;
  let sortBy: ReportColumn | undefined;
  let bestFirst = true;

  function draw(): void {
    if (!shown) return;
    const { rows } = shown.report;
    const best = bestReportRows(rows);
    const order = rows.map((_, i) => i);
    if (sortBy) {
      const key = sortBy;
      const better = REPORT_COLUMNS.find((c) => c.key === key)!.better;
      const value = (i: number) => rows[i].summary[key].mean;
      const sign = (better === 'higher' ? -1 : 1) * (bestFirst ? 1 : -1);
      order.sort((a, b) => finiteOr(value(a) - value(b), 0) * sign);
    }
    const heading = h(
      'tr',
      {},
      h('th', { scope: 'col' }, 'Method'),
      h('th', { scope: 'col', class: 'maps' }, 'Maps'),
      ...REPORT_COLUMNS.map(({ key, label, better }) => {
        const button = h(
          'button',
          { type: 'button', class: 'sort', 'data-column': key, title: `${better} is more faithful; click to sort` },
          label,
        );
        button.addEventListener('click', () => {
          bestFirst = sortBy === key ? !bestFirst : true;
          sortBy = key;
          draw();
        });
        const sorted = sortBy === key ? (bestFirst === (better === 'higher') ? 'descending' : 'ascending') : undefined;
        return h('th', { scope: 'col', 'aria-sort': sorted }, button);
      }),
    );
    const body = order.map((i) => {
      const row = rows[i];
      const thumbnails = row.maps.map((map, b) => {
        const canvas = h('canvas', {
          class: 'thumbnail',
          role: 'img',
          'aria-label': `${METHOD_LABELS[row.method]} of ${shown!.images[b]}`,
        });
        paint(canvas, colorize(map, shown!.width, shown!.height, shown!.colormap));
        return canvas;
      });
      const tr = h(
        'tr',
        { 'data-method': row.method, tabindex: '0', title: `Show ${METHOD_LABELS[row.method]} in the panel` },
        h('th', { scope: 'row' }, METHOD_LABELS[row.method]),
        h('td', { class: 'maps' }, ...thumbnails),
        ...REPORT_COLUMNS.map(({ key }) => {
          const isBest = best[key] === i;
          const { mean, standardError } = row.summary[key];
          const digits = key === 'averageDrop' || key === 'increaseInConfidence' ? 1 : 3;
          return h(
            'td',
            { 'data-column': key, class: isBest ? 'best' : undefined, title: isBest ? 'the most faithful of these methods' : undefined },
            Number.isFinite(mean) ? mean.toFixed(digits) : '–',
            Number.isFinite(standardError) ? h('span', { class: 'standard-error' }, ` ± ${standardError.toFixed(digits)}`) : null,
            isBest ? ' ★' : null,
          );
        }),
      );
      tr.addEventListener('click', () => options.onPick(row.method));
      tr.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          options.onPick(row.method);
        }
      });
      return tr;
    });
    const failed = shown.report.failed.map(({ method, reason }) =>
      h('p', { class: 'notice', 'data-method': method }, `${METHOD_LABELS[method]} cannot explain this model: ${reason}`),
    );
    table.replaceChildren(h('table', { id: 'report-table' }, h('thead', {}, heading), h('tbody', {}, ...body)), ...failed);
    if (current) mark(current);
  }

  function mark(method: Method): void {
    current = method;
    for (const tr of table.querySelectorAll<HTMLElement>('tbody tr')) tr.setAttribute('aria-current', String(tr.dataset.method === method));
  }

  return {
    element,
    toggle() {
      element.hidden = !element.hidden;
      if (!element.hidden) run.focus();
    },
    setRunning(message) {
      run.disabled = Boolean(message);
      cancel.hidden = !message;
      if (message) note.textContent = message;
    },
    setNote(message) {
      note.textContent = message;
    },
    show(report, method) {
      shown = report;
      current = method;
      draw();
    },
    markCurrent: mark,
  };
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}
