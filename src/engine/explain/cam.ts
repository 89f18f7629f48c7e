/**
 * The CAM family, run as the references define them but at a fraction of their cost: the network runs
 * once up to the target layer, and only the part after it is differentiated or re-run (docs/explanations.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Feeds, type SplitModel, splitModel } from '../execute';
import { nativeGradient, nativeOutputs, runForward, runsNatively } from '../nativeForward';
import type { RunnableModel } from '../graph';
import { channelSum, channelWeighted, femWeighted, firstComponentMaps, gradientWeighted } from './camFormulas';
import { finerScores, nearestClasses } from './finerTarget';
import { kernelPcaMaps } from './kernelPca';
import { ACTIVATION_GRADIENT_CAMS, type CamMethod } from './methods';
import type { GradientCam } from './camFormulas';
import { batches, checkpoint, type Progress } from '../progress';
import type { RequestedClasses } from './scores';
import { shapleyWeighted } from './shapleyCam';
import { checkCamHead } from './targetLayer';
import { asTarget, resolveTarget, type Target, targetOutputs, type TargetScore } from './targets';
import { gridToTokens, tokenGridOf, tokensToGrid } from './tokenGrid';

export interface CamOptions {
  /** Images (or ablated activations) per forward pass in Score-CAM and Ablation-CAM. */
  batchSize: number;
  /** The map is the first principal component of the weighted activations instead of their channel sum. */
  eigenSmooth?: boolean;
  progress?: Progress;
}

/**
 * Raw maps [batch, h, w] at the target layer's resolution, for a target (a class request: the requested
 * classes or each image's top one). The target is resolved from the same pass (the rest of the network is
 * cheap to run again). A transformer's token layer is seen as its patch grid (tokenGrid.ts): the prefix
 * tokens ride along unchanged, so every method differentiates, ablates or masks the patches only.
 */
export async function rawCam(
  model: RunnableModel,
  feeds: Feeds,
  method: CamMethod,
  layer: string,
  requested: Target | RequestedClasses,
  options: CamOptions,
): Promise<{ raw: tf.Tensor3D; classIndex: number[]; score: number[] }> {
  const target = asTarget(requested);
  if (method === 'cam') checkCamHead(model, layer);
  if (method === 'finercam' && target.kind !== 'class') throw new Error('Finer-CAM compares classes: it explains class targets only');
  const natively = await nativeCam(model, feeds, method, layer, target, options);
  if (natively) return natively;
  const split = splitModel(model, layer, targetOutputs(model, target));
  const { activation, context } = split.head(feeds);
  const { a, tail } = gridView(split, activation, context);
  let resolved: TargetScore;
  let comparisons: number[][] | undefined;
  try {
    const outputs = tail(a, context);
    try {
      resolved = await resolveTarget(model, outputs, target);
      if (method === 'finercam') comparisons = await nearestClasses(outputs[0], resolved.classIndex);
    } finally {
      tf.dispose(outputs);
    }
  } catch (error) {
    tf.dispose([a, ...context.values()]);
    throw error;
  }
  try {
    const raw = await camFromActivation(a, context, tail, method, resolved, comparisons, model, feeds, options);
    return { raw, classIndex: resolved.classIndex, score: resolved.score };
  } finally {
    resolved.dispose();
  }
}

const ACTIVATION_AND_GRADIENT: ReadonlySet<CamMethod> = new Set(ACTIVATION_GRADIENT_CAMS);

/**
 * A gradient CAM with the activation and its gradient from the native runtime (nativeForward.ts): the
 * forward pass and the backward pass from the outputs to the layer on its threads. Undefined where the
 * model has no native pass or it cannot take this gradient (a token layer, an operator without a
 * backward rule): the engine then runs to the layer and differentiates the rest itself.
 */
