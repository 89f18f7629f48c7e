/**
 * What a page lists before a target is chosen: the classes a segmentation model finds in each image, with
 * their share of the pixels and their masks, and a detection head's strongest anchors, with where each
 * lies in the image: the model's own box where it outputs decoded boxes, else the cell of the head's
 * grid the anchor belongs to, traced through the graph.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../execute';
import { nodeIndex, type RunnableModel } from '../graph';
import { walkLayers, type Shape } from '../model';
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

/** A rectangle in input pixels: [x1, y1, x2, y2]. */
export type Box = [number, number, number, number];

export interface Detection {
  anchor: number;
  classIndex: number;
  /** The class logit at the anchor. */
  score: number;
  /**
   * The anchor's four values of the box output: raw regressions (offsets from the anchor box, in the
   * head's own coding), or the box itself where the model decodes it.
   */
  regression: number[];
  /**
   * The model's own box in input pixels, where its box output holds decoded boxes (`boxesAreDecoded`). A
   * raw head gives offsets from anchor boxes that the file does not describe, so this is absent for it.
   */
  box?: Box;
  /**
   * For a raw head, the cell of the head's grid the anchor belongs to, in input pixels (`anchorCells`):
   * where the anchor is centred, not the box the model predicts.
   */
  cell?: Box;
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
    const listed = scores.map((row, b) =>
      row.map((score, i) => {
        const flat = indices[b][i];
        const anchor = Math.floor(flat / (classes - 1));
        return { anchor, classIndex: (flat % (classes - 1)) + 1, score, regression: boxes[b][anchor] };
      }),
    );
    const [, height, width] = input.shape;
    const name = model.summary.outputNames?.[boxAt] ?? model.outputs[boxAt];
    if (
      boxesAreDecoded(
        name,
        listed.flat().map((d) => d.regression),
        width,
        height,
      )
    ) {
      return listed.map((row) => row.map((d): Detection => ({ ...d, box: d.regression as Box })));
    }
    const cells = await anchorCells(model, height, width);
    return cells ? listed.map((row) => row.map((d): Detection => ({ ...d, cell: cells[d.anchor] }))) : listed;
  } finally {
    tf.dispose(outputs);
  }
}

/**
 * Whether a box output holds boxes [x1, y1, x2, y2] in input pixels, as exported detectors with their
 * post-processing give them, rather than a raw head's regressions: its name does not call it regressions
 * (torchvision's `bbox_regression`, "deltas", "offsets") and every box listed is ordered and inside the
 * input (post-processing clips boxes to the image), which regressions centred on zero are not.
 */
export function boxesAreDecoded(outputName: string, boxes: readonly (readonly number[])[], width: number, height: number): boolean {
  if (/regress|delta|offset/i.test(outputName) || boxes.length === 0) return false;
  const inside = (low: number, high: number, size: number) => low >= -EDGE && high <= size + EDGE && high > low;
  return boxes.every(([x1, y1, x2, y2]) => inside(x1, x2, width) && inside(y1, y2, height));
}

/** How far past the input's edge a decoded box may reach (pixels): rounding in the exporter's clipping. */
const EDGE = 0.5;

/** Nodes that only move values (no arithmetic): a head's per-position values keep their cell through them. */
const MOVES = new Set(['Reshape', 'Transpose', 'Permute', 'Concat', 'Concatenate', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);

/**
 * Each anchor's cell of the detection head's grid, in input pixels, where the graph shows it: the box
 * output must be made from spatial maps (the head's convolutions, one per feature level) only by nodes
 * that move values (reshape, transpose, concatenation), as torchvision's SSD and RetinaNet heads flatten
 * them. Each map is then fed its own cell number at every position and the box output read back: an
 * anchor whose four values all carry one cell's number belongs to that cell. The cell of a map `H × W`
 * at (row y, column x) covers the input's `[x·W₀/W, (x+1)·W₀/W) × [y·H₀/H, (y+1)·H₀/H)`. Undefined where
 * the output is made otherwise, or an anchor mixes cells.
 */
export async function anchorCells(model: RunnableModel, inputHeight: number, inputWidth: number): Promise<Box[] | undefined> {
  const sources = headMaps(model, model.outputs[detectionOutputs(model).boxAt]);
  if (!sources?.length) return undefined;
  let offset = 0;
  const levels = sources.map(({ id, shape }) => {
    const [, height, width, channels] = shape as number[];
    const level = { id, height, width, channels, offset };
    offset += height * width;
    return level;
  });
  const feeds = new Map(
    levels.map(({ id, height, width, channels, offset: first }) => [
      id,
      tf.tidy(() => {
        const cell = tf.add(
          tf.reshape(tf.range(first, first + height * width, 1, 'float32'), [1, height, width, 1]),
          tf.zeros([1, 1, 1, channels]),
        );
        return cell as tf.Tensor4D;
      }),
    ]),
  );
  let traced: tf.Tensor | undefined;
  try {
    [traced] = runGraph(model, feeds, [model.outputs[detectionOutputs(model).boxAt]]);
    const values = (await traced.data()) as Float32Array;
    const cells: Box[] = [];
    for (let anchor = 0; anchor < values.length / 4; anchor++) {
      const cell = values[4 * anchor];
      const level = levels.find((l) => cell >= l.offset && cell < l.offset + l.height * l.width);
      const same = [1, 2, 3].every((k) => values[4 * anchor + k] === cell);
      if (!level || !same || !Number.isInteger(cell)) return undefined;
      const y = Math.floor((cell - level.offset) / level.width);
      const x = (cell - level.offset) % level.width;
      const [dx, dy] = [inputWidth / level.width, inputHeight / level.height];
      cells.push([x * dx, y * dy, (x + 1) * dx, (y + 1) * dy]);
    }
    return cells;
  } catch {
    return undefined; // The output needs more than the maps (the image itself): not a flattened head.
  } finally {
    tf.dispose([...feeds.values()]);
    traced?.dispose();
  }
}

/**
 * The spatial maps (held [batch, H, W, channels]) an output is made from by nodes that only move values;
 * shape arithmetic (rank ≤ 1, as ONNX exports compute a reshape's target) is passed by. Undefined where a
 * node on the way computes anything else.
 */
function headMaps(model: RunnableModel, output: string): { id: string; shape: Shape }[] | undefined {
  const nodes = nodeIndex(model);
  const shapes = new Map<string, Shape>();
  for (const layer of walkLayers(model.summary.layers)) if (layer.outputShapes.length === 1) shapes.set(layer.id, layer.outputShapes[0]);
  const sources: { id: string; shape: Shape }[] = [];
  const seen = new Set<string>();
  const stack = [output];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = nodes.get(id);
    const shape = shapes.get(id);
    if (!node || !shape) return undefined;
    if (node.type && MOVES.has(node.type)) stack.push(...node.inputs);
    else if (shape.length === 4 && shape.slice(1).every((d) => d !== null)) sources.push({ id, shape });
    else if (shape.length > 1) return undefined;
  }
  return sources;
}
