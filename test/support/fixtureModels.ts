/** The small ONNX fixtures and their inputs, as the numerical tests load them. */
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../../src/engine/graph';
import { parseNpy } from '../../src/engine/npy';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';

/** A .npy batch of images saved NCHW (as PyTorch holds them), as the NHWC tensor the engine takes. */
export function readNchwAsNhwc(file: string): tf.Tensor4D {
  const { shape, data } = parseNpy(new Uint8Array(readFileSync(file)));
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** Call inside a suite: the model and its NCHW input are loaded before the suite's tests and freed after them. */
export function fixtureModel(modelFile: string, inputFile: string): { model: RunnableModel; input: tf.Tensor4D } {
  const loaded = {} as { model: RunnableModel; input: tf.Tensor4D };
  before(async () => {
    await useNodeBackend();
    loaded.model = await loadModel(fileModelSource(modelFile));
    loaded.input = readNchwAsNhwc(inputFile);
  });
  after(() => {
    loaded.input?.dispose();
    loaded.model?.dispose();
  });
  return loaded;
}
