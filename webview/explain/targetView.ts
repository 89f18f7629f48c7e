/**
 * A card's target picker for a segmentation or detection model, in place of the class buttons: the
 * image with the predicted mask (which can be hidden) and a legend of classes, or with the detections
 * outlined and listed. Clicking a legend entry, a listed detection or a box on the picture explains it.
 * Class names come from the model's files: they are only ever text.
 */
import type { Detection } from '../../src/engine/explain/detections';
import type { RgbaImage } from '../../src/engine/preprocess';
import { h } from '../common/dom';
import { paint } from '../common/images';
import {
  className,
  classColour,
  cssColour,
  detectionAt,
  detectionPlace,
  maskOverlay,
  outlineDetections,
  toImagePixels,
} from './targetPictures';
import type { PageTargets, TargetChoice } from './pageTargets';

export interface TargetPicker {
  /** The image with the mask or the detections, shown beside the card's maps. */
  figure: HTMLElement;
  /** The legend or the list of detections, in place of the class buttons. */
  list: HTMLElement;
  /** Marks the choice the card's maps explain. */
  markChosen(choice: TargetChoice): void;
}

export interface PickerImage {
  name: string;
  index: number;
  pixels: RgbaImage;
  /** The model's input size: what boxes and cells are measured in. */
  input: { width: number; height: number };
}

export function targetPicker(targets: PageTargets, image: PickerImage, onPick: (choice: TargetChoice) => void): TargetPicker {
  return targets.kind === 'segmentation' ? segmentationPicker(targets, image, onPick) : detectionPicker(targets, image, onPick);
}

function segmentationPicker(
  targets: Extract<PageTargets, { kind: 'segmentation' }>,
  image: PickerImage,
  onPick: (choice: TargetChoice) => void,
): TargetPicker {
  const { segmentation, legend } = targets.images[image.index];
  const canvas = h('canvas', { class: 'overlay target-picture', role: 'img', 'aria-label': `The predicted classes of ${image.name}` });
  const masked = maskOverlay(image.pixels, segmentation);
  const toggle = h('input', { type: 'checkbox', class: 'mask-toggle', checked: true });
  const draw = () => paint(canvas, toggle.checked ? masked : image.pixels);
  toggle.addEventListener('change', draw);
  draw();
  const entries = legend.map((entry) => {
    const swatch = h('span', { class: 'swatch' });
    swatch.style.setProperty('--swatch', cssColour(entry.colour));
    const button = h(
      'button',
      {
        type: 'button',
        class: 'prediction legend-entry',
        'data-class': String(entry.classIndex),
        title: `Explain ${entry.label} over its pixels`,
      },
      h('span', { class: 'prediction-label' }, swatch, entry.label),
      h('span', { class: 'prediction-bar' }),
      h('span', { class: 'prediction-probability' }, `${(entry.share * 100).toFixed(1)}%`),
    );
    (button.querySelector('.prediction-bar') as HTMLElement).style.setProperty('--p', String(entry.share));
    button.addEventListener('click', () => onPick({ kind: 'segmentation', classIndex: entry.classIndex }));
    return button;
  });
  return {
    figure: h(
      'figure',
      { class: 'target-figure' },
      canvas,
      h('figcaption', { class: 'caption' }, h('label', {}, toggle, ' Show the predicted mask')),
    ),
    list: h(
      'div',
      { class: 'predictions legend', role: 'group', 'aria-label': `Classes predicted in ${image.name}, by share of pixels` },
      ...entries,
    ),
    markChosen(choice) {
      for (const button of entries)
        button.setAttribute('aria-pressed', String(choice.kind === 'segmentation' && Number(button.dataset.class) === choice.classIndex));
    },
  };
}

