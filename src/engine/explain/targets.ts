/**
 * What an explanation explains: a class score, a segmentation class over its pixels, one detection, any
 * unit of any output, or the likeness to a reference embedding. Each target becomes a differentiable
 * score per image (docs/explanations.md, "Targets"), as pytorch-grad-cam's model targets define them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../graph';
import { walkLayers } from '../model';
import { classScores, type RequestedClasses, resolveClasses, scoreNode } from './scores';

/** A boolean mask over the segmentation output's pixels, row-major, the same for every image. */
export interface PixelRegion {
  height: number;
  width: number;
  /** `height × width` values; non-zero marks a pixel of the region. */
  mask: ArrayLike<number | boolean>;
}

export type Target =
  /** The class's score (the logit where the model ends in a softmax); each image's top class by default. */
  | { kind: 'class'; index?: number | readonly number[] }
  /**
   * A segmentation class's score summed over a region of the output's pixels: those the model assigns to
   * the class (`predicted`, the default) or a given mask (pytorch-grad-cam's SemanticSegmentationTarget).
   */
  | { kind: 'segmentation'; classIndex: number; region?: 'predicted' | PixelRegion }
  /** One unit of one output: a flat index or one index per axis, batch excluded, in the file's axis order. */
  | { kind: 'output'; output?: string; index: number | readonly number[] }
  /** One anchor's class logit in a detection head, plus the sum of its four box regressions with `withBox`. */
  | { kind: 'detection'; anchor: number; classIndex: number; withBox?: boolean }
  /** The cosine similarity of the output (or the named one) to a reference embedding. */
  | { kind: 'like'; embedding: Float32Array; output?: string };

/** A target made concrete for one batch: its score as a function of the model's outputs. */
export interface TargetScore {
  /** Node ids of the outputs `scores` reads, in that order. */
  outputs: string[];
  /** Per image: the class explained (−1 where the target has none), and the score. */
  classIndex: number[];
  score: number[];
  /**
   * [rows] differentiable scores of outputs computed for a batch whose row i comes from image
   * `images[i]` (one entry: every row comes from that image).
   */
  scores(outputs: readonly tf.Tensor[], images: readonly number[]): tf.Tensor1D;
  /** Frees the tensors the target holds (segmentation masks). */
  dispose(): void;
}

/** The class target of a bare class request: what `classIndex` has always meant. */
export function asTarget(requested: Target | RequestedClasses): Target {
  if (requested !== undefined && typeof requested === 'object' && 'kind' in requested) return requested;
  return { kind: 'class', index: requested as RequestedClasses };
}

/** The output nodes the target's score reads. */
export function targetOutputs(model: RunnableModel, target: Target): string[] {
  switch (target.kind) {
    case 'class':
    case 'segmentation':
      return [scoreNode(model)];
    case 'detection':
      return detectionOutputs(model).ids;
    case 'output':
    case 'like':
      return [target.output === undefined ? scoreNode(model) : outputNode(model, target.output)];
  }
}

/**
 * The target's score function for this batch, resolved from the outputs computed for it (`outputs`, as
 * `targetOutputs` lists them): the top class where none is given, the predicted masks.
 */