async function nativeCam(
  model: RunnableModel,
  feeds: Feeds,
  method: CamMethod,
  layer: string,
  target: Target,
  options: CamOptions,
): Promise<{ raw: tf.Tensor3D; classIndex: number[]; score: number[] } | undefined> {
  const wanted = targetOutputs(model, target);
  if (!ACTIVATION_AND_GRADIENT.has(method) || !runsNatively(model) || wanted.includes(layer)) return undefined;
  const fetched = await nativeOutputs(model, feeds, [layer, ...wanted]);
  if (!fetched) return undefined;
  const [a, ...outputs] = fetched;
  let resolved: TargetScore | undefined;
  let g: tf.Tensor | undefined;
  try {
    if (a.rank !== 4) return undefined;
    const chosen = await resolveTarget(model, outputs, target);
    resolved = chosen;
    g = await nativeGradient(model, feeds, layer, wanted, outputs, (values) => tf.sum(chosen.scores(values, [])));
    if (!g) return undefined;
    const eigen = method === 'eigengradcam';
    const formula: GradientCam = method === 'cam' || eigen ? 'gradcam' : (method as GradientCam);
    const weighted = eigen ? (tf.mul(g, a) as tf.Tensor4D) : gradientWeighted(formula, a as tf.Tensor4D, g as tf.Tensor4D);
    try {
      const raw = eigen || options.eigenSmooth ? await firstComponentMaps(weighted) : channelSum(weighted);
      return { raw, classIndex: chosen.classIndex, score: chosen.score };
    } finally {
      weighted.dispose();
    }
  } finally {
    tf.dispose(g ? [...fetched, g] : fetched);
    resolved?.dispose();
  }
}

/** The rest of the network from the (grid) activation at the cut. */
type Tail = (x: tf.Tensor, context: ReadonlyMap<string, tf.Tensor>) => tf.Tensor[];

/** Where the context keeps a token layer's prefix tokens (class, distillation), repeated with it per image. */
const PREFIX_TOKENS = '\u0000prefix tokens';

/**
 * The activation as the CAM sees it: as it is, or a token layer's patch grid, the prefix tokens kept in
 * the context (so that they follow each image when the context is repeated) and put back by the tail.
 */
function gridView(split: SplitModel, activation: tf.Tensor, context: Map<string, tf.Tensor>): { a: tf.Tensor4D; tail: Tail } {
  const grid = activation.rank === 3 ? tokenGridOf(activation.shape) : undefined;
  if (!grid) return { a: activation as tf.Tensor4D, tail: (x, ctx) => split.tail(x, ctx) };
  const [batch, , channels] = activation.shape;
  if (grid.prefix > 0) context.set(PREFIX_TOKENS, tf.slice(activation, [0, 0, 0], [batch, grid.prefix, channels]));
  const a = tokensToGrid(activation, grid);
  activation.dispose();
  const tail: Tail = (x, ctx) => {
    const tokens = gridToTokens(x as tf.Tensor4D, ctx.get(PREFIX_TOKENS));
    const rest = new Map([...ctx].filter(([id]) => id !== PREFIX_TOKENS));
    try {
      return split.tail(tokens, rest);
    } finally {
      tokens.dispose();
    }
  };
  return { a, tail };
}

