/**
 * Maximally activating patches: the images of a folder where a channel fires hardest, each cut to the
 * receptive field of the unit that fired (in the image's own pixels), and laid out as a grid.
 */
import type { RgbaImage } from '../preprocess';
import type { ReceptiveField } from './receptiveField';

export interface ChannelPeaks {
  /** images × channels: each channel's largest activation in each image, and where (y·width + x). */
  values: Float32Array;
  positions: Int32Array;
  channels: number;
  height: number;
  width: number;
}

export interface TopActivation {
  image: number;
  value: number;
  /** The unit's position in the layer's output. */
  y: number;
  x: number;
}

/** The `n` images where `channel` peaks highest, one unit each (its strongest), highest first. */
export function topActivations(peaks: ChannelPeaks, channel: number, n: number, skip: ReadonlySet<number> = new Set()): TopActivation[] {
  if (!Number.isInteger(channel) || channel < 0 || channel >= peaks.channels)
    throw new RangeError(`the layer has channels 0 to ${peaks.channels - 1}; there is no channel ${channel}`);
  const count = peaks.values.length / peaks.channels;
  const order = Array.from({ length: count }, (_, i) => i)
    .filter((i) => !skip.has(i))
    .sort((a, b) => peaks.values[b * peaks.channels + channel] - peaks.values[a * peaks.channels + channel]);
  return order.slice(0, n).map((image) => {
    const position = peaks.positions[image * peaks.channels + channel];
    return {
      image,
      value: peaks.values[image * peaks.channels + channel],
      y: Math.floor(position / peaks.width),
      x: position % peaks.width,
    };
  });
}

/** A rectangle in an image's pixels; `right` and `bottom` exclusive. */
export interface PixelRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * The unit's field in the original image: the model saw the image resized to its input size, so the
 * field in input pixels scales back by the image's size over the input's (rounded outwards).
 */
export function fieldInImage(field: ReceptiveField, y: number, x: number, image: { width: number; height: number }): PixelRect {
  const box = field.clippedFieldOf(y, x);
  const [inputHeight, inputWidth] = field.inputSize;
  const sy = image.height / inputHeight;
  const sx = image.width / inputWidth;
  return {
    left: Math.floor(box.left * sx),
    top: Math.floor(box.top * sy),
    right: Math.min(image.width, Math.ceil(box.right * sx)),
    bottom: Math.min(image.height, Math.ceil(box.bottom * sy)),
  };
}

/** The rectangle of `image` scaled to fit a `tile`×`tile` square (nearest pixel, so small patches stay crisp), centred on black. */
export function cropToTile(image: RgbaImage, rect: PixelRect, tile: number): RgbaImage {
  const width = rect.right - rect.left;
  const height = rect.bottom - rect.top;
  const scale = tile / Math.max(width, height, 1);
  const drawnWidth = Math.max(1, Math.round(width * scale));
  const drawnHeight = Math.max(1, Math.round(height * scale));
  const offsetX = Math.floor((tile - drawnWidth) / 2);
  const offsetY = Math.floor((tile - drawnHeight) / 2);
  const data = new Uint8Array(tile * tile * 4);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  for (let ty = 0; ty < drawnHeight; ty++) {
    const sy = Math.min(rect.bottom - 1, rect.top + Math.floor(ty / scale));
    for (let tx = 0; tx < drawnWidth; tx++) {
      const sx = Math.min(rect.right - 1, rect.left + Math.floor(tx / scale));
      const from = (sy * image.width + sx) * 4;
      data.set(image.data.subarray(from, from + 4), ((ty + offsetY) * tile + tx + offsetX) * 4);
    }
  }
  return { width: tile, height: tile, data };
}

/** Tiles of equal size in rows of `columns`, with `gap` pixels of `background` between them. */
export function tileGrid(tiles: RgbaImage[], columns: number, gap = 2, background: [number, number, number] = [255, 255, 255]): RgbaImage {
  const tile = tiles[0]?.width ?? 1;
  const cols = Math.max(1, Math.min(columns, tiles.length));
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const width = cols * tile + (cols - 1) * gap;
  const height = rows * tile + (rows - 1) * gap;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([...background, 255], i);
  tiles.forEach((t, index) => {
    const x0 = (index % cols) * (tile + gap);
    const y0 = Math.floor(index / cols) * (tile + gap);
    for (let y = 0; y < tile; y++) data.set(t.data.subarray(y * tile * 4, (y + 1) * tile * 4), ((y0 + y) * width + x0) * 4);
  });
  return { width, height, data };
}
