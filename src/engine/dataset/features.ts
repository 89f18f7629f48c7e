/**
 * Features of a folder of images, computed in batches: each image's feature vector at a layer (spatial
 * layers averaged over space, as a global average pooling would), the model's prediction, and for the
 * "maximally activating patches" view each channel's peak value and where it occurs.
 *
 * Only these small per-image summaries are kept, never activations, so memory grows with the number of
 * images times the feature width, whatever the layer's spatial size.
 */
import * as tf from '@tensorflow/tfjs-core';
import { singleInput } from '../execute';
import { runForward } from '../nativeForward';
import { nodeIndex, type RunnableModel } from '../graph';
import { checkpoint, type Progress } from '../progress';
import { rankScores } from '../predictions';

/** The classifier's input: the features a network's last layer reads ("penultimate layer"). */
export function defaultFeatureLayer(model: RunnableModel): string {
  const byId = nodeIndex(model);
  let id = model.logits ?? model.outputs[0];
  for (let hops = 0; hops < 8; hops++) {
    const node = byId.get(id);
    if (!node || node.inputs.length !== 1) break;
    const input = node.inputs[0];
    if (/^(dense|matmul|gemm|_?fusedmatmul|conv2d|conv)$/i.test(node.type ?? '') && byId.has(input)) return skipPassThrough(model, input);
    id = input;
  }
  throw new Error('the model has no single classifier layer to read features before; choose a layer');
}

/** Dropout and the like copy their input at inference: report the layer that computed the features. */
function skipPassThrough(model: RunnableModel, id: string): string {
  const byId = nodeIndex(model);
  let node = byId.get(id);
  while (node && /^(dropout|spatialdropout2d|gaussiannoise|identity)$/i.test(node.type ?? '') && byId.has(node.inputs[0])) {
    node = byId.get(node.inputs[0]);
  }
  return node?.id ?? id;
}

export interface BatchSummary {
  /** batch × dim feature vectors. */
  features: Float32Array;
  dim: number;
  /** The model's first output, batch × classes. */
  scores: Float32Array;
  classCount: number;
  /** Per image and channel of `peakLayer`: the largest activation, and its flat position y·width + x. */
  peaks?: { values: Float32Array; positions: Int32Array; channels: number; height: number; width: number };
}

/** One batch through the model, once: features at `featureLayer`, scores, and channel peaks at `peakLayer`. */
export async function summariseBatch(
  model: RunnableModel,
  input: tf.Tensor4D,
  featureLayer: string,
  peakLayer?: string,
): Promise<BatchSummary> {
  const wanted = [featureLayer, model.outputs[0], ...(peakLayer ? [peakLayer] : [])];
  // One whole forward pass: natively where the platform has a runtime for it (nativeForward.ts).
  const outputs = await runForward(model, singleInput(model, input), wanted);
  const computed = disposingAfter(outputs, () => {
    const [feature, output, peak] = outputs;
    const batch = input.shape[0];
    const pooled = feature.rank === 4 ? tf.mean(feature, [1, 2]) : tf.reshape(feature, [batch, -1]);
    const scores = tf.reshape(output, [batch, -1]);
    if (!peak) return { pooled, scores };
    if (peak.rank !== 4) throw new Error(`layer "${peakLayer}" has no spatial channels (its output is ${peak.rank}-D)`);
    const [, height, width, channels] = peak.shape;
    const flat = tf.reshape(peak, [batch, height * width, channels]);
    return { pooled, scores, peakValues: tf.max(flat, 1), peakPositions: tf.argMax(flat, 1), size: [height, width, channels] };
  });
  try {
    const [features, scores, values, positions] = await Promise.all([
      computed.pooled.data() as Promise<Float32Array>,
      computed.scores.data() as Promise<Float32Array>,
      computed.peakValues?.data() as Promise<Float32Array> | undefined,
      computed.peakPositions?.data() as Promise<Int32Array> | undefined,
    ]);
    const batch = input.shape[0];
    const summary: BatchSummary = { features, dim: features.length / batch, scores, classCount: scores.length / batch };
    if (values && positions && computed.size) {
      const [height, width, channels] = computed.size;
      summary.peaks = { values, positions, channels, height, width };
    }
    return summary;
  } finally {
    tf.dispose(
      [computed.pooled, computed.scores, computed.peakValues, computed.peakPositions].filter((t): t is tf.Tensor => t !== undefined),
    );
  }
}

