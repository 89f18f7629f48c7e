/**
 * A layer's weights as a picture: convolution kernels as a grid of small tiles (a first layer's RGB
 * kernels as colour images, other kernels one tile per input channel), a dense layer's matrix as a
 * heatmap. Signed values use a diverging colormap centred on zero, scaled to the largest magnitude of
 * the whole layer (`shared`) or of each filter (`per-filter`), so tiles compare as the user chooses.
 *
 * Pictures are at one pixel per weight with a one-pixel transparent gap between tiles; the viewer
 * enlarges them. `at(x, y)` says which weight a pixel shows, for hover read-outs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayerInfo } from '../model';
import { divergingTable } from '../render/colormaps';
import type { RgbaImage } from '../preprocess';

export type WeightScaling = 'shared' | 'per-filter';

export interface WeightValues {
  /** The framework's layout as `RunnableModel.weights` gives it: HWIO kernels, [in, out] matrices. */
  shape: number[];
  values: Float32Array;
}

export interface WeightPicture {
  kind: 'colour-filters' | 'channel-filters' | 'matrix';
  image: RgbaImage;
  /** The magnitude mapped to full colour (the largest over the layer, or over each filter). */
  maxAbs: number;
  /** One line for the user: what the tiles, rows and columns are. */
  description: string;
  /** The weight under picture pixel (x, y), or undefined over a gap. */
  at(x: number, y: number): { label: string; value: number } | undefined;
}

/**
 * The weight of a layer worth drawing: its convolution kernel (the depthwise one of a separable
 * convolution) or its dense matrix; undefined for layers with only vectors (biases, normalisation).
 */
export function layerKernel(weights: readonly tf.Tensor[], layer: LayerInfo): { tensor: tf.Tensor; depthwise: boolean } | undefined {
  const tensor = weights.find((w) => w.rank >= 2 && w.rank <= 4);
  if (!tensor) return undefined;
  const outChannels = layer.outputShapes[0]?.at(-1);
  // ONNX depthwise convolutions are plain "Conv" nodes: their [h, w, channels, multiplier] kernel gives
  // channels × multiplier outputs, where an ordinary kernel gives its last dimension.
  const depthwise =
    tensor.rank === 4 &&
    (/Depthwise|Separable/i.test(layer.type) || (outChannels === tensor.shape[2]! * tensor.shape[3]! && outChannels !== tensor.shape[3]));
  return { tensor, depthwise };
}

/** Largest side of a matrix picture: bigger matrices are shown in blocks (each its largest-magnitude weight). */
export const MAX_MATRIX_SIDE = 1024;

/**
 * The picture of `kernel`, or undefined for weights that are not a kernel or matrix (biases, norms).
 * `depthwise`: the kernel is [h, w, channels, multiplier], each tile one channel's own filter.
 */
export function weightPicture(kernel: WeightValues, scaling: WeightScaling, depthwise = false): WeightPicture | undefined {
  const { shape } = kernel;
  if (shape.length === 2) return matrixPicture(kernel, scaling);
  if (shape.length !== 3 && shape.length !== 4) return undefined;
  // Conv1D kernels are [k, in, out]: drawn as one-row 2-D kernels.
  const [kh, kw, cin, cout] = shape.length === 4 ? shape : [1, ...shape];
  if (depthwise) return tilePicture(kernel.values, { kh, kw, cin, cout, scaling, mode: 'depthwise' });
  if (cin === 3) return tilePicture(kernel.values, { kh, kw, cin, cout, scaling, mode: 'colour' });
  return tilePicture(kernel.values, { kh, kw, cin, cout, scaling, mode: cin === 1 ? 'single' : 'grid' });
}

interface TileLayout {
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  scaling: WeightScaling;
  /** colour: a tile per filter, RGB; single: a tile per filter of one input channel; depthwise: a tile per
   * channel × multiplier; grid: a row per filter, a column per input channel. */
  mode: 'colour' | 'single' | 'depthwise' | 'grid';
}

