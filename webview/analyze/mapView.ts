/**
 * The embedding map: one dot per image on a canvas, coloured by class, with wheel zoom, drag to pan,
 * a thumbnail on hover and a click that selects the image. Keyboard: +/- zoom, arrows pan, 0 resets.
 * Optionally a background of decision regions: a grid of classes in map coordinates, drawn faintly
 * with thin lines where neighbouring cells differ.
 */
import type { RegionGrid } from '../../src/engine/dataset/decisionRegions';
import { h } from '../common/dom';

export interface MapPoint {
  /** The image's index in the folder. */
  image: number;
  x: number;
  y: number;
  colour: string;
}

export interface MapViewOptions {
  describe(image: number): string;
  thumbnail(image: number): Promise<HTMLCanvasElement | undefined>;
  onSelect(image: number): void;
}

/** Decision regions behind the dots, each class in its colour. */
export interface MapRegions {
  grid: RegionGrid;
  colour(classIndex: number): string;
}

export interface MapView {
  element: HTMLElement;
  show(points: MapPoint[], legend: [string, string][]): void;
  /** Draws regions behind the dots (or none). */
  showRegions(regions: MapRegions | undefined): void;
  /** Outlines one image's dot (the selected one). */
  highlight(image: number | undefined): void;
}

const DOT = 3;
/** Opacity of the regions' fill: faint, so the dots stay the picture. */
const REGION_ALPHA = 0.28;

