/**
 * The images under both models: one card per image with A's and B's top-3 predictions side by side
 * (a "prediction changed" badge, and B's new top class marked, where they disagree), then the chosen
 * method's map under A, under B, and their difference B − A.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import type { PredictionChange } from '../../src/engine/compare/predictionChanges';
import type { Prediction } from '../../src/engine/predictions';
import type { RgbaImage } from '../../src/engine/preprocess';
import { h } from '../common/dom';
import { paint } from '../common/images';

export interface ComparedImage {
  name: string;
  change: PredictionChange;
}

export interface ImageMaps {
  a: RgbaImage;
  b: RgbaImage;
  difference: RgbaImage;
  /** What the maps show, e.g. “Grad-CAM for “Sneaker” at conv3”. */
  captionA: string;
  captionB: string;
  captionDifference: string;
}

export interface ImagesGrid {
  element: HTMLElement;
  showMaps(index: number, maps: ImageMaps): void;
}

export function imagesGrid(images: readonly ComparedImage[]): ImagesGrid {
  const cards = images.map(imageCard);
  return {
    element: h('div', { id: 'compare-images', class: 'cards' }, ...cards.map((c) => c.element)),
    showMaps: (index, maps) => cards[index].show(maps),
  };
}

function imageCard(image: ComparedImage, index: number) {
  const { change } = image;
  const figure = (which: string) => {
    const canvas = h('canvas', { class: 'overlay', role: 'img', 'aria-label': `${which} of ${image.name}` });
    const caption = h('figcaption', { class: 'caption' });
    return { canvas, caption, element: h('figure', { 'data-map': which }, canvas, caption) };
  };
  const figures = { a: figure('A'), b: figure('B'), difference: figure('B − A') };
  const element = h(
    'article',
    { class: `card compare-card${change.changed ? ' changed' : ''}`, 'data-image': image.name, 'data-index': String(index) },
    h(
      'h2',
      {},
      image.name,
      change.changed ? h('vscode-badge', { class: 'changed-badge', variant: 'counter' }, 'prediction changed') : null,
    ),
    h(
      'div',
      { class: 'compare-predictions' },
      predictionList('A', change.a, change.changed ? change.a[0].index : undefined),
      predictionList('B', change.b, change.changed ? change.b[0].index : undefined),
    ),
    h('div', { class: 'compare-figures' }, figures.a.element, figures.b.element, figures.difference.element),
  );
  return {
    element,
    show(maps: ImageMaps) {
      paint(figures.a.canvas, maps.a);
      paint(figures.b.canvas, maps.b);
      paint(figures.difference.canvas, maps.difference);
      figures.a.caption.textContent = maps.captionA;
      figures.b.caption.textContent = maps.captionB;
      figures.difference.caption.textContent = maps.captionDifference;
    },
  };
}

/** One model's top classes; `changedTop`, where the two disagree, marks this model's top class. */
function predictionList(model: 'A' | 'B', predictions: readonly Prediction[], changedTop: number | undefined): HTMLElement {
  return h(
    'div',
    { class: 'predictions', 'data-model': model },
    h('h3', { class: 'compare-model-label' }, `Model ${model}`),
    ...predictions.map((p) => {
      const bar = h('span', { class: 'prediction-bar', 'aria-hidden': 'true' });
      bar.style.setProperty('--p', String(p.probability));
      const changed = p.index === changedTop;
      return h(
        'div',
        { class: `prediction${changed ? ' changed' : ''}`, 'data-class': String(p.index) },
        h('span', { class: 'prediction-label' }, p.label),
        bar,
        h('span', { class: 'prediction-probability' }, `${(100 * p.probability).toFixed(1)}%`),
      );
    }),
  );
}
