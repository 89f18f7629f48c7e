/**
 * What "Check this explanation" shows under an image: the deletion and insertion curves with their
 * areas, ROAD and the confidence change, and the randomisation strip — the map as the model's layers
 * are randomised from the output down, each step's rank correlation with the original, and the curve
 * of Spearman and SSIM over the steps (a method passes when its maps change: the curve says how much).
 */
import type { ExplanationCheck } from '../../src/engine/metrics';
import { colorize } from '../../src/engine/render/overlay';
import type { Colormap } from '../../src/engine/render/colormaps';
import { h } from '../common/dom';
import { paint } from '../common/images';
import { lineChart } from './charts';

const DELETION_COLOUR = '#e06c4f';
const INSERTION_COLOUR = '#4f9be0';
const SPEARMAN_COLOUR = '#c678dd';
const SSIM_COLOUR = '#56b6a2';

export interface CheckedWhat {
  /** "Grad-CAM for “tabby” (class 281) at fire9" */
  description: string;
  colormap: Colormap;
}

export function checkResults(check: ExplanationCheck, what: CheckedWhat): HTMLElement {
  const curves = h(
    'div',
    { class: 'check-charts' },
    h(
      'div',
      { class: 'check-chart', 'data-chart': 'deletion' },
      lineChart([{ label: `Deletion, AUC ${check.deletion.auc.toFixed(3)}`, values: check.deletion.curve, color: DELETION_COLOUR }], {
        label: `Deletion curve: class probability as the most relevant pixels are removed; area ${check.deletion.auc.toFixed(3)}`,
        xLabel: 'pixels removed',
        yRange: [0, 1],
        xEnds: ['0', '100%'],
      }),
    ),
    h(
      'div',
      { class: 'check-chart', 'data-chart': 'insertion' },
      lineChart([{ label: `Insertion, AUC ${check.insertion.auc.toFixed(3)}`, values: check.insertion.curve, color: INSERTION_COLOUR }], {
        label: `Insertion curve: class probability as the most relevant pixels are put back; area ${check.insertion.auc.toFixed(3)}`,
        xLabel: 'pixels inserted',
        yRange: [0, 1],
        xEnds: ['0', '100%'],
      }),
    ),
  );
  const numbers = h(
    'dl',
    { class: 'check-numbers' },
    number('deletion-auc', 'Deletion AUC', check.deletion.auc.toFixed(3), 'lower is more faithful'),
    number('insertion-auc', 'Insertion AUC', check.insertion.auc.toFixed(3), 'higher is more faithful'),
    number('road-combined', 'ROAD combined', check.road.combined.toFixed(3), 'higher is more faithful'),
    number('road-morf', 'ROAD MoRF', check.road.morf.toFixed(3), 'lower is more faithful'),
    number('road-lerf', 'ROAD LeRF', check.road.lerf.toFixed(3), 'higher is more faithful'),
    number(
      'confidence',
      'Confidence × map',
      `${(100 * check.confidence.before).toFixed(1)}% → ${(100 * check.confidence.after).toFixed(1)}%`,
      `drop ${check.confidence.drop.toFixed(1)}%: the class probability of the image, then of the image multiplied by its map`,
    ),
  );
  numbers.title = `ROAD at ${check.road.percentiles.join(', ')} % of the pixels removed`;

  const thumbnail = (map: Float32Array, label: string) => {
    const canvas = h('canvas', { class: 'thumbnail', role: 'img', 'aria-label': label });
    paint(canvas, colorize(map, check.width, check.height, what.colormap));
    return canvas;
  };
  const strip = h(
    'ol',
    { class: 'randomisation-strip', 'aria-label': 'The map as the layers are randomised' },
    h('li', { 'data-step': '0' }, thumbnail(check.map, 'The original map'), h('span', {}, 'original')),
    ...check.strip.map((step) =>
      h(
        'li',
        {
          'data-step': String(step.randomised),
          title: `${step.randomised} of ${check.layers.length} layers randomised, down to ${step.layer}; SSIM ${step.ssim.toFixed(3)}`,
        },
        thumbnail(step.map, `The map with ${step.randomised} layers randomised`),
        h('span', { class: 'spearman' }, `ρ ${step.spearman.toFixed(2)}`),
        h('small', {}, `to ${step.layer}`),
      ),
    ),
  );
  const randomisationChart = lineChart(
    [
      { label: 'Spearman ρ', values: [1, ...check.strip.map((s) => s.spearman)], color: SPEARMAN_COLOUR },
      { label: 'SSIM', values: [1, ...check.strip.map((s) => s.ssim)], color: SSIM_COLOUR },
    ],
    {
      label: 'Similarity of the map to the original as layers are randomised',
      xLabel: 'layers randomised',
      yRange: [-0.2, 1],
      xEnds: ['0', String(check.strip.at(-1)?.randomised ?? 0)],
      width: 200,
    },
  );
  const last = check.strip.at(-1);
  const verdict = last
    ? `With all ${check.layers.length} layers randomised the map keeps a rank correlation of ${last.spearman.toFixed(2)} with the original: ` +
      (last.spearman < 0.5 ? 'it depends on what the model learnt.' : 'much of it does not depend on the weights (it follows the image).')
    : 'The model has no layers with weights to randomise.';
  const unchanged = check.unchanged.length
    ? h('p', { class: 'notice' }, `Randomising ${check.unchanged.join(', ')} did not change the output.`)
    : null;
  return h(
    'section',
    { class: 'check-results', 'aria-label': `Check of ${what.description}` },
    h('h3', {}, `Check: ${what.description}`),
    curves,
    numbers,
    h('h4', {}, 'Randomisation (cascading, from the output down)'),
    h('div', { class: 'randomisation' }, strip, randomisationChart),
    h('p', { class: 'check-verdict' }, verdict),
    unchanged,
  );
}

function number(key: string, label: string, value: string, title: string): HTMLElement {
  return h('div', { class: 'check-number', 'data-metric': key, title }, h('dt', {}, label), h('dd', {}, value));
}
