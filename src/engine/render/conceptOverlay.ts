/**
 * One image's concepts from deep feature factorisation as one picture, as pytorch-grad-cam's
 * `show_factorization_on_image` draws them: each pixel takes the colour of the concept whose heatmap is
 * strongest there, as bright as that heatmap (the library sets the colour's HSV value, its largest RGB
 * channel, to the heatmap's value, keeping hue and saturation), and the picture is blended half and half
 * with the image.
 */
import { hsl } from 'd3-color';
import type { RgbaImage } from '../preprocess';

/** The image's share of the blend, as the library's default `image_weight`. */
export const CONCEPT_IMAGE_WEIGHT = 0.5;

/** Concept colours: `components` evenly spaced hues, as the library spreads gist_rainbow over the concepts. */
export function conceptRgb(concept: number, components: number): [number, number, number] {
  const colour = hsl((concept * 300) / Math.max(1, components), 0.85, 0.5).rgb();
  return [Math.round(colour.r), Math.round(colour.g), Math.round(colour.b)];
}

/**
 * `heatmaps`: [k, height, width] at the image's size, each in [0, 1] (pytorch-grad-cam's scaled
 * `explanations`). Returns the blended picture, opaque.
 */
export function conceptOverlay(
  image: RgbaImage,
  heatmaps: ArrayLike<number>,
  components: number,
  imageWeight = CONCEPT_IMAGE_WEIGHT,
): RgbaImage {
  const { width, height } = image;
  const positions = width * height;
  if (heatmaps.length !== components * positions) {
    throw new Error(`${components} heatmaps of ${width}×${height} need ${components * positions} values, not ${heatmaps.length}`);
  }
  // Each colour at full HSV value (largest channel 255); the heatmap then sets the value.
  const colours = Array.from({ length: components }, (_, j) => {
    const colour = conceptRgb(j, components);
    return colour.map((c) => (c * 255) / Math.max(...colour));
  });
  const data = new Uint8Array(positions * 4);
  for (let p = 0; p < positions; p++) {
    let strongest = 0;
    for (let j = 1; j < components; j++) if (heatmaps[j * positions + p] > heatmaps[strongest * positions + p]) strongest = j;
    const value = Math.min(1, Math.max(0, heatmaps[strongest * positions + p]));
    const colour = colours[strongest];
    for (let c = 0; c < 3; c++) {
      data[p * 4 + c] = Math.round(imageWeight * image.data[p * 4 + c] + (1 - imageWeight) * colour[c] * value);
    }
    data[p * 4 + 3] = 255;
  }
  return { width, height, data };
}
