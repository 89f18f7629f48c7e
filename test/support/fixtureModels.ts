/** The small ONNX fixtures and their inputs, as the numerical tests load them. */
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../../src/engine/graph';
import { setNativeRuntime } from '../../src/engine/nativeForward';
import { parseNpy } from '../../src/engine/npy';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { loadOnnxRuntime } from '../../src/node/onnxRuntime';
import { useNodeBackend } from '../../src/node/tfBackend';

/** A .npy batch of images saved NCHW (as PyTorch holds them), as the NHWC tensor the engine takes. */
export function readNchwAsNhwc(file: string): tf.Tensor4D {
  const { shape, data } = parseNpy(new Uint8Array(readFileSync(file)));
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/**
 * Call inside a suite: the model and its NCHW input are loaded before the suite's tests and freed after
 * them; with `onNativeRuntime`, loaded as the command line loads it, with ONNX Runtime (one thread).
 */
export function fixtureModel(modelFile: string, inputFile: string, onNativeRuntime = false): { model: RunnableModel; input: tf.Tensor4D } {
  const loaded = {} as { model: RunnableModel; input: tf.Tensor4D };
  before(async () => {
    await useNodeBackend();
    if (onNativeRuntime) {
      const runtime = await loadOnnxRuntime(1);
      if (!runtime) throw new Error('onnxruntime-node does not load (it is a dependency)');
      setNativeRuntime(runtime);
    }
    try {
      loaded.model = await loadModel(fileModelSource(modelFile));
    } finally {
      setNativeRuntime(undefined);
    }
    loaded.input = readNchwAsNhwc(inputFile);
  });
  after(() => {
    loaded.input?.dispose();
    loaded.model?.dispose();
  });
  return loaded;
}
