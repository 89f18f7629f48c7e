/**
 * Small line charts on a canvas, for the explanation checks: deletion and insertion curves, and the
 * rank correlation of the map as the model's layers are randomised. Axes in the theme's colours; each
 * series in its own colour, named in a legend under the chart.
 */
import { h } from '../common/dom';

export interface Series {
  label: string;
  values: readonly number[];
  /** A CSS colour. */
  color: string;
}

export interface ChartOptions {
  /** Names the chart for screen readers; the numbers themselves are in the text beside it. */
  label: string;
  xLabel: string;
  /** The y range drawn; the values' own range by default. */
  yRange?: [number, number];
  /** x-axis tick labels at the first and last point (the point indices by default). */
  xEnds?: [string, string];
  width?: number;
  height?: number;
}

const MARGIN = { left: 30, right: 8, top: 8, bottom: 22 };

/** A figure holding the chart and its legend. */
export function lineChart(series: readonly Series[], options: ChartOptions): HTMLElement {
  const width = options.width ?? 220;
  const height = options.height ?? 120;
  const canvas = h('canvas', { class: 'line-chart', role: 'img', 'aria-label': options.label });
  const scale = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const context = canvas.getContext('2d');
  if (context) draw(context, scale, width, height, series, options);
  const legend = h(
    'div',
    { class: 'chart-legend' },
    ...series.map((s) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = s.color;
      return h('span', {}, swatch, s.label);
    }),
  );
  return h('figure', { class: 'chart' }, canvas, legend);
}

function draw(
  context: CanvasRenderingContext2D,
  scale: number,
  width: number,
  height: number,
  series: readonly Series[],
  options: ChartOptions,
): void {
  const style = getComputedStyle(document.body);
  const foreground = style.getPropertyValue('--vscode-foreground').trim() || '#888';
  const font = style.getPropertyValue('--vscode-font-family').trim() || 'sans-serif';
  const all = series.flatMap((s) => s.values.filter(Number.isFinite));
  const [low, high] = options.yRange ?? [Math.min(0, ...all), Math.max(1e-9, ...all)];
  const points = Math.max(2, ...series.map((s) => s.values.length));
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const x = (i: number) => MARGIN.left + (plotWidth * i) / (points - 1);
  const y = (v: number) => MARGIN.top + plotHeight * (1 - (Math.min(high, Math.max(low, v)) - low) / (high - low || 1));

  context.scale(scale, scale);
  context.font = `10px ${font}`;
  context.strokeStyle = foreground;
  context.fillStyle = foreground;
  context.globalAlpha = 0.5;
  context.lineWidth = 1;
  context.beginPath();
  context.moveTo(MARGIN.left, MARGIN.top);
  context.lineTo(MARGIN.left, MARGIN.top + plotHeight);
  context.lineTo(MARGIN.left + plotWidth, MARGIN.top + plotHeight);
  context.stroke();
  context.globalAlpha = 1;
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  context.fillText(formatTick(high), MARGIN.left - 3, MARGIN.top);
  context.fillText(formatTick(low), MARGIN.left - 3, MARGIN.top + plotHeight);
  context.textBaseline = 'top';
  const [first, last] = options.xEnds ?? ['0', String(points - 1)];
  context.textAlign = 'left';
  context.fillText(first, MARGIN.left, MARGIN.top + plotHeight + 3);
  context.textAlign = 'right';
  context.fillText(last, MARGIN.left + plotWidth, MARGIN.top + plotHeight + 3);
  context.textAlign = 'center';
  context.fillText(options.xLabel, MARGIN.left + plotWidth / 2, MARGIN.top + plotHeight + 3);

  context.lineWidth = 1.5;
  for (const s of series) {
    context.strokeStyle = s.color;
    context.fillStyle = s.color;
    context.beginPath();
    s.values.forEach((v, i) => (i === 0 ? context.moveTo(x(i), y(v)) : context.lineTo(x(i), y(v))));
    context.stroke();
    // Few points (the randomisation steps): mark each.
    if (s.values.length <= 12) for (const [i, v] of s.values.entries()) context.fillRect(x(i) - 2, y(v) - 2, 4, 4);
  }
}

function formatTick(value: number): string {
  return Math.abs(value) >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(2);
}