async function camFromActivation(
  a: tf.Tensor4D,
  context: Map<string, tf.Tensor>,
  tail: Tail,
  method: CamMethod,
  target: TargetScore,
  comparisons: number[][] | undefined,
  model: RunnableModel,
  feeds: Feeds,
  options: CamOptions,
): Promise<tf.Tensor3D> {
  const score = (x: tf.Tensor, ctx: ReadonlyMap<string, tf.Tensor>, images: readonly number[]) => {
    const outputs = tail(x, ctx);
    try {
      return target.scores(outputs, images);
    } finally {
      tf.dispose(outputs);
    }
  };
  const gradient = (scoreOf: (x: tf.Tensor) => tf.Tensor1D) => tf.grad((x: tf.Tensor) => tf.sum(scoreOf(x)))(a) as tf.Tensor4D;
  // The weighted activations' channel sum, or (eigen smoothing) their first principal component.
  const reduce = async (weighted: tf.Tensor4D, eigenSmooth = options.eigenSmooth === true) => {
    try {
      return eigenSmooth ? await firstComponentMaps(weighted) : channelSum(weighted);
    } finally {
      weighted.dispose();
    }
  };
  try {
    switch (method) {
      case 'eigencam':
        return await firstComponentMaps(a);
      case 'kpcacam':
        return await kernelPcaMaps(a);
      case 'fem':
        // FEM has no eigen smoothing in the library: its map is always the channel sum.
        return await reduce(femWeighted(a), false);
      case 'ablationcam':
        return await reduce(await ablationCam(a, context, score, options));
      case 'scorecam':
        return await reduce(await scoreCam(model, feeds, a, target, options));
      case 'eigengradcam': {
        const g = gradient((x) => score(x, context, []));
        const product = tf.mul(g, a) as tf.Tensor4D;
        g.dispose();
        return await reduce(product, true);
      }
      case 'shapleycam':
        return await reduce(shapleyWeighted(a, (x) => score(x, context, [])));
      default: {
        // CAM is Grad-CAM of the logit when GAP and a linear layer follow (checked above); Finer-CAM is
        // Grad-CAM of its comparison score.
        const g =
          method === 'finercam'
            ? gradient((x) => {
                const [output] = tail(x, context);
                return finerScores(output, target.classIndex, comparisons!);
              })
            : gradient((x) => score(x, context, []));
        const formula = method === 'cam' || method === 'finercam' ? 'gradcam' : method;
        const weighted = gradientWeighted(formula, a, g);
        g.dispose();
        return await reduce(weighted);
      }
    }
  } finally {
    a.dispose();
    tf.dispose([...context.values()]);
  }
}

/** [rows] scores of the rest of the network run from `x`; row i comes from image `images[i]` (see TargetScore). */
type Scorer = (x: tf.Tensor, context: ReadonlyMap<string, tf.Tensor>, images: readonly number[]) => tf.Tensor1D;

/** Context tensors of image `b`, repeated `times` along the batch axis. */
function contextOf(context: ReadonlyMap<string, tf.Tensor>, b: number, times: number): Map<string, tf.Tensor> {
  return new Map([...context].map(([id, t]) => [id, tf.tidy(() => tf.tile(tf.slice(t, b, 1), [times, ...t.shape.slice(1).map(() => 1)]))]));
}

/**
 * Ablation-CAM (pytorch-grad-cam's ablation_cam.py and AblationLayer): each channel of the activation
 * ablated in turn, the rest of the network re-run in batches; weights (y_c − y_c^(k)) / y_c. A channel is
 * ablated to 0 where the image's activation has minimum 0 (after a ReLU), else to that minimum − 1e7.
 * Returns the weighted activations.
 */
async function ablationCam(
  a: tf.Tensor4D,
  context: ReadonlyMap<string, tf.Tensor>,
  score: Scorer,
  options: CamOptions,
): Promise<tf.Tensor4D> {
  const [batch, , , channels] = a.shape;
  const baseScores = score(a, context, []);
  const base = await baseScores.array();
  baseScores.dispose();
  const weights: number[][] = [];
  const chunks = batches(channels, options.batchSize);
  for (let b = 0; b < batch; b++) {
    const ablated: number[] = [];
    const minimum = tf.tidy(() => tf.min(tf.slice(a, b, 1)));
    const lowest = (await minimum.data())[0];
    minimum.dispose();
    const value = lowest === 0 ? 0 : lowest - ABLATION_OFFSET;
    for (const [index, [start, end]] of chunks.entries()) {
      const count = end - start;
      const ctx = contextOf(context, b, count);
      const scores = tf.tidy(() => {
        const ablate = tf.reshape(tf.oneHot(tf.range(start, end, 1, 'int32'), channels), [count, 1, 1, channels]);
        const activations = tf.add(tf.mul(tf.slice(a, b, 1), tf.sub(1, ablate)), tf.mul(ablate, value));
        return score(activations, ctx, [b]);
      });
      ablated.push(...(await scores.data()));
      tf.dispose([scores, ...ctx.values()]);
      await checkpoint(options.progress, b * chunks.length + index + 1, batch * chunks.length);
    }
    // The library divides by the signed score with no epsilon; a score of exactly 0 gives no weights here.
    weights.push(ablated.map((y) => (base[b] === 0 ? 0 : (base[b] - y) / base[b])));
  }
  const w = tf.tensor2d(weights);
  const weighted = channelWeighted(a, w);
  w.dispose();
  return weighted;
}