/** Everything the dataset views need, for every image of the folder. */
export interface FolderFeatures {
  count: number;
  featureLayer: string;
  /** count × dim. */
  features: Float32Array;
  dim: number;
  /** The predicted class of each image and its probability (softmax of the scores unless they already are one). */
  predicted: Int32Array;
  confidence: Float32Array;
  peakLayer?: string;
  peaks?: { values: Float32Array; positions: Int32Array; channels: number; height: number; width: number };
}

/**
 * A folder pass: `count` images, read as model-ready batches (`loadBatch`: the caller's decoding and
 * preprocessing) or summarised elsewhere (`summarise`: the extension host's native runtime, for a webview).
 */
export type AnalyseOptions = PassOptions &
  (
    | { loadBatch(start: number, end: number): Promise<tf.Tensor4D>; summarise?: never }
    | { summarise(start: number, end: number): Promise<BatchSummary>; loadBatch?: never }
  );

interface PassOptions {
  count: number;
  featureLayer: string;
  peakLayer?: string;
  batchSize?: number;
  progress?: Progress;
}

/**
 * Images per batch of a folder pass on a TensorFlow.js backend, for inputs of `pixels` (height × width).
 * On WebAssembly (one thread), measured in Node: 28×28 images ran at 1,650 images/s in batches of 16
 * and 2,200–2,500 from 32 to 128; 224×224 ones through ResNet-18 at the same speed in batches of 1 to
 * 32, where a larger batch only holds more activations. WebGL wants large batches (a program per op,
 * not per image); the CPU backend keeps the 16 it had.
 */
export function folderBatchSize(backend: string, pixels: number): number {
  if (backend === 'webgl') return 64;
  // ONNX Runtime's CPU kernels (the extension host's native pass): 16 images of 224×224 each, whose
  // decoding overlaps the run of the batch before.
  if (backend === 'native') return Math.min(64, Math.max(1, Math.round((16 * 224 * 224) / pixels)));
  if (backend === 'wasm') return Math.min(64, Math.max(4, Math.floor(2 ** 16 / pixels)));
  return 16;
}

/** Streams the folder through the model in batches, keeping only the per-image summaries. */
export async function analyseFolder(model: RunnableModel, options: AnalyseOptions): Promise<FolderFeatures> {
  const { count, featureLayer, peakLayer } = options;
  const batchSize = options.batchSize ?? 32;
  let result: FolderFeatures | undefined;
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const summary = options.summarise ? await options.summarise(start, end) : await loadAndSummarise(model, options, start, end);
    result ??= allocate(count, featureLayer, summary, peakLayer);
    result.features.set(summary.features, start * summary.dim);
    for (let b = 0; b < end - start; b++) {
      const [best] = rankScores(summary.scores.subarray(b * summary.classCount, (b + 1) * summary.classCount), 1);
      result.predicted[start + b] = best.index;
      result.confidence[start + b] = best.probability;
    }
    if (summary.peaks && result.peaks) {
      result.peaks.values.set(summary.peaks.values, start * summary.peaks.channels);
      result.peaks.positions.set(summary.peaks.positions, start * summary.peaks.channels);
    }
    await checkpoint(options.progress, end, count);
  }
  if (!result) throw new Error('the folder has no images');
  return result;
}

async function loadAndSummarise(
  model: RunnableModel,
  options: PassOptions & { loadBatch(start: number, end: number): Promise<tf.Tensor4D> },
  start: number,
  end: number,
): Promise<BatchSummary> {
  const input = await options.loadBatch(start, end);
  try {
    return await summariseBatch(model, input, options.featureLayer, options.peakLayer);
  } finally {
    input.dispose();
  }
}

function allocate(count: number, featureLayer: string, first: BatchSummary, peakLayer: string | undefined): FolderFeatures {
  const peaks = first.peaks && {
    values: new Float32Array(count * first.peaks.channels),
    positions: new Int32Array(count * first.peaks.channels),
    channels: first.peaks.channels,
    height: first.peaks.height,
    width: first.peaks.width,
  };
  return {
    count,
    featureLayer,
    features: new Float32Array(count * first.dim),
    dim: first.dim,
    predicted: new Int32Array(count),
    confidence: new Float32Array(count),
    ...(peaks ? { peakLayer, peaks } : {}),
  };
}

/** `compute` in a tidy scope, then `inputs` freed, whether it succeeded or not. */
function disposingAfter<T extends tf.TensorContainer>(inputs: tf.Tensor[], compute: () => T): T {
  try {
    return tf.tidy(compute);
  } finally {
    tf.dispose(inputs);
  }
}
