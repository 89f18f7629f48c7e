/**
 * Pictures of explanations as RGBA pixels: a map coloured by a colormap and blended over the image
 * (as pytorch-grad-cam's show_cam_on_image does), and guided-backprop gradients as a colour image.
 */
import type { RgbaImage } from '../preprocess';
import { colormapTable, type Colormap } from './colormaps';

/** A [0, 1] map (row-major, width × height) as an opaque colour image. */
export function colorize(map: ArrayLike<number>, width: number, height: number, colormap: Colormap): RgbaImage {
  const table = colormapTable(colormap);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const entry = Math.round(Math.min(1, Math.max(0, map[i])) * 255) * 3;
    data.set(table.subarray(entry, entry + 3), i * 4);
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

/**
 * `alpha · heatmap + (1 − alpha) · image`, the map resampled to the image's size (nearest neighbour:
 * the map is already at the model input's resolution and smooth).
 */
export function overlay(
  image: RgbaImage,
  map: ArrayLike<number>,
  mapWidth: number,
  mapHeight: number,
  colormap: Colormap,
  alpha: number,
): RgbaImage {
  const table = colormapTable(colormap);
  const { width, height } = image;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const my = Math.min(mapHeight - 1, Math.floor(((y + 0.5) * mapHeight) / height));
    for (let x = 0; x < width; x++) {
      const mx = Math.min(mapWidth - 1, Math.floor(((x + 0.5) * mapWidth) / width));
      const value = Math.min(1, Math.max(0, map[my * mapWidth + mx]));
      const entry = Math.round(value * 255) * 3;
      const i = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) data[i + c] = Math.round(alpha * table[entry + c] + (1 - alpha) * image.data[i + c]);
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

/** Guided-backprop gradients (H × W × C, C = 1 or 3) as an image: (g − mean) / (std + 1e-5) · 0.1 + 0.5, clipped. */
export function gradientImage(gradient: ArrayLike<number>, width: number, height: number, channels: number): RgbaImage {
  const n = gradient.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += gradient[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (gradient[i] - mean) ** 2;
  const std = Math.sqrt(variance / n);
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const g = gradient[p * channels + (channels === 3 ? c : 0)];
      const value = Math.min(1, Math.max(0, ((g - mean) / (std + 1e-5)) * 0.1 + 0.5));
      data[p * 4 + c] = Math.round(value * 255);
    }
    data[p * 4 + 3] = 255;
  }
  return { width, height, data };
}
