/**
 * The Feature maps tab: every channel of a layer's output for the chosen image, as one grid computed
 * on the GPU (WebGL) and read back once; each channel normalised on its own. Hover reads values, a click
 * zooms a channel (with its deconvnet projection to pixels beside it), Alt+↑/↓ steps through the layers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../../../src/engine/execute';
import { nodeIndex, type RunnableModel } from '../../../src/engine/graph';
import {
  featureMapAt,
  featureMapGrid,
  tileOrigin,
  type ChannelNormalization,
  type FeatureMapLayout,
} from '../../../src/engine/inspect/featureMapGrid';
import type { LayerInfo } from '../../../src/engine/model';
import { imageToInput, type Preprocessing, type RgbaImage } from '../../../src/engine/preprocess';
import { colormapTable } from '../../../src/engine/render/colormaps';
import { field, select } from '../../common/controls';
import { h } from '../../common/dom';
import { createPictureCanvas } from './pictureCanvas';
import { createProjectionView } from './projectionView';

const COLOR_CHOICES: [string, string][] = [
  ['viridis', 'Viridis'],
  ['gray', 'Grey'],
  ['inferno', 'Inferno'],
];
const GRAY = new Uint8Array(256 * 3).map((_, i) => Math.floor(i / 3));

export interface FeatureMapsImage {
  name: string;
  pixels: RgbaImage;
}

export interface FeatureMapsViewOptions {
  chooseImage(): void;
  /** Files dropped on the view: image files from the desktop, or URIs from VS Code's explorer. */
  dropFile(file: File): void;
  dropUri(uri: string): void;
  step(direction: 1 | -1): void;
  onExport(canvas: HTMLCanvasElement, name: string): void;
  onError(message: string): void;
}

export interface FeatureMapsView {
  element: HTMLElement;
  /** The image for the next `show`. */
  setImage(image: FeatureMapsImage): void;
  show(model: RunnableModel, preprocessing: Preprocessing, layer: LayerInfo): Promise<void>;
}

interface Shown {
  layer: LayerInfo;
  layout: FeatureMapLayout;
  raw: Float32Array;
}

