/**
 * Saliency → segmentation: a mask of the explained object from an image and any explanation map in
 * [0, 1] (at any resolution: it is stretched over the image, as the model's input was).
 *
 * - `thresholdOnly`: the baseline, the map thresholded at its Otsu threshold (threshold.ts).
 * - otherwise the refined mask: the smoothed map gives GrabCut its rectangle (seeds.ts), GrabCut labels
 *   the pixels by the image's colours and edges (grabCut.ts), and only the parts of its object that
 *   reach where the map is above its threshold are kept (a stray region of the object's colour elsewhere
 *   in the picture is dropped).
 *
 * Time and memory are bounded: an image of more than MAX_SEGMENTATION_PIXELS is segmented at the largest
 * size under that with its proportions, and the mask scaled back to the image's size: a refined mask of
 * a photo took 0.4–1.1 s on one core of a busy machine, whatever the photo's size (resizing it aside).
 */
import type { RgbaImage } from '../preprocess';
import { resizeRgb } from '../resizePixels';
import { grabCut, type GrabCutOptions } from './grabCut';
import { resizeMap } from './mapResize';
import { componentsTouching, type MaskSummary, resizeMask, summariseMask } from './maskOps';
import { type SeedOptions, seedsFromMap } from './seeds';
import { otsuThreshold, thresholdMask } from './threshold';

export { intersectionOverUnion, maskImage, maskOutline, summariseMask, type MaskBox, type MaskSummary } from './maskOps';

/** Images larger than this (in pixels) are segmented at a reduced size. */
export const MAX_SEGMENTATION_PIXELS = 256 * 256;

/** A map of values in [0, 1], row by row. */
export interface SaliencyMap {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

export interface SegmentationOptions extends GrabCutOptions, SeedOptions {
  /** The baseline: the map thresholded at its Otsu threshold, nothing more. */
  thresholdOnly?: boolean;
  /** Larger images are segmented at a reduced size; MAX_SEGMENTATION_PIXELS by default. */
  maxPixels?: number;
}

export interface Segmentation {
  /** 1 = object, 0 = background, at the image's size. */
  mask: Uint8Array;
  width: number;
  height: number;
  /** Otsu's threshold of the map (the one the baseline applies). */
  threshold: number;
  /** The size the image was segmented at (its own unless larger than MAX_SEGMENTATION_PIXELS). */
  workingWidth: number;
  workingHeight: number;
  summary: MaskSummary;
}

export function segmentObject(image: RgbaImage, map: SaliencyMap, options: SegmentationOptions = {}): Segmentation {
  checkMap(map);
  const { width, height } = image;
  const scale = Math.min(1, Math.sqrt((options.maxPixels ?? MAX_SEGMENTATION_PIXELS) / (width * height)));
  const workingWidth = Math.max(1, Math.floor(width * scale));
  const workingHeight = Math.max(1, Math.floor(height * scale));
  const workingMap = resizeMap(map.data, map.width, map.height, workingWidth, workingHeight);
  const threshold = otsuThreshold(workingMap);

  let working: Uint8Array;
  if (options.thresholdOnly) {
    working = thresholdMask(workingMap, threshold);
  } else {
    const trimap = seedsFromMap(workingMap, workingWidth, workingHeight, options);
    const rgb = resizeRgb(image.data, width, height, workingWidth, workingHeight);
    const labels = grabCut(rgb, workingWidth, workingHeight, trimap, options);
    working = componentsTouching(labels, trimap.core, workingWidth, workingHeight);
  }
  const mask = scale < 1 ? resizeMask(working, workingWidth, workingHeight, width, height) : working;
  return { mask, width, height, threshold, workingWidth, workingHeight, summary: summariseMask(mask, width, height) };
}

/** A map must be a non-empty grid of numbers in [0, 1]. */
function checkMap(map: SaliencyMap): void {
  if (!(map.width > 0 && map.height > 0 && Number.isInteger(map.width) && Number.isInteger(map.height)))
    throw new Error(`the map's size must be positive whole numbers (got ${map.width}×${map.height})`);
  if (map.data.length !== map.width * map.height)
    throw new Error(`the map has ${map.data.length} values for a ${map.width}×${map.height} grid`);
  for (let i = 0; i < map.data.length; i++) {
    const v = map.data[i];
    if (!(v >= 0 && v <= 1)) throw new Error(`the map's values must lie in [0, 1] (found ${v})`);
  }
}
