/** A model that counts what goes through it: how many images, in how many network runs (the tests' and benchmarks' measure of batching). */
import type * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../../src/engine/graph';

export interface CountingModel {
  model: RunnableModel;
  images(): number;
  runs(): number;
  reset(): void;
}

/** The same model, its first node counting the images and runs it takes. */
export function countingModel(inner: RunnableModel): CountingModel {
  let images = 0;
  let runs = 0;
  const first = inner.nodes.findIndex((node) => node.inputs.includes(inner.inputs[0].id));
  const nodes = inner.nodes.map((node, i) =>
    i === first
      ? {
          ...node,
          run: (inputs: tf.Tensor[]) => {
            images += inputs[0].shape[0];
            runs++;
            return node.run(inputs);
          },
        }
      : node,
  );
  return {
    model: { ...inner, nodes },
    images: () => images,
    runs: () => runs,
    reset: () => {
      images = 0;
      runs = 0;
    },
  };
}