export function createFeatureMapsView(options: FeatureMapsViewOptions): FeatureMapsView {
  let image: FeatureMapsImage | undefined;
  let input: { image: FeatureMapsImage; preprocessing: Preprocessing; tensor: tf.Tensor4D } | undefined;
  let normalization: ChannelNormalization = 'minmax';
  let colors = 'viridis';
  let shown: Shown | undefined;
  let zoomed: number | undefined;
  let request: { model: RunnableModel; preprocessing: Preprocessing; layer: LayerInfo } | undefined;

  const rerun = () => request && void show(request.model, request.preprocessing, request.layer);
  const valueAt = (channel: number, y: number, x: number) => {
    const { layout, raw } = shown!;
    return raw[(y * layout.tileWidth + x) * layout.channels + channel];
  };

  const chooseButton = h(
    'button',
    { id: 'choose-image', class: 'secondary', type: 'button', title: 'Pick an image file to run through the model' },
    'Choose image…',
  );
  chooseButton.addEventListener('click', () => options.chooseImage());
  const imageName = h(
    'span',
    { id: 'feature-image', class: 'description' },
    'No image yet: choose one, or drop one here (hold Shift while dragging from the Explorer).',
  );
  const previous = h(
    'button',
    { class: 'secondary', type: 'button', title: 'Previous layer (Alt+↑)', 'aria-label': 'Previous layer' },
    '↑ Layer',
  );
  const next = h('button', { class: 'secondary', type: 'button', title: 'Next layer (Alt+↓)', 'aria-label': 'Next layer' }, '↓ Layer');
  previous.addEventListener('click', () => options.step(-1));
  next.addEventListener('click', () => options.step(1));
  const exportButton = h('button', { class: 'secondary', type: 'button', title: 'Save the feature maps as a PNG file' }, 'Export PNG');
  exportButton.addEventListener(
    'click',
    () => shown && image && options.onExport(grid.canvas, `${image.name.replace(/\.[^.]+$/, '')}-${shown.layer.name}.png`),
  );

  const toolbar = h(
    'div',
    { class: 'toolbar' },
    field(
      'Normalise',
      'feature-normalization',
      select(
        'feature-normalization',
        [
          ['minmax', 'Min–max per channel'],
          ['standardize', 'Mean/std per channel'],
        ],
        normalization,
        (v) => {
          normalization = v as ChannelNormalization;
          rerun();
        },
      ),
    ),
    field(
      'Colours',
      'feature-colors',
      select('feature-colors', COLOR_CHOICES, colors, (v) => {
        colors = v;
        rerun();
      }),
    ),
    previous,
    next,
    exportButton,
  );
  const status = h('p', { id: 'feature-status', class: 'description', role: 'status' });
  const grid = createPictureCanvas({
    id: 'feature-maps-canvas',
    label: 'Feature maps',
    maxScale: 8,
    describe: (x, y) => {
      const at = shown && featureMapAt(shown.layout, x, y);
      return at && `channel ${at.channel} at (${at.y}, ${at.x}): ${valueAt(at.channel, at.y, at.x).toPrecision(4)} — click to zoom`;
    },
    onClick: (x, y) => {
      const at = shown && featureMapAt(shown.layout, x, y);
      if (at) zoom(at.channel);
    },
  });
  const zoomTitle = h('h3', { id: 'zoom-title' });
  const closeZoom = h('button', { class: 'secondary', type: 'button', title: 'Back to all channels (Escape)' }, 'All channels');
  closeZoom.addEventListener('click', () => unzoom());
  const zoomCanvas = createPictureCanvas({
    id: 'zoom-canvas',
    label: 'Zoomed channel',
    maxScale: 32,
    describe: (x, y) =>
      shown && zoomed !== undefined ? `channel ${zoomed} at (${y}, ${x}): ${valueAt(zoomed, y, x).toPrecision(4)}` : undefined,
  });
  const projection = createProjectionView();
  const zoomPane = h(
    'div',
    { id: 'zoom-pane', class: 'zoom', hidden: true },
    h('div', { class: 'toolbar' }, zoomTitle, closeZoom),
    h('div', { class: 'zoom-pictures' }, zoomCanvas.element, projection.element),
  );
  const gridPane = h('div', {}, grid.element);

  const element = h(
    'section',
    { class: 'feature-maps', 'aria-label': 'Feature maps', tabindex: '-1' },
    h('div', { class: 'image-chooser' }, chooseButton, imageName),
    toolbar,
    status,
    gridPane,
    zoomPane,
  );

  element.addEventListener('keydown', (event) => {
    if (event.altKey && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
      event.preventDefault();
      options.step(event.key === 'ArrowDown' ? 1 : -1);
    } else if (event.key === 'Escape' && zoomed !== undefined) {
      unzoom();
    }
  });
  element.addEventListener('dragover', (event) => {
    event.preventDefault();
    element.classList.add('dropping');
  });
  element.addEventListener('dragleave', () => element.classList.remove('dropping'));
  element.addEventListener('drop', (event) => {
    event.preventDefault();
    element.classList.remove('dropping');
    const transfer = event.dataTransfer;
    const file = transfer?.files[0];
    if (file) return options.dropFile(file);
    const uri = (transfer?.getData('application/vnd.code.uri-list') || transfer?.getData('text/uri-list') || '')
      .split(/\r?\n/)
      .find(Boolean);
    if (uri) options.dropUri(uri);
  });

  function zoom(channel: number): void {
    if (!shown) return;
    zoomed = channel;
    const { layout } = shown;
    const origin = tileOrigin(layout, channel);
    const tile = grid.canvas.getContext('2d')!.getImageData(origin.x, origin.y, layout.tileWidth, layout.tileHeight);
    zoomTitle.textContent = `${shown.layer.name}, channel ${channel} of ${layout.channels}`;
    gridPane.hidden = true;
    zoomPane.hidden = false;
    zoomCanvas.show(tile.data, layout.tileWidth, layout.tileHeight);
    closeZoom.focus();
    if (request && input && layout.tileHeight * layout.tileWidth > 1) {
      void projection.show(request.model, input.tensor, shown.layer, channel);
    } else projection.clear();
  }

  function unzoom(): void {
    zoomed = undefined;
    projection.clear();
    zoomPane.hidden = true;
    gridPane.hidden = false;
  }

  async function show(model: RunnableModel, preprocessing: Preprocessing, layer: LayerInfo): Promise<void> {
    request = { model, preprocessing, layer };
    unzoom();
    if (!image) {
      status.textContent = 'Choose an image to see what each channel of this layer responds to.';
      grid.element.hidden = true;
      return;
    }
    if (!nodeIndex(model).has(layer.id)) {
      status.textContent = `${layer.name} (${layer.type}) has no output of its own to show; choose one of the layers inside it or after it.`;
      grid.element.hidden = true;
      return;
    }
    status.textContent = `Computing ${layer.name}…`;
    try {
      if (input?.image !== image || input.preprocessing !== preprocessing) {
        input?.tensor.dispose();
        input = { image, preprocessing, tensor: imageToInput(image.pixels, preprocessing) };
      }
      const [activation] = runGraph(model, singleInput(model, input.tensor), [layer.id]);
      let picture;
      try {
        picture = featureMapGrid(activation, normalization, colors === 'gray' ? GRAY : colormapTable(colors as 'viridis' | 'inferno'));
      } catch (error) {
        activation.dispose();
        throw error;
      }
      const [rgba, raw] = await Promise.all([picture.pixels.data(), activation.data()]).finally(() =>
        tf.dispose([picture.pixels, activation]),
      );
      if (request.layer !== layer) return; // the user moved on meanwhile
      shown = { layer, layout: picture.layout, raw: raw as Float32Array };
      const { layout } = picture;
      grid.element.hidden = false;
      grid.show(Uint8ClampedArray.from(rgba), layout.width, layout.height);
      const size = layout.tileHeight * layout.tileWidth > 1 ? `${layout.tileHeight}×${layout.tileWidth}` : 'one value';
      status.textContent = `${layer.name}: ${layout.channels} channels of ${size} for ${image.name}. Hover for values, click a channel to zoom.`;
    } catch (error) {
      const message = `${layer.name}'s feature maps cannot be computed: ${error instanceof Error ? error.message : String(error)}`;
      status.textContent = message;
      grid.element.hidden = true;
      options.onError(message);
    }
  }

  return {
    element,
    setImage(next) {
      image = next;
      imageName.textContent = next.name;
    },
    show,
  };
}
