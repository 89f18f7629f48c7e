/**
 * The Compare Models page: a header naming both models, the summary of changed predictions, the
 * explanation settings (method, which model's class the maps explain), the weights table and the
 * images grid.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { METHOD_LABELS, METHODS, type Method } from '../../src/engine/explain/methods';
import type { ComparedModel } from '../../src/shared/compareProtocol';
import { field, select } from '../common/controls';
import { h } from '../common/dom';

/** Which prediction the maps of both models explain: the same class, so that their difference means something. */
export type ExplainedClass = 'a' | 'b';

export interface CompareViewOptions {
  a: ComparedModel & { name: string };
  b: ComparedModel & { name: string };
  backend: string;
  backendNotice?: string;
  summary: string;
  method: Method;
  leftOut: string[];
  weights: HTMLElement;
  images: HTMLElement;
  onMethod(method: Method): void;
  onExplainedClass(which: ExplainedClass): void;
}

export interface CompareView {
  element: HTMLElement;
  setBusy(message: string | undefined): void;
  showProblem(message: string): void;
}

export function createCompareView(options: CompareViewOptions): CompareView {
  const status = h('p', { id: 'compare-status', class: 'status', role: 'status' });
  const problem = h('p', { id: 'compare-problem', class: 'notice', role: 'alert', hidden: true });
  const modelLine = (which: 'A' | 'B', model: CompareViewOptions['a']) =>
    h(
      'div',
      { class: 'stat' },
      h('dt', {}, `Model ${which}`),
      h('dd', { id: `model-${which.toLowerCase()}` }, model.path),
      h('dd', {}, h('small', {}, model.name)),
    );
  const header = h(
    'header',
    { class: 'model-header' },
    h(
      'div',
      { class: 'title' },
      h('h1', {}, 'Compare Models'),
      h('vscode-badge', { id: 'backend', title: 'TensorFlow.js backend' }, options.backend),
    ),
    h('dl', { class: 'stats' }, modelLine('A', options.a), modelLine('B', options.b)),
    options.backendNotice ? h('p', { class: 'notice', role: 'status' }, options.backendNotice) : null,
    ...options.leftOut.map((reason) => h('p', { class: 'notice left-out', role: 'alert' }, `Left out: ${reason}`)),
  );
  const toolbar = h(
    'div',
    { class: 'toolbar', role: 'toolbar', 'aria-label': 'Explanation settings' },
    field(
      'Method',
      'method-select',
      select(
        'method-select',
        METHODS.map((m) => [m, METHOD_LABELS[m]]),
        options.method,
        (value) => options.onMethod(value as Method),
      ),
    ),
    field(
      'Explain',
      'class-select',
      select(
        'class-select',
        [
          ['a', 'A’s prediction'],
          ['b', 'B’s prediction'],
        ],
        'a',
        (value) => options.onExplainedClass(value as ExplainedClass),
      ),
    ),
  );
  const element = h(
    'div',
    { class: 'compare-models' },
    header,
    h('p', { id: 'compare-summary', class: 'compare-summary' }, options.summary),
    options.weights,
    h('h2', { class: 'compare-images-heading' }, 'The images under both models'),
    toolbar,
    status,
    problem,
    options.images,
  );
  return {
    element,
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
