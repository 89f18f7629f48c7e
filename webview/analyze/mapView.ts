/**
 * The embedding map: one dot per image on a canvas, coloured by class, with wheel zoom, drag to pan,
 * a thumbnail on hover and a click that selects the image. Keyboard: +/- zoom, arrows pan, 0 resets.
 * Optionally a background of decision regions: a grid of classes in map coordinates, some cells split
 * into finer quarters, drawn faintly with thin lines where neighbouring cells differ.
 */
import { forEachDrawnCell, latticeColumns, latticeRows, regionBorders, type RegionGrid } from '../../src/engine/dataset/regionGrid';
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
  let regions: ShownRegions | undefined;
  // The regions are painted opaque here, then laid over the map at REGION_ALPHA in one step.
  const layer = h('canvas');
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
    if (regions) drawRegions(context, regions, ratio);
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

  /**
   * The grid's cells as one image stretched over its extent, the finer cells over it as rectangles,
   * then a line along every border between two classes. The rectangles' edges are rounded to whole
   * pixels, so each pixel shows the cell that holds its centre, however small the cells.
   */
  const drawRegions = (context: CanvasRenderingContext2D, { grid, image, finer, borders }: ShownRegions, ratio: number) => {
    const topLeft = toScreen({ x: grid.minX, y: grid.maxY });
    const bottomRight = toScreen({ x: grid.maxX, y: grid.minY });
    const [columns, rows] = [latticeColumns(grid), latticeRows(grid)];
    // Screen y grows downwards while lattice rows grow upwards in the map.
    const screenX = (lx: number) => topLeft.sx + (lx / columns) * (bottomRight.sx - topLeft.sx);
    const screenY = (ly: number) => bottomRight.sy - (ly / rows) * (bottomRight.sy - topLeft.sy);
    layer.width = canvas.width;
    layer.height = canvas.height;
    const painter = layer.getContext('2d')!;
    painter.imageSmoothingEnabled = false;
    painter.drawImage(image, topLeft.sx, topLeft.sy, bottomRight.sx - topLeft.sx, bottomRight.sy - topLeft.sy);
    for (const { x, y, size, colour } of finer) {
      const [left, right] = [Math.round(screenX(x)), Math.round(screenX(x + size))];
      const [top, bottom] = [Math.round(screenY(y + size)), Math.round(screenY(y))];
      if (right <= Math.max(0, left) || bottom <= Math.max(0, top) || left >= layer.width || top >= layer.height) continue;
      painter.fillStyle = colour;
      painter.fillRect(left, top, right - left, bottom - top);
    }
    context.save();
    context.globalAlpha = REGION_ALPHA;
    context.drawImage(layer, 0, 0);
    context.restore();
    context.beginPath();
    for (let s = 0; s < borders.length; s += 4) {
      context.moveTo(screenX(borders[s]), screenY(borders[s + 1]));
      context.lineTo(screenX(borders[s + 2]), screenY(borders[s + 3]));
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
      regions = shown && shownRegions(shown);
      draw();
    },
    highlight(image) {
      highlighted = image;
      draw();
    },
  };
}

/** Regions ready to draw: the grid's cells as an image, the finer cells and the borders on the lattice. */
interface ShownRegions {
  grid: RegionGrid;
  image: HTMLCanvasElement;
  finer: { x: number; y: number; size: number; colour: string }[];
  borders: Int32Array;
}

function shownRegions(regions: MapRegions): ShownRegions {
  const { grid, colour } = regions;
  const whole = 2 ** grid.depth;
  const finer: ShownRegions['finer'] = [];
  forEachDrawnCell(grid, ({ cell, x, y, size }) => {
    if (size < whole) finer.push({ x, y, size, colour: colour(grid.classes[cell]) });
  });
  return { grid, image: regionImage(regions), finer, borders: regionBorders(grid) };
}

/** One pixel per cell of the grid, in the class colours, top row first (the map's highest y); split cells are painted over. */
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
