/**
 * One entry point for every explanation method: picks the target (the top class by default, or a
 * segmentation class, a detection, an output unit, a likeness: targets.ts) and the layer
 * (suggestTargetLayer), runs the method, and returns maps in [0, 1] at the input's resolution, one per image.
 */
import * as tf from '@tensorflow/tfjs-core';
// The gradients of every op: registered apart from the ops themselves.
import '../gradients';
import { type Feeds, singleInput } from '../execute';
import { runForward } from '../nativeForward';
import type { RunnableModel } from '../graph';
import { rawCam } from './cam';
import { augmentationSmoothed } from './camSmoothing';
import { fullGrad } from './fullGrad';
import { guidedGradCam } from './guidedGradCam';
import {
  channelMaxOfAbs,
  deconvnet,
  deconvnetGradient,
  guidedBackprop,
  guidedGradient,
  inputGradient,
  integratedGradients,
  type IntegratedOptions,
  saliency,
  smoothGrad,
  type SmoothGradOptions,
} from './inputGradients';
import { isCamMethod, METHOD_LABELS, type Method } from './methods';
import { occlusion } from './occlusion';
import { finishCam, normaliseByMax } from './postprocess';
import type { Progress } from '../progress';
import { type RequestedClasses, resolveClasses, scoreNode } from './scores';
import { checkTargetLayer, defaultTargetLayer } from './targetLayer';
import { resolveTarget, type Target, targetOutputs } from './targets';

export interface ExplainRequest {
  method: Method;
  /** Target layer for the CAM family; the last spatial layer by default. */
  layer?: string;
  /** One class for every image, or one per image; the top prediction by default. */
  classIndex?: number | readonly number[];
  /** What is explained, when not a class score (targets.ts); `classIndex` is the `class` target. */
  target?: Target;
  /** Forward passes batched together in the many-forward methods; by default `defaultBatchSize`. */
  batchSize?: number;
  smoothGrad?: { samples?: number; level?: number; noise?: tf.Tensor4D; seed?: number };
  integrated?: { steps?: number; baseline?: tf.Tensor };
  occlusion?: { window?: number; stride?: number };
  /** CAM family: the mean map over pytorch-grad-cam's test-time augmentations (six passes). */
  augSmooth?: boolean;
  /** CAM family: the first principal component of the weighted activations instead of their sum. */
  eigenSmooth?: boolean;
  progress?: Progress;
}

export interface Explanation {
  method: Method;
  /** The target layer (CAM family only). */
  layer?: string;
  /** The class each image's map explains; −1 where the target has no class (`output`, `like`). */
  classIndex: number[];
  /** The explained score of each image (the logit where the model ends in a softmax). */
  score: number[];
  /** [batch, height, width], values in [0, 1]. The caller disposes it. */
  maps: tf.Tensor3D;
}

export async function explain(model: RunnableModel, input: tf.Tensor4D, request: ExplainRequest): Promise<Explanation> {
  const feeds = singleInput(model, input);
  const [batch, height, width] = input.shape;
  const batchSize = request.batchSize ?? defaultBatchSize(tf.getBackend(), height * width);
  const progress = request.progress;
  const target = request.target?.kind === 'class' ? undefined : request.target;
  const requested = request.target?.kind === 'class' ? request.target.index : request.classIndex;

  if (isCamMethod(request.method)) {
    const method = request.method;
    const layer = request.layer ?? defaultTargetLayer(model);
    checkTargetLayer(model, layer);
    const camMaps = async (x: tf.Tensor4D, classes: Target | RequestedClasses, camProgress: Progress | undefined) => {
      const options = { batchSize, progress: camProgress, eigenSmooth: request.eigenSmooth };
      const { raw, classIndex, score } = await rawCam(model, singleInput(model, x), method, layer, classes, options);
      const maps = finishCam(raw, height, width);
      raw.dispose();
      return { maps, classIndex, score };
    };
    if (!request.augSmooth) return { method, layer, ...(await camMaps(input, target ?? requested, progress)) };
    // Every augmented copy explains the class of the original image (other targets: the target as given).
    const resolved = await resolveOnce(model, feeds, target ?? { kind: 'class', index: requested });
    const explained = target ?? resolved.classIndex;
    const maps = await augmentationSmoothed(input, async (x, p) => (await camMaps(x, explained, p)).maps, progress);
    return { method, layer, classIndex: resolved.classIndex, score: resolved.score, maps };
  }
  if (request.augSmooth || request.eigenSmooth) {
    throw new Error('test-time augmentation and eigen smoothing apply to the CAM family only');
  }

  if (target)
    return { method: request.method, ...(await targetInputMaps(model, feeds, input, target, request.method, request, batchSize)) };

  if (request.method === 'guidedgradcam') {
    const layer = request.layer ?? defaultTargetLayer(model);
    checkTargetLayer(model, layer);
    const { raw, classIndex, score } = await guidedGradCam(model, feeds, input, layer, requested, { batchSize, progress });
    return { method: request.method, layer, classIndex, score, maps: finishInputMap(raw, batch) };
  }

  if (request.method === 'fullgrad') {
    // Min-max scaled already, as pytorch-grad-cam scales it.
    return { method: request.method, ...(await fullGrad(model, feeds, input, requested)) };
  }

  if (request.method === 'saliency' || request.method === 'guided' || request.method === 'deconvnet') {
    // The class is read from the same forward pass as the gradient.
    const gradientMap = { saliency, guided: guidedBackprop, deconvnet }[request.method];
    const { raw, classIndex, score } = await gradientMap(model, feeds, input, requested);
    return { method: request.method, classIndex, score, maps: finishInputMap(raw, batch) };
  }

  const [output] = await runForward(model, feeds, [scoreNode(model)]);
  const { classIndex, score } = await resolveClasses(output, requested).finally(() => output.dispose());
  let raw: tf.Tensor3D;
  switch (request.method) {
    case 'smoothgrad':
      raw = await smoothGrad(model, feeds, input, classIndex, smoothGradOptions(request, batchSize));
      break;
    case 'integrated':
      raw = await integratedGradients(model, feeds, input, classIndex, integratedOptions(request, batchSize));
      break;
    case 'occlusion':
      raw = await occlusion(model, feeds, input, classIndex, { ...request.occlusion, batchSize, progress });
      break;
  }
  return { method: request.method, classIndex, score, maps: finishInputMap(raw, batch) };
}

