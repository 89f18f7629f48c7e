/** Colormaps for heatmaps, as 256-entry RGB lookup tables. */
import { rgb } from 'd3-color';
import { interpolateInferno, interpolateRdBu, interpolateTurbo, interpolateViridis } from 'd3-scale-chromatic';

export const COLORMAPS = ['jet', 'turbo', 'viridis', 'inferno'] as const;
export type Colormap = (typeof COLORMAPS)[number];

/** Matplotlib's jet, the colormap of the CAM papers and of pytorch-grad-cam's overlays. */
function jet(t: number): [number, number, number] {
  const channel = (offset: number) => Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - offset)));
  return [channel(3), channel(2), channel(1)];
}

const INTERPOLATORS: Record<Exclude<Colormap, 'jet'>, (t: number) => string> = {
  turbo: interpolateTurbo,
  viridis: interpolateViridis,
  inferno: interpolateInferno,
};

const tables = new Map<Colormap, Uint8Array>();

/** 256 × RGB bytes: entry i is the colour of value i / 255. */
export function colormapTable(name: Colormap): Uint8Array {
  let table = tables.get(name);
  if (!table) {
    table = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const t = i / 255;
      let color: [number, number, number];
      if (name === 'jet') color = jet(t).map((c) => c * 255) as [number, number, number];
      else {
        const c = rgb(INTERPOLATORS[name](t));
        color = [c.r, c.g, c.b];
      }
      table.set(
        color.map((c) => Math.round(c)),
        i * 3,
      );
    }
    tables.set(name, table);
  }
  return table;
}

export function isColormap(name: string): name is Colormap {
  return (COLORMAPS as readonly string[]).includes(name);
}

let diverging: Uint8Array | undefined;

/**
 * 256 × RGB bytes for signed values: entry i is the colour of (i − 127.5) / 127.5, blue for negative,
 * near-white at zero, red for positive (ColorBrewer's RdBu, reversed), as weight viewers draw them.
 */
export function divergingTable(): Uint8Array {
  if (!diverging) {
    diverging = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const c = rgb(interpolateRdBu(1 - i / 255));
      diverging.set(
        [c.r, c.g, c.b].map((v) => Math.round(v)),
        i * 3,
      );
    }
  }
  return diverging;
}