export async function resolveTarget(model: RunnableModel, outputs: readonly tf.Tensor[], target: Target): Promise<TargetScore> {
  const ids = targetOutputs(model, target);
  const batch = outputs[0].shape[0]!;
  const scoresOf = async (scores: (outs: readonly tf.Tensor[], images: readonly number[]) => tf.Tensor1D) => {
    const all = scores(outputs, []);
    try {
      return Array.from(await all.data());
    } finally {
      all.dispose();
    }
  };
  switch (target.kind) {
    case 'class': {
      const { classIndex, score } = await resolveClasses(outputs[0], target.index);
      const scores = (outs: readonly tf.Tensor[], images: readonly number[]) =>
        classScores(
          outs[0],
          rowImages(images, outs[0].shape[0]!).map((b) => classIndex[b]),
        );
      return { outputs: ids, classIndex, score, scores, dispose: () => undefined };
    }
    case 'segmentation': {
      const layout = segmentationLayout(model, outputs[0]);
      const classes = outputs[0].shape[layout.classAxis]!;
      checkIndex(target.classIndex, classes, 'segmentation class', `the model segments classes 0 to ${classes - 1}`);
      const masks = tf.tidy(() => {
        const perPixel = layout.toNhwc(outputs[0]);
        const [, height, width] = perPixel.shape;
        if (target.region === undefined || target.region === 'predicted') {
          return tf.cast(tf.equal(tf.argMax(perPixel, 3), target.classIndex), 'float32') as tf.Tensor3D;
        }
        const region = target.region;
        if (region.height !== height || region.width !== width || region.mask.length !== height * width) {
          throw new Error(`the region is ${region.width}×${region.height} pixels; the model's output is ${width}×${height}`);
        }
        const mask = tf.tensor2d(
          Float32Array.from(region.mask, (v) => (v ? 1 : 0)),
          [height, width],
        );
        return tf.tile(tf.expandDims(mask, 0), [batch, 1, 1]) as tf.Tensor3D;
      });
      const scores = (outs: readonly tf.Tensor[], images: readonly number[]) =>
        tf.tidy(() => {
          const perPixel = layout.toNhwc(outs[0]);
          const rows = rowImages(images, perPixel.shape[0]);
          const [, height, width, count] = perPixel.shape;
          const plane = tf.reshape(tf.slice(perPixel, [0, 0, 0, target.classIndex], [-1, height, width, 1]), [-1, height, width]);
          const rowMasks = tf.gather(masks, tf.tensor1d(rows, 'int32'));
          if (count !== classes) throw new Error('internal: the segmentation output changed its class count');
          return tf.sum(tf.mul(plane, rowMasks), [1, 2]) as tf.Tensor1D;
        });
      const score = await scoresOf(scores);
      return { outputs: ids, classIndex: new Array<number>(batch).fill(target.classIndex), score, scores, dispose: () => masks.dispose() };
    }
    case 'output': {
      const at = storedIndex(model, ids[0], outputs[0].shape, target.index);
      const scores = (outs: readonly tf.Tensor[]) =>
        tf.tidy(() => tf.reshape(tf.slice(outs[0], [0, ...at], [-1, ...at.map(() => 1)]), [-1]) as tf.Tensor1D);
      return {
        outputs: ids,
        classIndex: new Array<number>(batch).fill(-1),
        score: await scoresOf(scores),
        scores,
        dispose: () => undefined,
      };
    }
    case 'detection': {
      const { boxAt, classAt } = detectionOutputs(model);
      const [, anchors, classes] = outputs[classAt].shape;
      checkIndex(target.anchor, anchors!, 'anchor', `the detection head has anchors 0 to ${anchors! - 1}`);
      checkIndex(target.classIndex, classes!, 'class', `the detection head scores classes 0 to ${classes! - 1}`);
      const scores = (outs: readonly tf.Tensor[]) =>
        tf.tidy(() => {
          const logit = tf.reshape(tf.slice(outs[classAt], [0, target.anchor, target.classIndex], [-1, 1, 1]), [-1]);
          if (!target.withBox) return logit as tf.Tensor1D;
          return tf.add(logit, tf.sum(tf.slice(outs[boxAt], [0, target.anchor, 0], [-1, 1, 4]), [1, 2])) as tf.Tensor1D;
        });
      return {
        outputs: ids,
        classIndex: new Array<number>(batch).fill(target.classIndex),
        score: await scoresOf(scores),
        scores,
        dispose: () => undefined,
      };
    }
    case 'like': {
      const size = outputs[0].size / batch;
      if (target.embedding.length !== size) {
        throw new Error(`the reference embedding has ${target.embedding.length} values; the model's output has ${size} per image`);
      }
      const reference = tf.tensor2d(target.embedding, [1, size]);
      const scores = (outs: readonly tf.Tensor[]) => tf.tidy(() => cosineSimilarity(tf.reshape(outs[0], [-1, size]), reference));
      return {
        outputs: ids,
        classIndex: new Array<number>(batch).fill(-1),
        score: await scoresOf(scores).catch((error: unknown) => {
          reference.dispose();
          throw error;
        }),
        scores,
        dispose: () => reference.dispose(),
      };
    }
  }
}

/** The image each row comes from: `images` itself, every image in order when empty, one image for all rows. */
function rowImages(images: readonly number[], rows: number): number[] {
  if (images.length === 0) return Array.from({ length: rows }, (_, i) => i);
  if (images.length === 1) return new Array<number>(rows).fill(images[0]);
  return [...images];
}

function checkIndex(value: number, count: number, what: string, range: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= count) throw new Error(`${what} ${value} does not exist: ${range}`);
}

/** torch.nn.CosineSimilarity(dim=0) per row: x·y / max(‖x‖ ‖y‖, 1e-8). */
function cosineSimilarity(rows: tf.Tensor2D, reference: tf.Tensor2D): tf.Tensor1D {
  const dot = tf.sum(tf.mul(rows, reference), 1);
  const norms = tf.mul(tf.norm(rows, 'euclidean', 1), tf.norm(reference));
  return tf.div(dot, tf.maximum(norms, COSINE_EPS)) as tf.Tensor1D;
}

/** torch.nn.CosineSimilarity's default eps. */
const COSINE_EPS = 1e-8;

/** The node giving the output the user names: by its name in the file, its node id, or its position. */
export function outputNode(model: RunnableModel, name: string): string {
  const byName = model.summary.outputNames?.indexOf(name) ?? -1;
  if (byName >= 0) return model.outputs[byName];
  if (model.outputs.includes(name)) return name;
  if (/^\d+$/.test(name) && Number(name) < model.outputs.length) return model.outputs[Number(name)];
  const names = model.summary.outputNames ?? model.outputs;
  throw new Error(`the model has no output "${name}"; its outputs are ${names.map((n) => `"${n}"`).join(', ')}`);
}

