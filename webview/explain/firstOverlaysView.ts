/**
 * The overlays the extension host computed while the page started (src/panels/explain/firstOverlays.ts),
 * shown until the page's own model is loaded: each image with its map and what it is a map of. Nothing
 * here can be clicked yet; the page's view replaces it, starting from the same pictures.
 */
import { METHOD_LABELS } from '../../src/engine/explain/methods';
import type { RgbaImage } from '../../src/engine/preprocess';
import { overlay } from '../../src/engine/render/overlay';
import type { ExplainImage, ExplainSettings, FirstOverlay, FirstOverlays } from '../../src/shared/explainProtocol';
import { h } from '../common/dom';
import { paint } from '../common/images';

export interface FirstPicture {
  overlay: FirstOverlay;
  picture: RgbaImage;
}

/** Each first overlay drawn over its image (`decode`: the page's own, shared with loadImages); images that fail are left out. */
export async function firstPictures(
  first: FirstOverlays,
  images: ExplainImage[],
  settings: ExplainSettings,
  decode: (file: ExplainImage) => Promise<RgbaImage>,
): Promise<FirstPicture[]> {
  const pictures = await Promise.all(
    first.overlays.map(async (shown) => {
      const file = images.find((image) => image.name === shown.name);
      if (!file) return [];
      try {
        const pixels = await decode(file);
        const map = new Float32Array(shown.map);
        return [{ overlay: shown, picture: overlay(pixels, map, shown.width, shown.height, settings.colormap, settings.alpha) }];
      } catch {
        return [];
      }
    }),
  );
  return pictures.flat();
}

/** "Grad-CAM for “tabby” (class 281, 52.1%) at layer4" */
function firstCaption(first: FirstOverlays, shown: FirstOverlay): string {
  const layer = first.layer ? ` at ${first.layer}` : '';
  return `${METHOD_LABELS[first.method]} for “${shown.label}” (class ${shown.classIndex}, ${(100 * shown.probability).toFixed(1)}%)${layer}`;
}

export function firstOverlaysView(first: FirstOverlays, pictures: FirstPicture[], modelFileName: string): HTMLElement {
  const cards = pictures.map(({ overlay: shown, picture }) => {
    const canvas = h('canvas', { class: 'overlay', role: 'img', 'aria-label': `${METHOD_LABELS[first.method]} of ${shown.name}` });
    paint(canvas, picture);
    return h(
      'section',
      { class: 'first-overlay', 'aria-label': shown.name },
      h('h2', {}, shown.name),
      h('figure', {}, canvas, h('figcaption', { class: 'first-overlay-caption' }, firstCaption(first, shown))),
    );
  });
  return h(
    'div',
    { class: 'explain first-overlays', 'aria-busy': 'true' },
    h('p', { class: 'status', role: 'status' }, `First maps, computed while ${modelFileName} loads into the panel…`),
    h('div', { class: 'cards' }, ...cards),
  );
}