/** AblationLayer's ABLATION_VALUE: how far below the activation's minimum a channel is set when it is not 0. */
const ABLATION_OFFSET = 1e7;
/** Score-CAM's epsilon in the masks' min-max normalisation (score_cam.py). */
const SCORECAM_EPS = 1e-8;

/**
 * Score-CAM (score_cam.py): the input masked by each channel's activation, upsampled bilinearly with
 * aligned corners (torch's UpsamplingBilinear2d) and min-max normalised (÷ (max − min + 1e-8)), scored by
 * the whole network in batches; weights: the softmax of the scores. Channels whose activation is constant
 * give the same all-zero mask: scored once. Returns the weighted activations.
 */
async function scoreCam(
  model: RunnableModel,
  feeds: Feeds,
  a: tf.Tensor4D,
  target: TargetScore,
  options: CamOptions,
): Promise<tf.Tensor4D> {
  const [inputId, input] = [...feeds][0];
  const [batch, height, width] = input.shape as number[];
  const channels = a.shape[3];
  // Whole forward passes: natively where the platform has a runtime for them (nativeForward.ts).
  const scoreOf = async (x: tf.Tensor, images: readonly number[]) => {
    const outputs = await runForward(model, new Map([...feeds, [inputId, x]]), target.outputs);
    try {
      return tf.tidy(() => target.scores(outputs, images));
    } finally {
      tf.dispose(outputs);
    }
  };
  const weights: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const masks = tf.tidy(() => {
      const up = tf.image.resizeBilinear(tf.slice(a, b, 1), [height, width], true, false);
      const min = tf.min(up, [0, 1, 2], true);
      const max = tf.max(up, [0, 1, 2], true);
      const normalised = tf.div(tf.sub(up, min), tf.add(tf.sub(max, min), SCORECAM_EPS));
      return tf.transpose(tf.squeeze(normalised, [0]), [2, 0, 1]); // [channels, H, W]
    });
    const ranges = tf.tidy(() => tf.sub(tf.max(masks, [1, 2]), tf.min(masks, [1, 2])));
    const varying = Array.from(await ranges.data()).flatMap((r, k) => (r > 0 ? [k] : []));
    ranges.dispose();
    const image = tf.slice(input, b, 1);
    const scores = new Array<number>(channels);
    try {
      if (varying.length < channels) {
        const zeros = tf.zerosLike(image);
        const constant = await scoreOf(zeros, [b]).finally(() => zeros.dispose());
        const value = (await constant.data())[0];
        constant.dispose();
        for (let k = 0; k < channels; k++) scores[k] = value;
      }
      const chunks = batches(varying.length, options.batchSize);
      for (const [index, [start, end]] of chunks.entries()) {
        const masked = tf.tidy(() => {
          const picked = tf.tensor1d(varying.slice(start, end), 'int32');
          return tf.mul(image, tf.expandDims(tf.gather(masks, picked), -1));
        });
        const batchScores = await scoreOf(masked, [b]).finally(() => masked.dispose());
        (await batchScores.data()).forEach((value, i) => (scores[varying[start + i]] = value));
        batchScores.dispose();
        await checkpoint(options.progress, b * chunks.length + index + 1, batch * chunks.length);
      }
    } finally {
      tf.dispose([masks, image]);
    }
    const max = Math.max(...scores);
    const exps = scores.map((s) => Math.exp(s - max));
    const total = exps.reduce((s, v) => s + v, 0);
    weights.push(exps.map((v) => v / total));
  }
  const w = tf.tensor2d(weights);
  const weighted = channelWeighted(a, w);
  w.dispose();
  return weighted;
}
