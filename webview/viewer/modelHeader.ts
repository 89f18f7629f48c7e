/** The top of the viewer: which model this is, its inputs, outputs and size, and where it runs. */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { FORMAT_LABELS, inputShapesAsDeclared, outputShapesAsDeclared, type ModelSummary, walkLayers } from '../../src/engine/model';
import { formatCount, formatShapes } from '../../src/shared/format';
import { h } from '../common/dom';
import type { PreprocessingEditor } from './preprocessingEditor';

export function createModelHeader(model: ModelSummary, preprocessing: PreprocessingEditor): HTMLElement {
  const layerCount = [...walkLayers(model.layers)].length;
  const stat = (label: string, value: string, id: string) => h('div', { class: 'stat' }, h('dt', {}, label), h('dd', { id }, value));
  return h(
    'header',
    { class: 'model-header' },
    h(
      'div',
      { class: 'title' },
      h('h1', { id: 'model-name' }, model.name),
      h('span', { class: 'format' }, `${FORMAT_LABELS[model.format]} · ${model.fileName}`),
      h('vscode-badge', { id: 'backend', title: 'TensorFlow.js backend' }, 'starting…'),
    ),
    h(
      'dl',
      { class: 'stats' },
      stat('Input', formatShapes(inputShapesAsDeclared(model)), 'model-input'),
      stat('Output', formatShapes(outputShapesAsDeclared(model)), 'model-output'),
      stat('Parameters', `${formatCount(model.totalParams)} (${formatCount(model.trainableParams)} trainable)`, 'model-params'),
      stat('Layers', formatCount(layerCount), 'model-layers'),
      preprocessing.stat,
    ),
    preprocessing.form,
  );
}
