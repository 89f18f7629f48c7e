/**
 * The Filters tab: a layer's kernels (or dense matrix) as a picture on a zero-centred diverging
 * colormap, scaled over the whole layer or per filter, with each weight's value under the pointer.
 */
import type { RunnableModel } from '../../../src/engine/graph';
import { layerKernel, weightPicture, type WeightPicture, type WeightScaling } from '../../../src/engine/inspect/weightPicture';
import type { LayerInfo } from '../../../src/engine/model';
import { kernelShapeAsDeclared } from '../../../src/shared/format';
import { field, select } from '../../common/controls';
import { h } from '../../common/dom';
import { createPictureCanvas } from './pictureCanvas';

export interface FiltersView {
  element: HTMLElement;
  show(model: RunnableModel, layer: LayerInfo): Promise<void>;
  canvas(): HTMLCanvasElement;
}

export function createFiltersView(onExport: (canvas: HTMLCanvasElement, name: string) => void): FiltersView {
  let scaling: WeightScaling = 'shared';
  let picture: WeightPicture | undefined;
  let current: { model: RunnableModel; layer: LayerInfo } | undefined;

  const description = h('p', { id: 'filters-description', class: 'description' });
  const legend = h('p', { id: 'filters-legend', class: 'legend' });
  const scalingSelect = select(
    'filters-scaling',
    [
      ['shared', 'Shared across the layer'],
      ['per-filter', 'Per filter'],
    ],
    scaling,
    (value) => {
      scaling = value as WeightScaling;
      if (current) void show(current.model, current.layer);
    },
  );
  const pictureCanvas = createPictureCanvas({
    id: 'filters-canvas',
    label: 'Filter weights',
    describe: (x, y) => picture?.at(x, y)?.label,
  });
  const exportButton = h('button', { class: 'secondary', type: 'button', title: 'Save the filters as a PNG file' }, 'Export PNG');
  exportButton.addEventListener('click', () => current && onExport(pictureCanvas.canvas, `${current.layer.name}-filters.png`));
  const empty = h('p', { id: 'filters-empty', class: 'description', hidden: true });
  const content = h(
    'div',
    {},
    h('div', { class: 'toolbar' }, field('Colour scale', 'filters-scaling', scalingSelect), exportButton),
    description,
    legend,
    pictureCanvas.element,
  );
  const element = h('section', { class: 'filters', 'aria-label': 'Filters' }, empty, content);

  async function show(model: RunnableModel, layer: LayerInfo): Promise<void> {
    current = { model, layer };
    const kernel = layerKernel(model.weights(layer.id), layer);
    if (!kernel) {
      picture = undefined;
      empty.textContent = `${layer.name} (${layer.type}) has no kernel or weight matrix to draw.`;
      empty.hidden = false;
      content.hidden = true;
      return;
    }
    const values = (await kernel.tensor.data()) as Float32Array;
    if (current.layer !== layer) return; // the user moved on meanwhile
    picture = weightPicture({ shape: kernel.tensor.shape, values }, scaling, kernel.depthwise)!;
    empty.hidden = true;
    content.hidden = false;
    const shape = kernelShapeAsDeclared(kernel.tensor.shape, model.summary.format, kernel.depthwise);
    description.textContent = `${picture.description}. Kernel shape [${shape.join(', ')}].`;
    const range =
      scaling === 'per-filter'
        ? `each filter's own largest magnitude (the layer's is ${picture.maxAbs.toPrecision(3)})`
        : `±${picture.maxAbs.toPrecision(3)}`;
    legend.textContent = `Blue is negative, white zero, red positive; full colour at ${range}.`;
    const { width, height, data } = picture.image;
    pictureCanvas.show(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), width, height);
  }

  return { element, show, canvas: () => pictureCanvas.canvas };
}