function tilePicture(values: Float32Array, { kh, kw, cin, cout, scaling, mode }: TileLayout): WeightPicture {
  const index = (y: number, x: number, i: number, o: number) => ((y * kw + x) * cin + i) * cout + o;
  // Tiles in reading order; each names the kernel slices it shows.
  const tileCount = mode === 'grid' ? cin * cout : mode === 'depthwise' ? cin * cout : cout;
  const columns = mode === 'grid' ? cin : Math.ceil(Math.sqrt(tileCount));
  const rows = Math.ceil(tileCount / columns);
  const tile = (t: number): { i: number; o: number; filter: number } => {
    if (mode === 'grid') return { o: Math.floor(t / cin), i: t % cin, filter: Math.floor(t / cin) };
    if (mode === 'depthwise') return { i: Math.floor(t / cout), o: t % cout, filter: t };
    return { i: 0, o: t, filter: t };
  };

  // The scale of each filter: an output filter (all its input channels), or a depthwise channel.
  const filterCount = mode === 'depthwise' ? cin * cout : cout;
  const filterMax = new Float32Array(filterCount);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          const f = mode === 'depthwise' ? i * cout + o : o;
          filterMax[f] = Math.max(filterMax[f], Math.abs(values[index(y, x, i, o)]));
        }
  const layerMax = filterMax.reduce((a, b) => Math.max(a, b), 0);
  const scaleOf = (filter: number) => (scaling === 'shared' ? layerMax : filterMax[filter]) || 1;

  const width = columns * (kw + 1) - 1;
  const height = rows * (kh + 1) - 1;
  const data = new Uint8Array(width * height * 4);
  const table = divergingTable();
  for (let t = 0; t < tileCount; t++) {
    const { i, o, filter } = tile(t);
    const scale = scaleOf(filter);
    const left = (t % columns) * (kw + 1);
    const top = Math.floor(t / columns) * (kh + 1);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++) {
        const p = ((top + y) * width + left + x) * 4;
        if (mode === 'colour') {
          // Zero is mid-grey; each channel's sign and size shows as more or less of that colour.
          for (let c = 0; c < 3; c++)
            data[p + c] = Math.round(Math.min(1, Math.max(0, 0.5 + (0.5 * values[index(y, x, c, o)]) / scale)) * 255);
        } else {
          const entry = divergingEntry(values[index(y, x, i, o)] / scale) * 3;
          data.set(table.subarray(entry, entry + 3), p);
        }
        data[p + 3] = 255;
      }
  }

  const describe: Record<TileLayout['mode'], string> = {
    colour: `${cout} filters of ${kh}×${kw} over the RGB input, as colour images (grey is zero)`,
    single: `${cout} filters of ${kh}×${kw}`,
    depthwise: `${cin * cout} depthwise filters of ${kh}×${kw}, one per channel${cout > 1 ? ` and multiplier` : ''}`,
    grid: `${cout} filters (rows) × ${cin} input channels (columns), ${kh}×${kw} each`,
  };
  return {
    kind: mode === 'colour' ? 'colour-filters' : 'channel-filters',
    image: { width, height, data },
    maxAbs: layerMax,
    description: describe[mode],
    at(px, py) {
      const column = Math.floor(px / (kw + 1));
      const row = Math.floor(py / (kh + 1));
      const x = px - column * (kw + 1);
      const y = py - row * (kh + 1);
      const t = row * columns + column;
      if (px < 0 || py < 0 || column >= columns || x >= kw || y >= kh || t >= tileCount) return undefined;
      const { i, o } = tile(t);
      const where = `(${y}, ${x})`;
      if (mode === 'colour') {
        const rgbValues = [0, 1, 2].map((c) => values[index(y, x, c, o)]);
        return {
          label: `filter ${o} at ${where}: R ${fmt(rgbValues[0])}, G ${fmt(rgbValues[1])}, B ${fmt(rgbValues[2])}`,
          value: rgbValues[0],
        };
      }
      const value = values[index(y, x, i, o)];
      const name =
        mode === 'grid'
          ? `filter ${o}, input channel ${i}`
          : mode === 'depthwise'
            ? `channel ${i}${cout > 1 ? `, multiplier ${o}` : ''}`
            : `filter ${o}`;
      return { label: `${name} at ${where}: ${fmt(value)}`, value };
    },
  };
}

/** A dense layer's [in, out] matrix: a row per output unit, a column per input. */
function matrixPicture({ shape: [inputs, units], values }: WeightValues, scaling: WeightScaling): WeightPicture {
  const blockX = Math.ceil(inputs / MAX_MATRIX_SIDE);
  const blockY = Math.ceil(units / MAX_MATRIX_SIDE);
  const width = Math.ceil(inputs / blockX);
  const height = Math.ceil(units / blockY);
  // Each pixel holds its block's largest-magnitude weight: averaging would wash out the signs.
  const shown = new Float32Array(width * height);
  const unitMax = new Float32Array(units);
  for (let i = 0; i < inputs; i++)
    for (let o = 0; o < units; o++) {
      const value = values[i * units + o];
      unitMax[o] = Math.max(unitMax[o], Math.abs(value));
      const p = Math.floor(o / blockY) * width + Math.floor(i / blockX);
      if (Math.abs(value) > Math.abs(shown[p])) shown[p] = value;
    }
  const layerMax = unitMax.reduce((a, b) => Math.max(a, b), 0);
  const data = new Uint8Array(width * height * 4);
  const table = divergingTable();
  for (let y = 0; y < height; y++) {
    // Per unit: a block of rows takes the largest scale among its units.
    let scale = layerMax;
    if (scaling === 'per-filter') {
      scale = 0;
      for (let o = y * blockY; o < Math.min(units, (y + 1) * blockY); o++) scale = Math.max(scale, unitMax[o]);
    }
    for (let x = 0; x < width; x++) {
      const entry = divergingEntry(shown[y * width + x] / (scale || 1)) * 3;
      data.set(table.subarray(entry, entry + 3), (y * width + x) * 4);
      data[(y * width + x) * 4 + 3] = 255;
    }
  }
  const blocks = blockX > 1 || blockY > 1 ? `; each pixel is the largest weight of ${blockY}×${blockX}` : '';
  return {
    kind: 'matrix',
    image: { width, height, data },
    maxAbs: layerMax,
    description: `${units} units (rows) × ${inputs} inputs (columns)${blocks}`,
    at(px, py) {
      if (px < 0 || py < 0 || px >= width || py >= height) return undefined;
      const range = (start: number, size: number, end: number) => (size === 1 ? `${start}` : `${start}–${Math.min(end, start + size) - 1}`);
      const value = shown[py * width + px];
      return { label: `unit ${range(py * blockY, blockY, units)}, input ${range(px * blockX, blockX, inputs)}: ${fmt(value)}`, value };
    },
  };
}

/** Colour table entry of a value in [−1, 1] (clipped). */
function divergingEntry(v: number): number {
  return Math.round((Math.min(1, Math.max(-1, v)) + 1) * 127.5);
}

function fmt(value: number): string {
  return Math.abs(value) >= 1e-3 || value === 0 ? value.toFixed(4) : value.toExponential(2);
}
