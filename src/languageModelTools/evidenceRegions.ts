/**
 * Where an explanation map puts its evidence, in words an agent can pass on: the connected areas where
 * the map is at least half its maximum, strongest first, each with its box, its peak and its share of
 * the whole map. Pure arithmetic on the map, so the text always agrees with the picture.
 */

/** The fraction of the map's maximum above which a pixel belongs to a region. */
export const REGION_THRESHOLD = 0.5;

export interface EvidenceRegion {
  /** Box in map pixels: columns x0…x1 and rows y0…y1, inclusive. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** The region's largest value and where it is. */
  peak: number;
  peakX: number;
  peakY: number;
  /** The region's sum over the whole map's sum, in [0, 1]. */
  share: number;
  /** The region's pixels over the map's, in [0, 1]. */
  area: number;
}

/**
 * The regions of a row-major `width` × `height` map with non-negative values, by descending peak (so
 * the first holds the map's maximum). Pixels join a region through their 8 neighbours.
 */
export function evidenceRegions(map: ArrayLike<number>, width: number, height: number): EvidenceRegion[] {
  let max = 0;
  let total = 0;
  for (let i = 0; i < width * height; i++) {
    const v = map[i];
    if (v > max) max = v;
    if (v > 0) total += v;
  }
  if (!(max > 0)) return [];
  const threshold = REGION_THRESHOLD * max;
  const seen = new Uint8Array(width * height);
  const stack: number[] = [];
  const regions: EvidenceRegion[] = [];
  for (let start = 0; start < width * height; start++) {
    if (seen[start] || !(map[start] >= threshold)) continue;
    const region = { x0: width, y0: height, x1: -1, y1: -1, peak: -Infinity, peakX: 0, peakY: 0, share: 0, area: 0 };
    let sum = 0;
    let pixels = 0;
    seen[start] = 1;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      const v = map[i];
      sum += v;
      pixels++;
      region.x0 = Math.min(region.x0, x);
      region.x1 = Math.max(region.x1, x);
      region.y0 = Math.min(region.y0, y);
      region.y1 = Math.max(region.y1, y);
      if (v > region.peak) Object.assign(region, { peak: v, peakX: x, peakY: y });
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const j = ny * width + nx;
          if (!seen[j] && map[j] >= threshold) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    region.share = sum / total;
    region.area = pixels / (width * height);
    regions.push(region);
  }
  return regions.sort((a, b) => b.peak - a.peak || b.share - a.share);
}

/** "upper left", "centre", "lower right"…: where a point falls in the thirds of the picture. */
export function placeName(x: number, y: number, width: number, height: number): string {
  const column = ['left', 'centre', 'right'][Math.min(2, Math.floor((3 * x) / width))];
  const row = ['upper', 'middle', 'lower'][Math.min(2, Math.floor((3 * y) / height))];
  if (row === 'middle') return column === 'centre' ? 'centre' : `middle ${column}`;
  return column === 'centre' ? `${row} centre` : `${row} ${column}`;
}
