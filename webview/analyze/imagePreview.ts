/** A dialog with one image of the folder at a readable size, a region outlined, and what can be done with it. */
import type { PixelRect } from '../../src/engine/dataset/topPatches';
import { h } from '../common/dom';
import { postToHost } from './channel';
import { drawEnlarged } from './folderImages';
import type { AnalyzeSession } from './session';

export interface ImagePreview {
  element: HTMLDialogElement;
  show(image: number, mark?: PixelRect): Promise<void>;
}

export function imagePreview(session: AnalyzeSession, showNeighbours: (image: number) => void): ImagePreview {
  const canvas = h('canvas', { class: 'preview-canvas' });
  const caption = h('p', { class: 'caption' });
  const open = h('button', { class: 'primary', type: 'button' }, 'Open image');
  const neighbours = h('button', { class: 'secondary', type: 'button' }, 'Nearest neighbours');
  const explain = h('button', { class: 'secondary', type: 'button' }, 'Explain with Grad-CAM');
  const close = h('button', { class: 'secondary', type: 'button' }, 'Close');
  const element = h(
    'dialog',
    { class: 'preview', id: 'image-preview', 'aria-label': 'Image' },
    canvas,
    caption,
    h('div', { class: 'card-actions' }, open, neighbours, explain, close),
  );
  let shown = 0;
  const pathOf = (image: number) => session.entries[image].path;
  open.addEventListener('click', () => postToHost({ type: 'openImage', path: pathOf(shown) }));
  explain.addEventListener('click', () => postToHost({ type: 'explainImage', path: pathOf(shown) }));
  neighbours.addEventListener('click', () => {
    element.close();
    showNeighbours(shown);
  });
  close.addEventListener('click', () => element.close());
  const show = async (image: number, mark?: PixelRect) => {
    shown = image;
    const [pixels] = await session.folder.decode([pathOf(image)]);
    if (!pixels) return;
    // Small images (28×28) are drawn at a readable size, pixels kept sharp.
    const scale = Math.max(1, Math.floor(256 / Math.max(pixels.width, pixels.height)));
    const context = drawEnlarged(canvas, pixels, scale);
    if (mark) {
      context.strokeStyle = '#ffd200';
      context.lineWidth = 2;
      context.strokeRect(
        mark.left * scale + 1,
        mark.top * scale + 1,
        (mark.right - mark.left) * scale - 2,
        (mark.bottom - mark.top) * scale - 2,
      );
    }
    caption.textContent = `${session.describe(image)}${mark ? ` · outlined: the unit's receptive field, x ${mark.left}–${mark.right}, y ${mark.top}–${mark.bottom}` : ''}`;
    canvas.setAttribute('aria-label', caption.textContent);
    if (!element.open) element.showModal();
    open.focus();
  };
  return { element, show };
}
