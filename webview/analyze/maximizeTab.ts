/**
 * The "Looks for" tab: activation maximisation. It synthesises the image that most excites a channel of
 * a layer, or a class's score, showing the optimisation as it goes, and puts the folder's own top
 * patches for that channel beside it: what the unit looks for, and what in the user's data comes closest.
 */
import { maximizeActivation, type MaximizationTarget } from '../../src/engine/dataset/activationMaximization';
import { ExplanationCancelled } from '../../src/engine/progress';
import { outputShapes } from '../../src/engine/explain/targetLayer';
import type { RunnableModel } from '../../src/engine/graph';
import type { Preprocessing, RgbaImage } from '../../src/engine/preprocess';
import { field, select } from '../common/controls';
import { h } from '../common/dom';
import { canvasPng, paint } from '../common/images';
import { postToHost } from './channel';
import { enlarged } from './folderImages';

export interface MaximizeContext {
  model: RunnableModel;
  preprocessing: Preprocessing;
  /** Layers with height, width and channels, in graph order; the first choice is `defaultLayer`. */
  layers: string[];
  defaultLayer: string;
  classCount: number;
  className(index: number): string;
  /** A new cancellation token that VS Code's Cancel button reaches. */
  claimToken(): { cancelled: boolean };
  /** The folder's strongest patches for a channel, as a gallery, or a sentence saying why there are none. */
  topPatches(layer: string, channel: number, count: number): Promise<HTMLElement>;
}

const CLASS_TARGET = '(class score)';
/** Pictures are shown at least this many pixels wide: a 28×28 image needs enlarging to be seen. */
const SHOWN_SIZE = 224;

