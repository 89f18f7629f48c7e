/**
 * Concepts of the folder for the Map tab: deep feature factorisation of the last spatial layer's
 * activations over every image into k concepts, each image's dominant concept (the one with the largest
 * share of its factorised activation), each concept's top classes, and a strip of the images where each
 * concept's share is highest. A tile opens that image's concepts as pytorch-grad-cam draws them (each
 * pixel in the colour of its strongest concept), with the concepts it holds and their shares.
 */
import { defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import * as tf from '@tensorflow/tfjs-core';
import { conceptClasses, conceptHeatmaps, factoriseFolder, type FeatureFactorisation } from '../../src/engine/explain/featureFactorisation';
import { conceptOverlay, conceptRgb } from '../../src/engine/render/conceptOverlay';
import { ExplanationCancelled } from '../../src/engine/progress';
import type { Prediction } from '../../src/engine/predictions';
import { h } from '../common/dom';
import { paint } from '../common/images';
import { postToHost } from './channel';
import type { Navigator } from './navigator';
import type { AnalyzeSession } from './session';

export interface FolderConcepts {
  layer: string;
  components: number;
  /** Per image: its dominant concept, −1 for an image left out (not decoded). */
  dominant: Int32Array;
  /** images × k: each concept's share of the image's factorised activation. */
  shares: Float32Array;
  /** Per concept: its top 3 classes. */
  classes: Prediction[][];
  /** The factorisation itself, for each image's concept heatmaps. */
  factorisation: FeatureFactorisation;
}

/** Concept colours: evenly spaced hues, as pytorch-grad-cam's gist_rainbow colours, distinct from the class palette's order. */
export function conceptColour(concept: number, components: number): string {
  return `rgb(${conceptRgb(concept, components).join(' ')})`;
}

/** How a concept reads in a legend: its number and top classes. */
export function conceptLabel(session: AnalyzeSession, concepts: FolderConcepts, concept: number): string {
  const classes = concepts.classes[concept].map((c) => `${session.className(c.index)} ${(c.probability * 100).toFixed(0)}%`).join(', ');
  return `Concept ${concept + 1}: ${classes}`;
}

const STRIP_IMAGES = 6;
/** The concepts of one image are drawn at least this large (28×28 images are scaled up, pixels kept). */
const FIGURE_SIZE = 224;

export function conceptsView(session: AnalyzeSession, navigator: Navigator) {
  const element = h('section', { class: 'concepts', id: 'concepts', hidden: true, 'aria-label': 'Concepts' });
  const known = new Map<string, FolderConcepts>();
  const figure = imageConcepts(session, navigator);

  /** The folder's concepts for k, computed once per feature pass and k. Undefined when cancelled. */
  const compute = async (components: number, note: (text: string) => void): Promise<FolderConcepts | undefined> => {
    const features = session.requireFeatures();
    const model = session.opened.model;
    const layer = defaultTargetLayer(model);
    const key = `${features.featureLayer}|${layer}|${components}`;
    const cached = known.get(key);
    if (cached) return cached;
    const mine = session.claimToken();
    const count = session.entries.length;
    const title = `ConvLens: ${components} concepts of ${layer} over ${count} images`;
    note(`Factorising the activations of ${layer} into ${components} concepts…`);
    const batchSize = 32;
    session.folder.beginPass(batchSize);
    try {
      const factorisation = await factoriseFolder(model, {
        count,
        layer,
        components,
        batchSize,
        loadBatch: (start, end) => session.folder.batch(start, end),
        progress: { token: mine, report: (done, total) => postToHost({ type: 'progress', title, done, total }) },
      });
      const skipped = session.skipped();
      const dominant = Int32Array.from({ length: count }, (_, image) => {
        if (skipped.has(image)) return -1;
        const row = factorisation.shares.subarray(image * components, (image + 1) * components);
        return row.indexOf(Math.max(...row));
      });
      const result = {
        layer,
        components,
        dominant,
        shares: factorisation.shares,
        classes: conceptClasses(model, layer, factorisation),
        factorisation,
      };
      known.set(key, result);
      return result;
    } catch (error) {
      note(error instanceof ExplanationCancelled ? 'Cancelled.' : `The concepts failed: ${(error as Error).message}`);
      return undefined;
    } finally {
      postToHost({ type: 'progressEnd' });
    }
  };

  /** One row per concept: its colour, top classes, and the images where its share is highest. */
  const show = (concepts: FolderConcepts | undefined) => {
    element.hidden = !concepts;
    if (!concepts) return;
    const { components, shares, dominant } = concepts;
    const rows = Array.from({ length: components }, (_, concept) => {
      const images = [...dominant.keys()]
        .filter((image) => dominant[image] >= 0)
        .sort((a, b) => shares[b * components + concept] - shares[a * components + concept])
        .slice(0, STRIP_IMAGES);
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = conceptColour(concept, components); // through CSSOM: the policy forbids style attributes
      const strip = h(
        'ul',
        { class: 'concept-strip', 'aria-label': `Images with the most of concept ${concept + 1}` },
        ...images.map((image) => {
          const share = shares[image * components + concept];
          const button = h('button', {
            class: 'tile-open',
            type: 'button',
            title: `${session.describe(image)} · ${(share * 100).toFixed(0)}% concept ${concept + 1}`,
          });
          button.addEventListener('click', () => void figure.show(concepts, image));
          void session.folder.thumbnail(session.entries[image].path, 56).then((picture) => picture && button.append(picture));
          return h('li', {}, button);
        }),
      );
      return h(
        'li',
        { class: 'concept-row', 'data-concept': String(concept) },
        h('span', { class: 'concept-name' }, swatch, conceptLabel(session, concepts, concept)),
        strip,
      );
    });
    figure.element.hidden = true;
    element.replaceChildren(
      h('h3', {}, `Concepts of ${concepts.layer} (deep feature factorisation, k = ${components})`),
      h('ul', { class: 'concept-rows' }, ...rows),
      figure.element,
    );
  };

  return { element, compute, show };
}

/** One image's concepts: the picture, and the concepts it holds by share, each with its top classes. */
function imageConcepts(session: AnalyzeSession, navigator: Navigator) {
  const canvas = h('canvas', { class: 'concept-image-canvas' });
  const caption = h('p', { class: 'caption' });
  const legend = h('ul', { class: 'legend concept-image-legend' });
  const preview = h('button', { class: 'secondary', type: 'button' }, 'Open in preview');
  const element = h('figure', { class: 'concept-image', hidden: true }, canvas, h('figcaption', {}, caption, legend, preview));
  let shown = 0;
  preview.addEventListener('click', () => navigator.show(shown));

  const show = async (concepts: FolderConcepts, image: number) => {
    shown = image;
    const [pixels] = await session.folder.decode([session.entries[image].path]);
    if (!pixels) return;
    const { components, shares, factorisation } = concepts;
    const heatmaps = conceptHeatmaps(factorisation, image, pixels.height, pixels.width);
    const values = (await heatmaps.data()) as Float32Array;
    tf.dispose(heatmaps);
    paint(canvas, conceptOverlay(pixels, values, components));
    // Small images are shown larger, pixels kept sharp (CSS size only: the canvas keeps the image's pixels).
    const scale = Math.max(1, Math.floor(FIGURE_SIZE / Math.max(pixels.width, pixels.height)));
    canvas.style.width = `${pixels.width * scale}px`;
    canvas.style.height = `${pixels.height * scale}px`;
    caption.textContent = `Concepts in ${session.describe(image)}`;
    canvas.setAttribute('aria-label', caption.textContent);
    const byShare = Array.from({ length: components }, (_, j) => j).sort(
      (a, b) => shares[image * components + b] - shares[image * components + a],
    );
    legend.replaceChildren(
      ...byShare.map((j) => {
        const swatch = h('span', { class: 'swatch' });
        swatch.style.background = conceptColour(j, components);
        const share = `${(shares[image * components + j] * 100).toFixed(0)}%`;
        return h('li', { 'data-concept': String(j) }, swatch, `${share} · ${conceptLabel(session, concepts, j)}`);
      }),
    );
    element.hidden = false;
    element.scrollIntoView({ block: 'nearest' });
  };
  return { element, show };
}