function detectionPicker(
  targets: Extract<PageTargets, { kind: 'detection' }>,
  image: PickerImage,
  onPick: (choice: TargetChoice) => void,
): TargetPicker {
  const listed = targets.images[image.index];
  const names = targets.labels?.names;
  const places = listed.map((detection) => {
    const place = detectionPlace(detection);
    return place && { ...place, box: toImagePixels(place.box, image.input, image.pixels), classIndex: detection.classIndex };
  });
  const canvas = h('canvas', {
    class: 'overlay target-picture',
    role: 'img',
    'aria-label': `The detections in ${image.name}`,
    title: targets.placed === 'none' ? undefined : 'Click a detection to explain it',
  });
  let chosen: number | undefined = 0;
  const draw = () => {
    paint(canvas, outlineDetections(image.pixels, places, chosen));
    numberPlaces(canvas, places);
  };
  canvas.addEventListener('click', (event) => {
    const bounds = canvas.getBoundingClientRect();
    const x = ((event.clientX - bounds.left) / bounds.width) * canvas.width;
    const y = ((event.clientY - bounds.top) / bounds.height) * canvas.height;
    const rank = detectionAt(places, x, y);
    if (rank !== undefined) onPick({ kind: 'detection', rank });
  });
  const entries = listed.map((detection, rank) => {
    const swatch = h('span', { class: 'swatch' });
    swatch.style.setProperty('--swatch', cssColour(classColour(detection.classIndex)));
    const button = h(
      'button',
      {
        type: 'button',
        class: 'prediction detection-entry',
        'data-rank': String(rank),
        title: `Explain detection ${rank + 1}: class ${detection.classIndex} at anchor ${detection.anchor} (logit ${detection.score.toPrecision(4)})`,
      },
      h('span', { class: 'prediction-label' }, swatch, `${rank + 1}. ${className(detection.classIndex, names)}`),
      h('span', { class: 'detection-place' }, placeWords(detection)),
      h('span', { class: 'prediction-probability' }, detection.score.toFixed(2)),
    );
    button.addEventListener('click', () => onPick({ kind: 'detection', rank }));
    return button;
  });
  draw();
  return {
    figure: h(
      'figure',
      { class: 'target-figure detection-figure' },
      canvas,
      h('figcaption', { class: 'caption detection-note' }, PLACED_NOTES[targets.placed]),
    ),
    list: h(
      'div',
      { class: 'predictions detections', role: 'group', 'aria-label': `Detections in ${image.name}, strongest first` },
      ...entries,
    ),
    markChosen(choice) {
      const rank = choice.kind === 'detection' ? choice.rank : undefined;
      for (const button of entries) button.setAttribute('aria-pressed', String(Number(button.dataset.rank) === rank));
      if (rank !== chosen) {
        chosen = rank;
        draw();
      }
    },
  };
}

const PLACED_NOTES: Record<'box' | 'cell' | 'none', string> = {
  box: 'The boxes the model outputs, numbered strongest first (logit on the right of the list).',
  cell: "The model outputs raw box regressions: boxes are not decoded (that needs anchor sizes the file does not hold). Each detection is marked at its anchor's cell of the head's grid (dashed).",
  none: 'The model outputs raw box regressions and its anchors cannot be traced in the graph: boxes are not decoded, detections are listed only.',
};

/** "x 36–52, y 20–36" in input pixels: the box, or "cell …" for an anchor's cell. */
function placeWords(detection: Detection): string {
  const place = detectionPlace(detection);
  if (!place) return 'not placed';
  const [x1, y1, x2, y2] = place.box.map((v) => Math.round(v));
  return `${place.kind === 'cell' ? 'cell ' : ''}x ${x1}–${x2}, y ${y1}–${y2}`;
}

/** Each detection's rank beside its place, in its colour, as the list numbers them. */
function numberPlaces(canvas: HTMLCanvasElement, places: readonly ({ box: number[]; classIndex: number } | undefined)[]): void {
  const context = canvas.getContext('2d')!;
  const size = Math.max(10, Math.round(Math.min(canvas.width, canvas.height) / 24));
  context.font = `bold ${size}px sans-serif`;
  context.textBaseline = 'top';
  places.forEach((place, rank) => {
    if (!place) return;
    const x = Math.max(0, Math.min(canvas.width - size, place.box[0] + 2));
    const y = Math.max(0, Math.min(canvas.height - size, place.box[1] + 2));
    context.fillStyle = 'rgba(0, 0, 0, 0.6)';
    context.fillRect(x - 1, y - 1, context.measureText(String(rank + 1)).width + 2, size + 2);
    context.fillStyle = cssColour(classColour(place.classIndex));
    context.fillText(String(rank + 1), x, y);
  });
}