export function createMapView(options: MapViewOptions): MapView {
  const canvas = h('canvas', { class: 'map-canvas', tabindex: '0', role: 'img', 'aria-label': 'Map of the images: each dot is an image' });
  const tooltip = h('div', { class: 'map-tooltip', hidden: true });
  const legend = h('ul', { class: 'map-legend', 'aria-label': 'Colours' });
  const element = h('div', { class: 'map' }, h('div', { class: 'map-stage' }, canvas, tooltip), legend);
  let points: MapPoint[] = [];
  let highlighted: number | undefined;
  let regions: { grid: RegionGrid; image: HTMLCanvasElement } | undefined;
  // View transform: screen = (data − centre) · zoom · fit + canvas centre.
  let bounds = { minX: 0, maxX: 1, minY: 0, maxY: 1 };
  let zoom = 1;
  let centre = { x: 0.5, y: 0.5 };

  const fit = () => {
    const { width, height } = canvas;
    return 0.9 * Math.min(width / Math.max(1e-9, bounds.maxX - bounds.minX), height / Math.max(1e-9, bounds.maxY - bounds.minY)) * zoom;
  };
  const toScreen = (p: { x: number; y: number }) => {
    const f = fit();
    return { sx: (p.x - centre.x) * f + canvas.width / 2, sy: canvas.height / 2 - (p.y - centre.y) * f };
  };
  const toData = (sx: number, sy: number) => {
    const f = fit();
    return { x: (sx - canvas.width / 2) / f + centre.x, y: (canvas.height / 2 - sy) / f + centre.y };
  };

  const draw = () => {
    const ratio = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(rect.width * ratio));
    canvas.height = Math.max(1, Math.round(rect.height * ratio));
    const context = canvas.getContext('2d')!;
    context.clearRect(0, 0, canvas.width, canvas.height);
    const radius = DOT * ratio;
    if (regions) drawRegions(context, regions.grid, regions.image, ratio);
    // On regions a dot gets a dark rim, so one on a region of another colour still reads as its own.
    context.strokeStyle = 'rgba(0, 0, 0, 0.55)';
    context.lineWidth = ratio;
    for (const point of points) {
      const { sx, sy } = toScreen(point);
      context.fillStyle = point.colour;
      context.beginPath();
      context.arc(sx, sy, regions ? radius * 1.2 : radius, 0, 2 * Math.PI);
      context.fill();
      if (regions) context.stroke();
    }
    const chosen = points.find((p) => p.image === highlighted);
    if (chosen) {
      const { sx, sy } = toScreen(chosen);
      context.strokeStyle = getComputedStyle(canvas).getPropertyValue('--vscode-focusBorder') || '#007fd4';
      context.lineWidth = 2 * ratio;
      context.beginPath();
      context.arc(sx, sy, radius * 3, 0, 2 * Math.PI);
      context.stroke();
    }
  };

  /** The grid as one image stretched over its extent, then a line along every edge between two classes. */
  const drawRegions = (context: CanvasRenderingContext2D, grid: RegionGrid, image: HTMLCanvasElement, ratio: number) => {
    const topLeft = toScreen({ x: grid.minX, y: grid.maxY });
    const bottomRight = toScreen({ x: grid.maxX, y: grid.minY });
    context.save();
    context.imageSmoothingEnabled = false;
    context.globalAlpha = REGION_ALPHA;
    context.drawImage(image, topLeft.sx, topLeft.sy, bottomRight.sx - topLeft.sx, bottomRight.sy - topLeft.sy);
    context.restore();
    const cellWidth = (bottomRight.sx - topLeft.sx) / grid.columns;
    const cellHeight = (bottomRight.sy - topLeft.sy) / grid.rows;
    const at = (row: number, column: number) => grid.classes[row * grid.columns + column];
    context.beginPath();
    for (let row = 0; row < grid.rows; row++) {
      // Screen y grows downwards while rows grow upwards in the map.
      const bottom = bottomRight.sy - row * cellHeight;
      for (let column = 0; column < grid.columns; column++) {
        const left = topLeft.sx + column * cellWidth;
        if (column + 1 < grid.columns && at(row, column) !== at(row, column + 1)) {
          context.moveTo(left + cellWidth, bottom);
          context.lineTo(left + cellWidth, bottom - cellHeight);
        }
        if (row + 1 < grid.rows && at(row, column) !== at(row + 1, column)) {
          context.moveTo(left, bottom - cellHeight);
          context.lineTo(left + cellWidth, bottom - cellHeight);
        }
      }
    }
    context.strokeStyle = getComputedStyle(canvas).getPropertyValue('--vscode-foreground') || '#888888';
    context.globalAlpha = 0.45;
    context.lineWidth = Math.max(1, 0.75 * ratio);
    context.stroke();
    context.globalAlpha = 1;
  };

  /** The dot under the pointer (within a few pixels), nearest first. */
  const pointAt = (event: MouseEvent): MapPoint | undefined => {
    const ratio = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    const sx = (event.clientX - rect.left) * ratio;
    const sy = (event.clientY - rect.top) * ratio;
    let best: MapPoint | undefined;
    let bestDistance = (DOT * 2 * ratio) ** 2;
    for (const point of points) {
      const s = toScreen(point);
      const d = (s.sx - sx) ** 2 + (s.sy - sy) ** 2;
      if (d < bestDistance) [best, bestDistance] = [point, d];
    }
    return best;
  };

  let drag: { x: number; y: number; moved: boolean } | undefined;
  canvas.addEventListener('pointerdown', (event) => {
    drag = { x: event.clientX, y: event.clientY, moved: false };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (drag && (event.buttons & 1) === 1) {
      const ratio = window.devicePixelRatio || 1;
      const f = fit();
      centre = { x: centre.x - ((event.clientX - drag.x) * ratio) / f, y: centre.y + ((event.clientY - drag.y) * ratio) / f };
      drag = {
        x: event.clientX,
        y: event.clientY,
        moved: drag.moved || Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) > 2,
      };
      tooltip.hidden = true;
      draw();
      return;
    }
    void hover(event);
  });
  canvas.addEventListener('pointerup', (event) => {
    const clicked = drag && !drag.moved ? pointAt(event) : undefined;
    drag = undefined;
    if (clicked) options.onSelect(clicked.image);
  });
  canvas.addEventListener('pointerleave', () => (tooltip.hidden = true));
  canvas.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const ratio = window.devicePixelRatio || 1;
      const rect = canvas.getBoundingClientRect();
      const sx = (event.clientX - rect.left) * ratio;
      const sy = (event.clientY - rect.top) * ratio;
      zoomAround(sx, sy, Math.exp(-event.deltaY * 0.0015));
    },
    { passive: false },
  );
  canvas.addEventListener('keydown', (event) => {
    const step = 40 / fit();
    const moves: Record<string, () => void> = {
      '+': () => zoomAround(canvas.width / 2, canvas.height / 2, 1.25),
      '=': () => zoomAround(canvas.width / 2, canvas.height / 2, 1.25),
      '-': () => zoomAround(canvas.width / 2, canvas.height / 2, 0.8),
      '0': () => reset(),
      ArrowLeft: () => (centre = { ...centre, x: centre.x - step }),
      ArrowRight: () => (centre = { ...centre, x: centre.x + step }),
      ArrowUp: () => (centre = { ...centre, y: centre.y + step }),
      ArrowDown: () => (centre = { ...centre, y: centre.y - step }),
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    move();
    draw();
  });
  new ResizeObserver(() => draw()).observe(canvas);

  const zoomAround = (sx: number, sy: number, factor: number) => {
    const before = toData(sx, sy);
    zoom = Math.min(200, Math.max(0.5, zoom * factor));
    const after = toData(sx, sy);
    centre = { x: centre.x + before.x - after.x, y: centre.y + before.y - after.y };
    draw();
  };
  const reset = () => {
    zoom = 1;
    centre = { x: (bounds.minX + bounds.maxX) / 2, y: (bounds.minY + bounds.maxY) / 2 };
  };

  let hovered: number | undefined;
  const hover = async (event: MouseEvent) => {
    const point = pointAt(event);
    canvas.style.cursor = point ? 'pointer' : 'grab';
    if (!point) {
      tooltip.hidden = true;
      hovered = undefined;
      return;
    }
    const rect = canvas.getBoundingClientRect();
    tooltip.style.left = `${event.clientX - rect.left + 12}px`;
    tooltip.style.top = `${event.clientY - rect.top + 12}px`;
    if (hovered === point.image && !tooltip.hidden) return;
    hovered = point.image;
    tooltip.replaceChildren(h('span', {}, options.describe(point.image)));
    tooltip.hidden = false;
    const thumbnail = await options.thumbnail(point.image);
    if (thumbnail && hovered === point.image) tooltip.prepend(thumbnail);
  };

  return {
    element,
    show(shown, entries) {
      points = shown;
      const xs = shown.map((p) => p.x);
      const ys = shown.map((p) => p.y);
      bounds = { minX: Math.min(...xs), maxX: Math.max(...xs), minY: Math.min(...ys), maxY: Math.max(...ys) };
      reset();
      legend.replaceChildren(
        ...entries.map(([label, colour]) => {
          const swatch = h('span', { class: 'swatch' });
          swatch.style.background = colour; // through CSSOM: the policy forbids style attributes
          return h('li', {}, swatch, label);
        }),
      );
      draw();
    },
    showRegions(shown) {
      regions = shown && { grid: shown.grid, image: regionImage(shown) };
      draw();
    },
    highlight(image) {
      highlighted = image;
      draw();
    },
  };
}

/** One pixel per cell, in the class colours, top row first (the map's highest y). */
function regionImage({ grid, colour }: MapRegions): HTMLCanvasElement {
  const image = h('canvas', { width: String(grid.columns), height: String(grid.rows) });
  const context = image.getContext('2d')!;
  for (let row = 0; row < grid.rows; row++) {
    for (let column = 0; column < grid.columns; column++) {
      context.fillStyle = colour(grid.classes[row * grid.columns + column]);
      context.fillRect(column, grid.rows - 1 - row, 1, 1);
    }
  }
  return image;
}
