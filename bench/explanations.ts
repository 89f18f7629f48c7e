/**
 * The cost of each explanation method, and of each faithfulness metric, as a multiple of one plain
 * forward pass of the same model on the same backend, measured in the same run; and tensors alive
 * before and after (they must match).
 */
import * as tf from '@tensorflow/tfjs-core';
import { predict, singleInput } from '../src/engine/execute';
import type { RunnableModel } from '../src/engine/graph';
import { explain } from '../src/engine/explain';
import { METHODS, type Method } from '../src/engine/explain/methods';
import { checkCamHead, defaultTargetLayer } from '../src/engine/explain/targetLayer';
import {
  cascadingRandomisation,
  confidenceChange,
  deletionInsertion,
  layersWithWeights,
  QUICK_PERCENTILES,
  road,
  scoreTensor,
  setImputationThread,
} from '../src/engine/metrics';
import { useImputationThread } from '../src/node/imputationThread';
import { medianMs, table } from './timing';
import { countingModel } from '../test/support/countingModel';

export interface BenchModel {
  label: string;
  model: RunnableModel;
}

/** Options that keep the many-forward methods to their usual settings, batched. */
const REQUEST = { batchSize: 32, smoothGrad: { samples: 25, seed: 1 }, integrated: { steps: 32 } };

/** Prints rows as they are measured (the slow methods take minutes on the CPU) and returns the table. */
export async function benchExplanations(models: BenchModel[], methods: readonly Method[] = METHODS): Promise<string> {
  const rows: (string | number)[][] = [];
  const log = (row: (string | number)[]) => {
    rows.push(row);
    console.error(`  ${row.join('  ')}`);
  };
  for (const { label, model } of models) {
    const [, h, w, c] = model.inputs[0].shape as number[];
    const input = tf.randomUniform([1, h, w, c], 0, 1, 'float32', 5) as tf.Tensor4D;
    const forward = await forwardMs(model, input);
    log([label, 'forward pass', forward.toFixed(1), '1.00', '', '']);
    for (const method of methods) {
      if (method === 'cam' && !supportsCam(model)) continue;
      const before = tf.memory().numTensors;
      const repeats = ['scorecam', 'occlusion', 'smoothgrad', 'integrated'].includes(method) ? 1 : 3;
      const ms = await medianMs(async () => {
        const { maps } = await explain(model, input, { method, ...REQUEST });
        await maps.data();
        maps.dispose();
      }, repeats);
      log([label, method, ms.toFixed(1), (ms / forward).toFixed(2), before, tf.memory().numTensors]);
    }
    input.dispose();
  }
  return table(['model', 'method', 'ms', '× forward', 'tensors before', 'tensors after'], rows);
}

/**
 * Each metric of one Grad-CAM map (gradient saliency where the model has no spatial layer): ROAD at the
 * default 9 percentiles as `convlens evaluate` runs it, ROAD at 5 with the unperturbed score shared (as
 * the Analyze panel's Faithfulness tab runs it), deletion and insertion (RISE's one row per step), the
 * confidence change, and cascading randomisation per randomised layer. "Images" counts what goes
 * through the network; the rest of a metric's time is the CPU's (ROAD's imputation).
 */
export async function benchMetrics(models: BenchModel[], only?: readonly string[]): Promise<string> {
  const rows: (string | number)[][] = [];
  const log = (row: (string | number)[]) => {
    rows.push(row);
    console.error(`  ${row.join('  ')}`);
  };
  for (const { label, model: plain } of models) {
    const counter = countingModel(plain);
    const model = counter.model;
    const inputId = model.inputs[0].id;
    const [, h, w, c] = model.inputs[0].shape as number[];
    const input = tf.randomUniform([1, h, w, c], 0, 1, 'float32', 5) as tf.Tensor4D;
    const forward = await forwardMs(model, input);
    log([label, 'forward pass', forward.toFixed(1), '1.00', 1, '', '']);
    const method: Method = safelyHasCamLayer(model) ? 'gradcam' : 'saliency';
    const explained = await explain(model, input, { method });
    const { maps, classIndex: classes } = explained;
    const base = await scoreTensor(model, inputId, input, classes, 'probability').data();
    const quickRoad = () => road(model, inputId, input, maps, classes, { percentiles: QUICK_PERCENTILES, baseScores: [base[0]] });
    // ROAD's imputations on a second thread (the command line, in Node) and on the network's own.
    const onThreads = (run: () => Promise<unknown>) => () => (useImputationThread(), run());
    const onOneThread = (run: () => Promise<unknown>) => () => (setImputationThread(undefined), run());
    const metrics: [string, number, () => Promise<unknown>][] = [
      ['ROAD, 9 percentiles', 1, onThreads(() => road(model, inputId, input, maps, classes))],
      ['ROAD, 5 percentiles, score shared', 1, onThreads(quickRoad)],
      ['ROAD, 5 percentiles, score shared, one thread', 1, onOneThread(quickRoad)],
      ['deletion', 1, () => deletionInsertion(model, inputId, 'deletion', input, maps, classes)],
      ['insertion', 1, () => deletionInsertion(model, inputId, 'insertion', input, maps, classes)],
      ['confidence change', 1, () => confidenceChange(model, inputId, input, maps, classes)],
    ];
    const layers = layersWithWeights(model).length;
    metrics.push([
      `randomisation (${method}), per layer of ${layers}`,
      layers,
      () =>
        cascadingRandomisation(model, input, { [method]: async () => (await explain(model, input, { method, classIndex: classes })).maps }),
    ]);
    for (const [name, per, run] of metrics) {
      if (only && !only.some((word) => name.toLowerCase().startsWith(word.toLowerCase()))) continue;
      const before = tf.memory().numTensors;
      counter.reset();
      await run();
      const images = counter.images() / per;
      const ms = (await medianMs(run, name.startsWith('randomisation') ? 1 : 3)) / per;
      log([label, name, ms.toFixed(1), (ms / forward).toFixed(2), Number(images.toFixed(1)), before, tf.memory().numTensors]);
    }
    tf.dispose([input, maps]);
  }
  return table(['model', 'metric', 'ms', '× forward', 'images', 'tensors before', 'tensors after'], rows);
}

function safelyHasCamLayer(model: RunnableModel): boolean {
  try {
    defaultTargetLayer(model);
    return true;
  } catch {
    return false;
  }
}

/** CAM applies where the default target layer is followed by global pooling and a linear classifier. */
function supportsCam(model: RunnableModel): boolean {
  try {
    checkCamHead(model, defaultTargetLayer(model));
    return true;
  } catch {
    return false;
  }
}

/** The median time of one forward pass on `input`, read back to the host (5 runs). */
function forwardMs(model: RunnableModel, input: tf.Tensor4D): Promise<number> {
  return medianMs(async () => {
    const outputs = predict(model, singleInput(model, input));
    await outputs[0].data();
    tf.dispose(outputs);
  }, 5);
}
