/**
 * The cost of each explanation method as a multiple of one plain forward pass of the same model on the
 * same backend, measured in the same run; and tensors alive before and after (they must match).
 */
import * as tf from '@tensorflow/tfjs-core';
import { predict, singleInput } from '../src/engine/execute';
import type { RunnableModel } from '../src/engine/graph';
import { explain } from '../src/engine/explain';
import { METHODS, type Method } from '../src/engine/explain/methods';
import { checkCamHead, defaultTargetLayer } from '../src/engine/explain/targetLayer';
import { medianMs, table } from './timing';

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
    const forward = await medianMs(async () => {
      const outputs = predict(model, singleInput(model, input));
      await outputs[0].data();
      tf.dispose(outputs);
    }, 5);
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

/** CAM applies where the default target layer is followed by global pooling and a linear classifier. */
function supportsCam(model: RunnableModel): boolean {
  try {
    checkCamHead(model, defaultTargetLayer(model));
    return true;
  } catch {
    return false;
  }
}
