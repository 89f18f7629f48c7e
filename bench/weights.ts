/**
 * The Statistics tab's cost, as multiples of one forward pass of the same model on the same backend: the
 * loss gradient with respect to every layer's weights; with the model overview (every layer's norms,
 * computed on the device: what choosing an image costs); and with every layer's full statistics and
 * histograms, weights and gradients read back (the tab computes those for the selected layer only).
 */
import * as tf from '@tensorflow/tfjs-core';
import { forwardPass, medianMs } from '../src/cli/timing';
import type { RunnableModel } from '../src/engine/graph';
import { layerOverview, layersWithWeights, weightGradients } from '../src/engine/inspect/weightGradients';
import { tensorStatistics } from '../src/engine/inspect/weightStatistics';
import { table } from './timing';

export interface WeightsBenchModel {
  label: string;
  model: RunnableModel;
}

/** A seeded image-like input of the model's input size. */
function inputFor(model: RunnableModel): tf.Tensor4D {
  const [, height, width, channels] = model.inputs[0].shape;
  return tf.randomUniform([1, height ?? 224, width ?? 224, channels ?? 3], -1, 1, 'float32', 7) as tf.Tensor4D;
}

/** Everything the tab computes when an image is chosen, for every layer at once. */
async function allStatistics(model: RunnableModel, input: tf.Tensor): Promise<void> {
  const gradients = await weightGradients(model, input);
  try {
    await layerOverview(model, gradients);
    for (const [layerId, layerGradients] of gradients.byLayer) {
      for (const tensor of [...model.weights(layerId), ...layerGradients]) if (tensor) await tensorStatistics(tensor);
    }
  } finally {
    gradients.dispose();
  }
}

export async function benchWeights(models: WeightsBenchModel[]): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const { label, model } of models) {
    const input = inputFor(model);
    try {
      const forward = await medianMs(() => forwardPass(model, input));
      const gradient = await medianMs(async () => (await weightGradients(model, input)).dispose());
      const overview = await medianMs(async () => {
        const gradients = await weightGradients(model, input);
        await layerOverview(model, gradients).finally(() => gradients.dispose());
      });
      const statistics = await medianMs(() => allStatistics(model, input));
      rows.push([
        label,
        layersWithWeights(model).length,
        forward.toFixed(1),
        `${(gradient / forward).toFixed(1)}×`,
        `${(overview / forward).toFixed(1)}×`,
        `${(statistics / forward).toFixed(1)}×`,
      ]);
    } finally {
      input.dispose();
    }
  }
  return table(
    [
      'model',
      'layers with weights',
      'forward ms',
      'gradient of every weight',
      'with the overview (what choosing an image costs)',
      'with every statistic and histogram, read back',
    ],
    rows,
  );
}
