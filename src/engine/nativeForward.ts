/**
 * Forward passes on a native runtime, where the platform has one. The engine runs every model on
 * TensorFlow.js, which in Node means WebAssembly on one thread; the command line and the benchmarks can
 * also hand an ONNX file to ONNX Runtime's native CPU kernels, 3–7× faster on a ResNet. Only the
 * methods that run the whole network forward (predictions, Score-CAM, occlusion, the folder pass, the
 * faithfulness scores) ask for it, through `runForward`; input gradients (saliency, SmoothGrad,
 * integrated gradients) and gradients at a layer (the CAM family) through `nativeGradient`, the
 * backward pass written as ONNX nodes (readers/onnx/gradientGraph.ts). Where no native runtime is set,
 * or it cannot serve a model or a request, `runForward` is `runGraph` and gradients are TensorFlow.js's.
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
  /** A session on a model's bytes; undefined where it cannot open one. */
  open(bytes: Uint8Array): Promise<NativeSession | undefined>;
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
  /**
   * ∂/∂(tensor `of`: an input or a node's output) of Σ_k ⟨seed_k, output_k⟩ for the outputs `seeds` names
   * (engine ids), stored as the engine stores that tensor, or undefined where it cannot give it.
   */
  gradient(feeds: Feeds, of: string, seeds: ReadonlyMap<string, tf.Tensor>): Promise<tf.Tensor | undefined>;
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

/** The outputs of `wanted` computed natively, or undefined where the model has no native pass or it cannot. The caller owns them. */
export async function nativeOutputs(model: RunnableModel, feeds: Feeds, wanted: readonly string[]): Promise<tf.Tensor[] | undefined> {
  const native = suspended.has(model) ? undefined : natives.get(model);
  return native?.run(feeds, wanted);
}

/**
 * ∂score/∂(tensor `of`: an input, or a layer's output) on the native runtime, given the `outputs` of
 * `wanted` it computed for these feeds: the score's gradient with respect to them on TensorFlow.js (a
 * few numbers), then the backward pass natively — the chain rule, so any score of the outputs is exact.
 * Undefined where it cannot (the caller differentiates on TensorFlow.js). The caller owns the gradient.
 */
export async function nativeGradient(
  model: RunnableModel,
  feeds: Feeds,
  of: string,
  wanted: readonly string[],
  outputs: readonly tf.Tensor[],
  score: (outputs: tf.Tensor[]) => tf.Scalar,
): Promise<tf.Tensor | undefined> {
  const native = suspended.has(model) ? undefined : natives.get(model);
  if (!native || new Set(wanted).size !== wanted.length) return undefined;
  const seeds = tf.grads((...values: tf.Tensor[]) => score(values))([...outputs]);
  try {
    return await native.gradient(feeds, of, new Map(wanted.map((id, k) => [id, seeds[k]])));
  } finally {
    tf.dispose(seeds);
  }
}

/**
 * ∂score/∂(input `inputId`) natively (`nativeGradient`, its outputs computed natively first), or
 * undefined. A score `linear` in the outputs (a sum of class scores) has the same gradient with respect
 * to them whatever they are: once their shapes are known for feeds of these shapes, the forward pass
 * that would give them is skipped and the gradient graph runs alone (SmoothGrad's and integrated
 * gradients' samples: a quarter less work each).
 */
export async function nativeInputGradient(
  model: RunnableModel,
  feeds: Feeds,
  inputId: string,
  wanted: readonly string[],
  score: (outputs: tf.Tensor[]) => tf.Scalar,
  linear = false,
): Promise<tf.Tensor | undefined> {
  const key = linear ? shapesKey(feeds, wanted) : undefined;
  const known = key === undefined ? undefined : outputShapes.get(model)?.get(key);
  const outputs = known ? known.map((shape) => tf.zeros(shape)) : await nativeOutputs(model, feeds, wanted);
  if (!outputs) return undefined;
  if (key !== undefined && !known) rememberShapes(model, key, outputs);
  try {
    return await nativeGradient(model, feeds, inputId, wanted, outputs, score);
  } finally {
    tf.dispose(outputs);
  }
}

/** The shapes of outputs seen natively, by the feeds' shapes and the outputs' ids (a few per model). */
const outputShapes = new WeakMap<RunnableModel, Map<string, number[][]>>();

function shapesKey(feeds: Feeds, wanted: readonly string[]): string {
  return JSON.stringify([[...feeds].map(([id, tensor]) => [id, tensor.shape]), wanted]);
}

function rememberShapes(model: RunnableModel, key: string, outputs: readonly tf.Tensor[]): void {
  const shapes = outputShapes.get(model) ?? new Map<string, number[][]>();
  if (shapes.size >= 16) shapes.clear();
  shapes.set(
    key,
    outputs.map((output) => output.shape),
  );
  outputShapes.set(model, shapes);
}

/** The model's outputs for `feeds` (`predict`, natively where it can). The caller owns them. */
export function forwardToOutputs(model: RunnableModel, feeds: Feeds): Promise<tf.Tensor[]> {
  return runForward(model, feeds, model.outputs);
}