/**
 * Whether the node's 4-D value is a file's NCHW value held NHWC (an ONNX export), as the summary says by
 * declaring its shape in another axis order.
 */
function heldAsNhwcOfNchw(model: RunnableModel, id: string): boolean {
  const at = model.outputs.indexOf(id);
  if (at >= 0 && model.summary.declaredOutputShapes?.[at]?.length === 4) return true;
  for (const layer of walkLayers(model.summary.layers)) if (layer.id === id) return layer.declaredShapes?.[0]?.length === 4;
  return false;
}

/** Where a per-pixel class output keeps its classes, and the view of it as [batch, H, W, classes]. */
export function segmentationLayout(model: RunnableModel, output: tf.Tensor): { classAxis: number; toNhwc: (x: tf.Tensor) => tf.Tensor4D } {
  if (output.rank !== 4) {
    throw new Error(
      `segmentation targets need per-pixel class scores (batch, classes, height, width); the model's output has shape (${output.shape.join(', ')})`,
    );
  }
  // Held NHWC (an ONNX export reordered by ConvLens, or a Keras/TensorFlow.js model), else NCHW as the file has it.
  const nhwc = model.summary.format !== 'onnx' || heldAsNhwcOfNchw(model, scoreNode(model));
  return nhwc
    ? { classAxis: 3, toNhwc: (x) => x as tf.Tensor4D }
    : { classAxis: 1, toNhwc: (x) => tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D };
}

/** An output unit's index in the tensor as held, from the index the user gives in the file's axis order. */
function storedIndex(model: RunnableModel, id: string, shape: readonly number[], index: number | readonly number[]): number[] {
  const held = shape.slice(1);
  const reordered = held.length === 3 && heldAsNhwcOfNchw(model, id);
  // The file's per-image shape: channels first where ConvLens holds the value channels last.
  const declared = reordered ? [held[2], held[0], held[1]] : held;
  const describe = `(${declared.join(', ')})`;
  let at: number[];
  if (typeof index === 'number') {
    const size = declared.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new Error(`output unit ${index} does not exist: each image's output has shape ${describe}, ${size} units`);
    }
    at = [];
    let rest = index;
    for (let axis = declared.length - 1; axis >= 0; axis--) {
      at.unshift(rest % declared[axis]);
      rest = Math.floor(rest / declared[axis]);
    }
  } else {
    at = [...index];
    const fits = at.length === declared.length && at.every((v, axis) => Number.isInteger(v) && v >= 0 && v < declared[axis]);
    if (!fits) throw new Error(`output index [${at.join(', ')}] does not exist: each image's output has shape ${describe}`);
  }
  return reordered ? [at[1], at[2], at[0]] : at;
}

/**
 * A detection head's outputs: per-anchor class scores [batch, anchors, classes] and box regressions
 * [batch, anchors, 4] (as torchvision's SSD and RetinaNet heads give them), by their shapes.
 */
export function detectionOutputs(model: RunnableModel): { ids: string[]; classAt: number; boxAt: number } {
  const shapes = model.summary.outputShapes;
  const boxAt = shapes.findIndex((shape) => shape.length === 3 && shape[2] === 4);
  const classAt = shapes.findIndex((shape, i) => i !== boxAt && shape.length === 3 && shape[1] === shapes[boxAt]?.[1]);
  if (boxAt < 0 || classAt < 0) {
    throw new Error(
      'the model has no detection head: box targets need outputs of per-anchor class scores (batch, anchors, classes) and box regressions (batch, anchors, 4)',
    );
  }
  return { ids: model.outputs, classAt, boxAt };
}

/**
 * What a page offers to explain for this model: a detection head's detections (per-anchor class scores
 * and boxes, `detectionOutputs`), a segmentation output's classes (per-pixel class scores: the explained
 * output is 4-D: [batch, classes, height, width] in the file), or classes.
 */
export function targetKindOf(model: RunnableModel): 'detection' | 'segmentation' | 'class' {
  if (model.outputs.length >= 2) {
    try {
      detectionOutputs(model);
      return 'detection';
    } catch {
      // Not a detection head: its outputs are read as a classifier's or a segmenter's.
    }
  }
  // The explained output (or the logits before its softmax, of the same shape): per-pixel scores have
  // height and width; a classifier ending in a 1 × 1 map (caffe2's SqueezeNet: [1, 1000, 1, 1]) does not.
  const shape = model.summary.outputShapes[0];
  const wide = shape?.slice(1).filter((size) => size === null || size > 1).length ?? 0;
  return shape?.length === 4 && wide >= 2 ? 'segmentation' : 'class';
}
