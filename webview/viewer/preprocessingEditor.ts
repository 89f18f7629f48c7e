/**
 * The model's preprocessing, shown in the summary and editable: size, channel order and pixel scale,
 * saved by the host to the `<model>.convlens.json` sidecar that the command line reads too.
 */
import {
  applySettings,
  CHANNEL_ORDERS,
  describePreprocessing,
  PIXEL_SCALES,
  type Preprocessing,
  type PreprocessingSettings,
} from '../../src/engine/preprocess';
import { field, select } from '../common/controls';
import { h } from '../common/dom';

export interface PreprocessingEditor {
  /** The summary's entry (value and Edit button) and the form it opens, placed below the summary. */
  stat: HTMLElement;
  form: HTMLElement;
  show(preprocessing: Preprocessing, sidecar: string | undefined): void;
}

export function createPreprocessingEditor(sidecarName: string, onSave: (settings: PreprocessingSettings) => void): PreprocessingEditor {
  let current: Preprocessing | undefined;
  const value = h('span', { id: 'model-preprocessing' }, 'reading…');
  const edit = h(
    'button',
    {
      id: 'edit-preprocessing',
      class: 'link',
      type: 'button',
      title: `Change how images are prepared for this model (saved to ${sidecarName})`,
      disabled: true,
    },
    'Edit',
  );
  const size = h('input', { id: 'preprocessing-size', type: 'text', size: '9', 'aria-label': 'Input size, WIDTHxHEIGHT' });
  const scale = select(
    'preprocessing-scale',
    PIXEL_SCALES.map((s) => [s, s]),
    '0-1',
    () => undefined,
  );
  const channels = select(
    'preprocessing-channels',
    CHANNEL_ORDERS.map((c) => [c, c]),
    'rgb',
    () => undefined,
  );
  const problem = h('p', { id: 'preprocessing-problem', class: 'notice', role: 'alert', hidden: true });
  const save = h('button', { id: 'save-preprocessing', class: 'primary', type: 'button' }, `Save to ${sidecarName}`);
  const cancel = h('button', { class: 'secondary', type: 'button' }, 'Cancel');
  const form = h(
    'div',
    { id: 'preprocessing-form', class: 'toolbar preprocessing-form', role: 'group', 'aria-label': 'Preprocessing', hidden: true },
    field('Size', 'preprocessing-size', size),
    field('Channels', 'preprocessing-channels', channels),
    field('Pixel scale', 'preprocessing-scale', scale),
    save,
    cancel,
    problem,
  );

  edit.addEventListener('click', () => {
    if (!current) return;
    size.value = `${current.width}x${current.height}`;
    scale.value = current.scale;
    channels.value = current.channels;
    problem.hidden = true;
    form.hidden = false;
    size.focus();
  });
  cancel.addEventListener('click', () => (form.hidden = true));
  save.addEventListener('click', () => {
    const settings: PreprocessingSettings = { size: size.value.trim(), channels: channels.value, scale: scale.value };
    try {
      applySettings(current!, settings, 'Preprocessing');
    } catch (error) {
      problem.textContent = error instanceof Error ? error.message : String(error);
      problem.hidden = false;
      return;
    }
    form.hidden = true;
    value.textContent = 'saving…';
    onSave(settings);
  });

  return {
    stat: h('div', { class: 'stat' }, h('dt', {}, 'Preprocessing'), h('dd', {}, value, ' ', edit)),
    form,
    show(preprocessing, sidecar) {
      current = preprocessing;
      value.textContent = `${describePreprocessing(preprocessing)}${sidecar ? ` (from ${sidecar})` : ''}`;
      edit.disabled = false;
    },
  };
}
