/** The Analyze panel's galleries: nearest neighbours, top patches, and the confusion matrix with its mistakes. */
import type { Confusion } from '../../src/engine/dataset/confusion';
import type { RgbaImage } from '../../src/engine/preprocess';
import { h } from '../common/dom';
import { toCanvas } from './folderImages';

export interface GalleryItem {
  image: number;
  caption: string;
  picture: HTMLCanvasElement | RgbaImage | undefined;
  title?: string;
  actions?: [string, () => void][];
}

/** Tiles with a picture and caption; a click (or Enter) on the picture calls `onOpen`. */
export function gallery(items: GalleryItem[], onOpen: (image: number) => void, label: string): HTMLElement {
  return h(
    'ul',
    { class: 'gallery', 'aria-label': label },
    ...items.map((item) => {
      const picture = item.picture instanceof HTMLCanvasElement ? item.picture : item.picture ? toCanvas(item.picture) : h('canvas');
      picture.classList.add('tile-picture');
      const open = h('button', { class: 'tile-open', type: 'button', title: item.title ?? item.caption }, picture);
      open.addEventListener('click', () => onOpen(item.image));
      const actions = (item.actions ?? []).map(([text, run]) => {
        const button = h('button', { class: 'secondary', type: 'button' }, text);
        button.addEventListener('click', run);
        return button;
      });
      return h(
        'li',
        { class: 'tile', 'data-image': String(item.image) },
        open,
        h('span', { class: 'tile-caption' }, item.caption),
        ...actions,
      );
    }),
  );
}

/** Rows are true classes, columns predicted; cells shaded by their share of the row. */
export function confusionTable(confusion: Confusion, names: (index: number) => string): HTMLElement {
  const shown = [...new Set([...confusion.present, ...confusion.mistakes.map((m) => m.predicted)])].sort((a, b) => a - b);
  const header = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'true ↓ / predicted →'),
    ...shown.map((c) => h('th', { scope: 'col', title: names(c) }, names(c))),
  );
  const rows = confusion.present.map((t) => {
    const total = shown.reduce((n, p) => n + confusion.matrix[t * confusion.classCount + p], 0);
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, names(t)),
      ...shown.map((p) => {
        const count = confusion.matrix[t * confusion.classCount + p];
        const cell = h(
          'td',
          { class: p === t ? 'diagonal' : '', title: `${count} of ${total} ${names(t)} predicted ${names(p)}` },
          String(count),
        );
        cell.style.setProperty('--share', String(total ? count / total : 0));
        return cell;
      }),
    );
  });
  return h('table', { class: 'confusion', id: 'confusion-matrix' }, h('thead', {}, header), h('tbody', {}, ...rows));
}
