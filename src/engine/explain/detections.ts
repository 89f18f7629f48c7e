/**
 * What a page lists before a target is chosen: the classes a segmentation model finds in each image, with
 * their share of the pixels and their masks, and a detection head's strongest anchors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../execute';
import type { RunnableModel } from '../graph';
import { scoreNode } from './scores';
import { detectionOutputs, segmentationLayout } from './targets';

export interface SegmentationClasses {
  height: number;
  width: number;
  /** The classes present (argmax over classes at some pixel), largest share first. */
  classes: { classIndex: number; share: number }[];
  /** The predicted class of each pixel, row-major, at the output's resolution. */
  mask: Int32Array;
}

/** Per image: the classes the model predicts at some pixel, their pixel share, and the class map. */
export async function segmentationClasses(model: RunnableModel, input: tf.Tensor4D): Promise<SegmentationClasses[]> {
  const [output] = runGraph(model, singleInput(model, input), [scoreNode(model)]);
  let predicted: tf.Tensor3D;
  try {
    const layout = segmentationLayout(model, output);
    predicted = tf.tidy(() => tf.argMax(layout.toNhwc(output), 3) as tf.Tensor3D);
  } finally {
    output.dispose();
  }
  const [batch, height, width] = predicted.shape;
  const values = (await predicted.data()) as Int32Array;
  predicted.dispose();
  return Array.from({ length: batch }, (_, b) => {
    const mask = values.slice(b * height * width, (b + 1) * height * width);
    const counts = new Map<number, number>();
    for (const c of mask) counts.set(c, (counts.get(c) ?? 0) + 1);
    const classes = [...counts]
      .map(([classIndex, count]) => ({ classIndex, share: count / mask.length }))
      .sort((p, q) => q.share - p.share || p.classIndex - q.classIndex);
    return { height, width, classes, mask };
  });
}

export interface Detection {
  anchor: number;
  classIndex: number;
  /** The class logit at the anchor. */
  score: number;
  /** The anchor's four raw box regressions (offsets from the anchor box, in the head's own coding). */
  regression: number[];
  /**
   * The decoded box in input pixels [x1, y1, x2, y2]. A raw head gives offsets from anchor boxes that
   * the file does not describe, so this is absent for it.
   */
  box?: [number, number, number, number];
}

/**
 * Per image: the k strongest (anchor, class) pairs of a detection head by class logit, class 0 (the
 * background in SSD and RetinaNet heads) left out.
 */
export async function detections(model: RunnableModel, input: tf.Tensor4D, k: number): Promise<Detection[][]> {
  const { classAt, boxAt } = detectionOutputs(model);
  const outputs = runGraph(model, singleInput(model, input), model.outputs);
  try {
    const logits = outputs[classAt] as tf.Tensor3D;
    const [batch, , classes] = logits.shape;
    const foreground = tf.tidy(() => tf.reshape(tf.slice(logits, [0, 0, 1], [-1, -1, classes - 1]), [batch, -1]));
    const top = tf.topk(foreground, Math.min(k, foreground.shape[1]!));
    const scores = (await top.values.array()) as number[][];
    const indices = (await top.indices.array()) as number[][];
    const boxes = (await outputs[boxAt].array()) as number[][][];
    tf.dispose([foreground, top.values, top.indices]);
    return scores.map((row, b) =>
      row.map((score, i) => {
        const flat = indices[b][i];
        const anchor = Math.floor(flat / (classes - 1));
        return { anchor, classIndex: (flat % (classes - 1)) + 1, score, regression: boxes[b][anchor] };
      }),
    );
  } finally {
    tf.dispose(outputs);
  }
}
