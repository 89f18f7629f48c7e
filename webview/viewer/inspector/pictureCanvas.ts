/**
 * A picture at a few pixels per value: a canvas enlarged by a whole factor (crisp, no smoothing) to
 * fit its pane, telling what lies under the pointer in a read-out line, and clickable.
 */
import { h } from '../../common/dom';

export interface PictureCanvas {
  element: HTMLElement;
  canvas: HTMLCanvasElement;
  /** Draws RGBA pixels (width × height × 4). */
  show(pixels: Uint8ClampedArray, width: number, height: number): void;
}

export interface PictureCanvasOptions {
  id: string;
  label: string;
  /** Largest enlargement; small pictures (3×3 kernels) are drawn big, large ones at one to one. */
  maxScale?: number;
  /** What the value under picture pixel (x, y) is, or undefined over nothing. */
  describe(x: number, y: number): string | undefined;
  onClick?(x: number, y: number): void;
}

export function createPictureCanvas({ id, label, maxScale = 16, describe, onClick }: PictureCanvasOptions): PictureCanvas {
  const canvas = h('canvas', { id, class: 'picture', role: 'img', 'aria-label': label });
  const readout = h('p', { class: 'readout', 'aria-live': 'off' }, '\u00a0');
  const frame = h('div', { class: 'picture-frame' }, canvas);
  const element = h('div', { class: 'picture-pane' }, frame, readout);

  const pictureAt = (event: MouseEvent) => {
    const box = canvas.getBoundingClientRect();
    return {
      x: Math.floor(((event.clientX - box.left) / box.width) * canvas.width),
      y: Math.floor(((event.clientY - box.top) / box.height) * canvas.height),
    };
  };
  canvas.addEventListener('mousemove', (event) => {
    const { x, y } = pictureAt(event);
    const text = describe(x, y);
    readout.textContent = text ?? '\u00a0';
    canvas.title = text ?? '';
  });
  canvas.addEventListener('mouseleave', () => (readout.textContent = '\u00a0'));
  if (onClick) {
    canvas.classList.add('clickable');
    canvas.addEventListener('click', (event) => {
      const { x, y } = pictureAt(event);
      onClick(x, y);
    });
  }

  return {
    element,
    canvas,
    show(pixels, width, height) {
      canvas.width = width;
      canvas.height = height;
      canvas.getContext('2d')!.putImageData(new ImageData(pixels as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
      // The largest whole enlargement that fits the pane's width and most of the window's height
      // (at least one to one: bigger pictures scroll).
      const room = Math.max(120, frame.clientWidth || element.clientWidth || 600);
      const tall = Math.max(120, window.innerHeight * 0.7);
      const scale = Math.max(1, Math.min(maxScale, Math.floor(room / width), Math.floor(tall / height)));
      canvas.style.width = `${width * scale}px`;
      canvas.style.height = `${height * scale}px`;
      readout.textContent = '\u00a0';
    },
  };
}