/**
 * Images per forward pass in the many-forward methods. On WebAssembly a batch costs what its images cost
 * one by one, and its memory (a 32-bit heap of at most 4 GB, never returned) runs out first: SmoothGrad
 * on a 224×224 MobileNetV2 in batches of 32 exhausted it, so 224×224 inputs go 5 at a time. WebGL and the
 * CPU backend keep batches of 32.
 */
export function defaultBatchSize(backend: string, pixels: number): number {
  if (backend !== 'wasm') return 32;
  return Math.min(32, Math.max(1, Math.floor(2 ** 18 / pixels)));
}

/** An input-space map scaled to [0, 1] by its maximum; frees the raw map. */
function finishInputMap(raw: tf.Tensor3D, batch: number): tf.Tensor3D {
  const maps = normaliseByMax(raw);
  raw.dispose();
  if (maps.shape[0] !== batch) throw new Error('internal: one map per image expected');
  return maps;
}

/** The target's classes and scores from one forward pass. */
async function resolveOnce(model: RunnableModel, feeds: Feeds, target: Target): Promise<{ classIndex: number[]; score: number[] }> {
  const outputs = await runForward(model, feeds, targetOutputs(model, target));
  try {
    const resolved = await resolveTarget(model, outputs, target);
    resolved.dispose();
    return { classIndex: resolved.classIndex, score: resolved.score };
  } finally {
    tf.dispose(outputs);
  }
}

function smoothGradOptions(request: ExplainRequest, batchSize: number): SmoothGradOptions {
  return {
    samples: request.smoothGrad?.samples ?? request.smoothGrad?.noise?.shape[0] ?? 25,
    level: request.smoothGrad?.level ?? 0.15,
    noise: request.smoothGrad?.noise,
    seed: request.smoothGrad?.seed,
    batchSize,
    progress: request.progress,
  };
}

function integratedOptions(request: ExplainRequest, batchSize: number): IntegratedOptions {
  return { steps: request.integrated?.steps ?? 32, baseline: request.integrated?.baseline, batchSize, progress: request.progress };
}

/** The gradient methods for a target other than a class: the target resolved once, then differentiated. */
async function targetInputMaps(
  model: RunnableModel,
  feeds: Feeds,
  input: tf.Tensor4D,
  target: Target,
  method: Method,
  request: ExplainRequest,
  batchSize: number,
): Promise<Omit<Explanation, 'method'>> {
  const outputs = await runForward(model, feeds, targetOutputs(model, target));
  const resolved = await resolveTarget(model, outputs, target).finally(() => tf.dispose(outputs));
  try {
    let raw: tf.Tensor3D;
    switch (method) {
      case 'saliency':
      case 'guided':
      case 'deconvnet': {
        const gradientOf = { saliency: inputGradient, guided: guidedGradient, deconvnet: deconvnetGradient }[method];
        raw = channelMaxOfAbs({ gradient: gradientOf(model, feeds, input, resolved), classIndex: [], score: [] }).raw;
        break;
      }
      case 'smoothgrad':
        raw = await smoothGrad(model, feeds, input, resolved, smoothGradOptions(request, batchSize));
        break;
      case 'integrated':
        raw = await integratedGradients(model, feeds, input, resolved, integratedOptions(request, batchSize));
        break;
      default:
        throw new Error(`${METHOD_LABELS[method]} explains class scores only; choose a CAM or gradient method for this target`);
    }
    return { classIndex: resolved.classIndex, score: resolved.score, maps: finishInputMap(raw, input.shape[0]) };
  } finally {
    resolved.dispose();
  }
}
