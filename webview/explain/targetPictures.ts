/**
 * The pictures a segmentation or detection model's targets are chosen on, as plain pixels (no DOM, so
 * they are tested in Node): the predicted class mask over the image with a colour per class and its
 * legend, the detections' boxes (or their anchors' cells) outlined on the image, and which box a click
 * lands in.
 */
import type { Box, Detection, SegmentationClasses } from '../../src/engine/explain/detections';
import type { RgbaImage } from '../../src/engine/preprocess';

export type Rgb = [number, number, number];

/** Distinct colours (Tableau 10), class c taking colour c mod 10. */
const PALETTE: Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

export function classColour(classIndex: number): Rgb {
  return PALETTE[classIndex % PALETTE.length];
}

/** A CSS colour for a swatch. */
export function cssColour([r, g, b]: Rgb): string {
  return `rgb(${r}, ${g}, ${b})`;
}

/** The name of a class: the labels file's where there is one, else its number. */
export function className(classIndex: number, names?: readonly string[]): string {
  return names?.[classIndex] ?? `class ${classIndex}`;
}

export interface LegendEntry {
  classIndex: number;
  label: string;
  /** Share of the output's pixels predicted as the class, 0 to 1. */
  share: number;
  colour: Rgb;
}

/** One image's legend: the classes present, largest share first, named and coloured as the mask draws them. */
export function legendEntries(segmentation: SegmentationClasses, names?: readonly string[]): LegendEntry[] {
  return segmentation.classes.map(({ classIndex, share }) => ({
    classIndex,
    label: className(classIndex, names),
    share,
    colour: classColour(classIndex),
  }));
}

/**
 * The image with its predicted class map blended over it (`alpha` of each pixel's class colour). The map
 * is at the model's output resolution and covers the whole image (the preprocessing resizes, it does not
 * crop), so each image pixel takes the class of the map pixel it falls in.
 */
export function maskOverlay(
  image: RgbaImage,
  segmentation: Pick<SegmentationClasses, 'mask' | 'width' | 'height'>,
  alpha = 0.5,
): RgbaImage {
  const { width, height } = image;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = Math.min(segmentation.height - 1, Math.floor(((y + 0.5) * segmentation.height) / height));
    for (let x = 0; x < width; x++) {
      const column = Math.min(segmentation.width - 1, Math.floor(((x + 0.5) * segmentation.width) / width));
      const colour = classColour(segmentation.mask[row * segmentation.width + column]);
      const p = 4 * (y * width + x);
      for (let c = 0; c < 3; c++) data[p + c] = Math.round((1 - alpha) * image.data[p + c] + alpha * colour[c]);
      data[p + 3] = 255;
    }
  }
  return { width, height, data };
}

/** Where a detection is drawn: the model's box, else its anchor's cell, else nowhere. */
export function detectionPlace(detection: Detection): { box: Box; kind: 'box' | 'cell' } | undefined {
  if (detection.box) return { box: detection.box, kind: 'box' };
  if (detection.cell) return { box: detection.cell, kind: 'cell' };
  return undefined;
}

/** A box in input pixels as the image's pixels (the preprocessing stretches the image to the input). */
export function toImagePixels(box: Box, input: { width: number; height: number }, image: { width: number; height: number }): Box {
  const [sx, sy] = [image.width / input.width, image.height / input.height];
  return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
}

/**
 * The image with each detection's place outlined in its class colour: a solid line for a box, a dashed
 * one for an anchor's cell (a place, not a predicted box); the chosen detection's line is thicker.
 * `boxes` are in the image's pixels.
 */
export function outlineDetections(
  image: RgbaImage,
  places: readonly ({ box: Box; kind: 'box' | 'cell'; classIndex: number } | undefined)[],
  chosen: number | undefined,
): RgbaImage {
  const { width, height } = image;
  const data = Uint8ClampedArray.from(image.data);
  const thin = Math.max(1, Math.round(Math.min(width, height) / 120));
  // The chosen one last, so that it stays on top where boxes cross.
  const order = places.map((_, i) => i).sort((a, b) => Number(a === chosen) - Number(b === chosen));
  for (const i of order) {
    const place = places[i];
    if (!place) continue;
    const colour = classColour(place.classIndex);
    const line = i === chosen ? 3 * thin : thin;
    const [x1, y1, x2, y2] = place.box.map(Math.round);
    const set = (x: number, y: number, along: number) => {
      if (x < 0 || y < 0 || x >= width || y >= height) return;
      if (place.kind === 'cell' && Math.floor(along / (4 * thin)) % 2 === 1) return;
      data.set([...colour, 255], 4 * (y * width + x));
    };
    for (let t = 0; t < line; t++) {
      for (let x = x1; x <= x2; x++) {
        set(x, y1 + t, x - x1);
        set(x, y2 - t, x - x1);
      }
      for (let y = y1; y <= y2; y++) {
        set(x1 + t, y, y - y1);
        set(x2 - t, y, y - y1);
      }
    }
  }
  return { width, height, data };
}

/** The detection a click at (x, y) in the image's pixels picks: the smallest place holding the point. */
export function detectionAt(places: readonly ({ box: Box } | undefined)[], x: number, y: number): number | undefined {
  let found: number | undefined;
  let smallest = Infinity;
  places.forEach((place, i) => {
    if (!place) return;
    const [x1, y1, x2, y2] = place.box;
    const area = (x2 - x1) * (y2 - y1);
    if (x >= x1 && x <= x2 && y >= y1 && y <= y2 && area < smallest) {
      smallest = area;
      found = i;
    }
  });
  return found;
}