export function maximizeTab(context: MaximizeContext) {
  const shapes = outputShapes(context.model);
  const channelsOf = (layer: string) => shapes.get(layer)?.at(-1) ?? undefined;
  const targetSelect = select(
    'maximize-target',
    [...context.layers.map((id): [string, string] => [id, id]), [CLASS_TARGET, 'Class score']],
    context.defaultLayer,
    () => updateUnitChoice(),
  );
  const channel = h('input', { id: 'maximize-channel', type: 'number', min: '0', value: '0', 'aria-label': 'Channel' });
  const classSelect = select(
    'maximize-class',
    Array.from({ length: context.classCount }, (_, i): [string, string] => [String(i), context.className(i)]),
    '0',
    () => undefined,
  );
  const channelField = field('Channel', 'maximize-channel', channel);
  const classField = field('Class', 'maximize-class', classSelect);
  const steps = select(
    'maximize-steps',
    ['64', '128', '256', '512'].map((v) => [v, v]),
    '256',
    () => undefined,
  );
  const seed = h('input', { id: 'maximize-seed', type: 'number', min: '0', value: '1', 'aria-label': 'Seed' });
  const run = h('button', { class: 'primary', type: 'button', id: 'maximize-run' }, 'Generate');
  const stop = h('button', { class: 'secondary', type: 'button', id: 'maximize-stop', disabled: true }, 'Stop');
  const exportButton = h('button', { class: 'secondary', type: 'button', id: 'maximize-export', disabled: true }, 'Export PNG');
  const picture = h('canvas', { class: 'maximize-picture', id: 'maximize-picture', role: 'img', 'aria-label': 'No image yet' });
  const chart = h('canvas', {
    class: 'maximize-chart',
    id: 'maximize-chart',
    width: '240',
    height: '64',
    role: 'img',
    'aria-label': 'Objective per step',
  });
  const note = h('p', { class: 'status', id: 'maximize-note' }, 'Choose a layer and channel, or a class, then Generate.');
  const patches = h('div', { class: 'maximize-patches' });
  let running: { cancelled: boolean } | undefined;
  let shown: { image: RgbaImage; name: string } | undefined;

  function updateUnitChoice(): void {
    const isClass = targetSelect.value === CLASS_TARGET;
    channelField.hidden = isClass;
    classField.hidden = !isClass;
    const channels = channelsOf(targetSelect.value);
    if (channels) channel.max = String(channels - 1);
  }

  function target(): { target: MaximizationTarget; name: string } {
    if (targetSelect.value === CLASS_TARGET) {
      const classIndex = Number(classSelect.value);
      return { target: { kind: 'class', classIndex }, name: `class ${context.className(classIndex)}` };
    }
    const layer = targetSelect.value;
    const index = Number(channel.value);
    const channels = channelsOf(layer);
    if (!Number.isInteger(index) || index < 0 || (channels !== undefined && index >= channels)) {
      throw new Error(`${layer} has channels 0 to ${(channels ?? 1) - 1}; ${channel.value} is not one of them`);
    }
    return { target: { kind: 'channel', layer, channel: index }, name: `${layer} channel ${index}` };
  }

  async function generate(): Promise<void> {
    if (running) running.cancelled = true;
    let chosen: ReturnType<typeof target>;
    try {
      chosen = target();
    } catch (error) {
      note.textContent = (error as Error).message;
      return;
    }
    const mine = context.claimToken();
    running = mine;
    stop.disabled = false;
    exportButton.disabled = true;
    const total = Number(steps.value);
    const title = `ConvLens: what ${chosen.name} looks for`;
    const objective: number[] = [];
    note.textContent = `Optimising an image for ${chosen.name}…`;
    void showPatches(chosen.target);
    try {
      const result = await maximizeActivation(context.model, {
        target: chosen.target,
        preprocessing: context.preprocessing,
        steps: total,
        seed: Math.max(0, Math.floor(Number(seed.value) || 0)),
        token: mine,
        progress: { report: (done) => postToHost({ type: 'progress', title, done, total }) },
        onStep: async (step, _total, image, value) => {
          if (running !== mine) return;
          objective.push(value);
          draw(image, `${chosen.name}, step ${step} of ${total}`);
          drawChart(chart, objective);
          note.textContent = `Step ${step} of ${total}: objective ${value.toFixed(3)}.`;
          // Lets the webview paint between steps.
          await new Promise((resolve) => requestAnimationFrame(resolve));
        },
      });
      if (running !== mine) return;
      draw(result.image, `The image that most excites ${chosen.name}`);
      shown = { image: result.image, name: chosen.name };
      exportButton.disabled = false;
      note.textContent = `What ${chosen.name} looks for: ${total} steps of gradient ascent (seed ${result.seed}); objective ${result.score.toFixed(3)} on the final image. Another seed gives another view of the same preference.`;
      postToHost({ type: 'rendered', view: 'maximize', detail: `${chosen.name} ${result.score}` });
    } catch (error) {
      if (running !== mine) return;
      note.textContent =
        error instanceof ExplanationCancelled
          ? `Stopped; the image is as it was at the last step shown.`
          : `No image: ${(error as Error).message}`;
    } finally {
      postToHost({ type: 'progressEnd' });
      if (running === mine) {
        running = undefined;
        stop.disabled = true;
      }
    }
  }

  async function showPatches(chosen: MaximizationTarget): Promise<void> {
    if (chosen.kind === 'class') {
      patches.replaceChildren();
      return;
    }
    patches.replaceChildren(
      h('h3', {}, `In this folder, ${chosen.layer} channel ${chosen.channel} fires hardest on`),
      await context.topPatches(chosen.layer, chosen.channel, 9),
    );
  }

  function draw(image: RgbaImage, label: string): void {
    paint(picture, image);
    picture.style.width = `${image.width * shownScale(image)}px`;
    picture.setAttribute('aria-label', label);
  }

  async function exportPng(): Promise<void> {
    if (!shown) return;
    // Small images are saved enlarged with sharp pixels, as they are shown.
    const { image, name } = shown;
    const canvas = enlarged(image, shownScale(image));
    postToHost({
      type: 'exportPng',
      suggestedName: `looks-for-${name.replace(/[^\w.-]+/g, '-')}.png`,
      bytes: (await canvasPng(canvas)).buffer as ArrayBuffer,
    });
  }

  run.addEventListener('click', () => void generate());
  stop.addEventListener('click', () => {
    if (running) running.cancelled = true;
  });
  exportButton.addEventListener('click', () => void exportPng());
  channel.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') void generate();
  });
  updateUnitChoice();

  const panel = h(
    'div',
    { class: 'tab-panel' },
    h(
      'div',
      { class: 'toolbar' },
      field('Layer', 'maximize-target', targetSelect),
      channelField,
      classField,
      field('Steps', 'maximize-steps', steps),
      field('Seed', 'maximize-seed', seed),
      run,
      stop,
      exportButton,
    ),
    note,
    h(
      'div',
      { class: 'maximize-result' },
      picture,
      h('div', { class: 'maximize-chart-label' }, chart, h('span', {}, 'Objective at each step shown')),
    ),
    patches,
  );
  return {
    id: 'maximize',
    label: 'Looks for',
    panel,
    refresh: () => undefined,
    /** Opens the tab on a layer's channel (from the Top patches tab). */
    choose(layer: string, index: number): void {
      targetSelect.value = layer;
      channel.value = String(index);
      updateUnitChoice();
    },
  };
}

/** The whole enlargement that shows an image about SHOWN_SIZE pixels across. */
function shownScale(image: RgbaImage): number {
  return Math.max(1, Math.round(SHOWN_SIZE / Math.max(image.width, image.height)));
}

/** The objective per reported step as a line, in the theme's colours. */
function drawChart(canvas: HTMLCanvasElement, values: number[]): void {
  const context = canvas.getContext('2d')!;
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  if (values.length < 2) return;
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || 1;
  const style = getComputedStyle(canvas);
  context.strokeStyle = style.getPropertyValue('--vscode-charts-blue').trim() || style.color;
  context.lineWidth = 2;
  context.beginPath();
  values.forEach((value, i) => {
    const x = 2 + ((width - 4) * i) / (values.length - 1);
    const y = height - 2 - ((height - 4) * (value - low)) / span;
    if (i === 0) context.moveTo(x, y);
    else context.lineTo(x, y);
  });
  context.stroke();
  canvas.setAttribute('aria-label', `Objective per step, from ${values[0].toFixed(2)} to ${values[values.length - 1].toFixed(2)}`);
}
