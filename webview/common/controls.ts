/** Small form controls shared by the webviews: labelled fields and native selects (keyboard-ready, themed by CSS). */
import { h } from './dom';

export function field(label: string, id: string, control: HTMLElement): HTMLElement {
  return h('label', { class: 'field', for: id }, h('span', {}, label), control);
}

export function select(id: string, choices: [string, string][], value: string, onChange: (value: string) => void): HTMLSelectElement {
  const element = h('select', { id }, ...choices.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  element.addEventListener('change', () => onChange(element.value));
  return element;
}

/** A select whose choices come in labelled groups (`<optgroup>`). */
export function groupedSelect(
  id: string,
  groups: readonly { label: string; choices: [string, string][] }[],
  value: string,
  onChange: (value: string) => void,
): HTMLSelectElement {
  const element = h(
    'select',
    { id },
    ...groups.map((group) =>
      h('optgroup', { label: group.label }, ...group.choices.map(([v, text]) => h('option', { value: v, selected: v === value }, text))),
    ),
  );
  element.addEventListener('change', () => onChange(element.value));
  return element;
}
