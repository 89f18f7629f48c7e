/**
 * Beside a zoomed feature map: what in the image drives that channel, projected back to pixels by the
 * deconvnet (Zeiler & Fergus 2014) — from the channel's strongest position, as the paper shows it, or
 * from the whole channel. Drawn as pytorch-grad-cam draws gradients (deprocess_image).
 */
import * as tf from '@tensorflow/tfjs-core';
import { projectFeature, type ProjectedUnit } from '../../../src/engine/explain/featureProjection';
import type { RunnableModel } from '../../../src/engine/graph';
import type { LayerInfo } from '../../../src/engine/model';
import { gradientImage } from '../../../src/engine/render/overlay';
import { field, select } from '../../common/controls';
import { h } from '../../common/dom';
import { paint } from '../../common/images';

export interface ProjectionView {
  element: HTMLElement;
  show(model: RunnableModel, input: tf.Tensor4D, layer: LayerInfo, channel: number): Promise<void>;
  clear(): void;
}

export function createProjectionView(): ProjectionView {
  let unit: ProjectedUnit = 'max';
  let last: Parameters<ProjectionView['show']> | undefined;
  /** Counts requests, so a projection that finishes after the user moved on is dropped. */
  let generation = 0;
  const canvas = h('canvas', { id: 'projection-canvas', class: 'projection-canvas', role: 'img', 'aria-label': 'Projection to pixels' });
  const caption = h('p', { id: 'projection-caption', class: 'description' });
  const element = h(
    'figure',
    { id: 'projection', class: 'projection', hidden: true },
    h(
      'div',
      { class: 'toolbar' },
      field(
        'Project',
        'projection-unit',
        select(
          'projection-unit',
          [
            ['max', 'Strongest position'],
            ['sum', 'Whole channel'],
          ],
          unit,
          (value) => {
            unit = value as ProjectedUnit;
            if (last) void show(...last);
          },
        ),
      ),
    ),
    canvas,
    h('figcaption', {}, caption),
  );

  async function show(model: RunnableModel, input: tf.Tensor4D, layer: LayerInfo, channel: number): Promise<void> {
    last = [model, input, layer, channel];
    const mine = ++generation;
    element.hidden = false;
    caption.textContent = `Projecting channel ${channel} of ${layer.name} to pixels…`;
    try {
      const { maps, signal, positions } = await projectFeature(model, input, layer.id, channel, { unit });
      const [, height, width, channels] = signal.shape;
      const values = await signal.data().finally(() => tf.dispose([maps, signal]));
      if (mine !== generation) return;
      paint(canvas, gradientImage(values, width, height, channels));
      const from = positions ? `its strongest position (row ${positions[0][0]}, column ${positions[0][1]})` : 'the whole channel';
      caption.textContent = `Deconvnet projection of channel ${channel} from ${from}: the pixels that drive it in this image.`;
    } catch (error) {
      if (mine !== generation) return;
      caption.textContent = `Channel ${channel} cannot be projected to pixels: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  return {
    element,
    show,
    clear() {
      generation++;
      last = undefined;
      element.hidden = true;
    },
  };
}
