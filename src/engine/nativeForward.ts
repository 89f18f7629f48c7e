/**
 * Forward passes on a native runtime, where the platform has one. The engine runs every model on
 * TensorFlow.js, which in Node means WebAssembly on one thread; the command line and the benchmarks can
 * also hand an ONNX file to ONNX Runtime's native CPU kernels, 3–7× faster on a ResNet. Only the
 * methods that run the whole network forward (predictions, Score-CAM, occlusion, the folder pass, the
 * faithfulness scores) ask for it, through `runForward`; gradients stay on TensorFlow.js. Where no
 * native runtime is set, or it cannot serve a model or a request, `runForward` is `runGraph`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, type Feeds } from './execute';
import type { RunnableModel } from './graph';

/** A float32 array with its shape, as it crosses to and from the native runtime. */
export interface NativeTensor {
  data: Float32Array;
  dims: number[];
}

/** An ONNX model opened by the native runtime, its outputs chosen when it was opened. */
export interface NativeSession {
  run(feeds: Record<string, NativeTensor>, outputs: readonly string[]): Promise<Record<string, NativeTensor>>;
  release(): Promise<void> | void;
}

/** Opens ONNX models on the platform's native runtime. */
export interface NativeRuntime {
  /** A session on the model's bytes with `extraOutputs` (tensor names) as graph outputs too; undefined where it cannot. */
  open(bytes: Uint8Array, extraOutputs: readonly string[]): Promise<NativeSession | undefined>;
}

let runtime: NativeRuntime | undefined;

/** Sets (or, with undefined, clears) the native runtime the readers may use for models they load from now on. */
export function setNativeRuntime(next: NativeRuntime | undefined): void {
  runtime = next;
}

export function nativeRuntime(): NativeRuntime | undefined {
  return runtime;
}

/** What a reader gives for a model the native runtime can run. */
export interface NativeForward {
  /** The outputs of `wanted`, stored as the engine stores them, or undefined where it cannot give them. */
  run(feeds: Feeds, wanted: readonly string[]): Promise<tf.Tensor[] | undefined>;
  dispose(): void;
}

const natives = new WeakMap<RunnableModel, NativeForward>();
const suspended = new WeakSet<RunnableModel>();

/** Registers the native forward pass of a model; freed with the model. */
export function attachNativeForward(model: RunnableModel, native: NativeForward): RunnableModel {
  natives.set(model, native);
  const dispose = model.dispose.bind(model);
  model.dispose = () => {
    natives.delete(model);
    native.dispose();
    dispose();
  };
  return model;
}

/** Whether forward passes of `model` run natively now. */
export function runsNatively(model: RunnableModel): boolean {
  return natives.has(model) && !suspended.has(model);
}

/**
 * Runs `work` with the model on TensorFlow.js alone: for code that changes the model's weights in place
 * (the randomisation checks), which the native runtime's own copy would not see.
 */
export async function withoutNativeForward<T>(model: RunnableModel, work: () => Promise<T>): Promise<T> {
  const already = suspended.has(model);
  suspended.add(model);
  try {
    return await work();
  } finally {
    if (!already) suspended.delete(model);
  }
}

/** The outputs of `wanted` for `feeds`, natively where the model allows it, else by `runGraph`. The caller owns them. */
export async function runForward(model: RunnableModel, feeds: Feeds, wanted: readonly string[]): Promise<tf.Tensor[]> {
  const native = suspended.has(model) ? undefined : natives.get(model);
  const outputs = native ? await native.run(feeds, wanted) : undefined;
  return outputs ?? runGraph(model, feeds, wanted);
}

/** The model's outputs for `feeds` (`predict`, natively where it can). The caller owns them. */
export function forwardToOutputs(model: RunnableModel, feeds: Feeds): Promise<tf.Tensor[]> {
  return runForward(model, feeds, model.outputs);
}
