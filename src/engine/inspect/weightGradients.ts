/**
 * The gradient of the classification loss with respect to the model's weights, for an image or a batch,
 * as a training step would compute it: L = (1/B) Σ_b −log softmax(z_b)_{c_b}, z the logits (the output
 * before the final softmax or sigmoid), c_b the class the user picks or else image b's top class. A
 * single-unit binary output z is read as the two logits [0, z], so the loss is the binary cross-entropy
 * −log σ(±z).
 *
 * The graph's nodes hold their weights as tensors they close over; the gradient is taken with respect to
 * those very tensors (the tape records every op, whatever its operands), so the network runs exactly as
 * it does for predictions. A stored weight the graph does not compute with — one a reader folds into
 * another when loading (an ONNX batch normalisation into its multiplier and offset) — has no gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../gradients';
import { runGraph, singleInput } from '../execute';
import type { RunnableModel } from '../graph';
import { walkLayers, type LayerInfo } from '../model';
import { scoreNode } from '../explain/scores';
import { mainWeightIndex, weightNames } from './weightStatistics';

export interface WeightGradientRequest {
  /** The layers whose weights to differentiate; every layer with weights by default. */
  layers?: readonly string[];
  /** The class of every image; each image's top class by default. */
  classIndex?: number;
}

export interface WeightGradients {
  /** The class each image's loss is taken for. */
  classIndex: number[];
  /** The mean cross-entropy over the batch. */
  loss: number;
  /**
   * Per layer, one gradient per weight tensor in `RunnableModel.weights` order; undefined where the graph
   * does not compute with that stored tensor. The gradients are owned here: free them with `dispose`.
   */
  byLayer: Map<string, (tf.Tensor | undefined)[]>;
  dispose(): void;
}

/** The layers whose own weights can be differentiated: leaves of the layer tree with weights. */
export function layersWithWeights(model: RunnableModel): LayerInfo[] {
  return [...walkLayers(model.summary.layers)].filter((layer) => !layer.children && model.weights(layer.id).length > 0);
}

/** The logits as rows of two or more classes, one row per image. */
function lossRows(output: tf.Tensor): tf.Tensor2D {
  const flat = tf.reshape(output, [output.shape[0]!, -1]) as tf.Tensor2D;
  return flat.shape[1] === 1 ? tf.concat([tf.zerosLike(flat), flat], 1) : flat;
}

function checkedClass(classIndex: number, classCount: number): number {
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classCount) {
    throw new Error(`class ${classIndex} does not exist: the model has classes 0 to ${classCount - 1}`);
  }
  return classIndex;
}

/** The number of classes the model's output declares, where its shape says. */
function declaredClassCount(model: RunnableModel): number | undefined {
  const units = model.summary.outputShapes[0]?.slice(1);
  if (!units?.length || units.some((d) => d === null)) return undefined;
  const count = (units as number[]).reduce((a, b) => a * b, 1);
  return count === 1 ? 2 : count;
}

/** ∂L/∂W for the requested layers' weights, from one forward and one backward pass over `input` (NHWC). */
export async function weightGradients(
  model: RunnableModel,
  input: tf.Tensor,
  request: WeightGradientRequest = {},
): Promise<WeightGradients> {
  const layerIds = request.layers ?? layersWithWeights(model).map((layer) => layer.id);
  // Two nodes may share one stored tensor: it is differentiated once.
  const weightsByLayer = layerIds.map((id) => model.weights(id));
  const distinct = [...new Set(weightsByLayer.flat())];
  if (distinct.length === 0) throw new Error('the chosen layers have no weights');
  const feeds = singleInput(model, input);
  // Checked before the tape starts: a throw inside it would leave the tensors it saved behind.
  const declared = declaredClassCount(model);
  if (request.classIndex !== undefined && declared !== undefined) checkedClass(request.classIndex, declared);

  let classes: tf.Tensor1D | undefined;
  const { value, grads } = tf.tidy(() =>
    tf.engine().gradients(
      () => {
        const [output] = runGraph(model, feeds, [scoreNode(model)]);
        const rows = lossRows(output);
        const [batch, classCount] = rows.shape;
        const chosen =
          request.classIndex === undefined
            ? (tf.argMax(rows, 1) as tf.Tensor1D)
            : tf.fill([batch], checkedClass(request.classIndex, classCount), 'int32');
        classes = tf.keep(chosen as tf.Tensor1D);
        const picked = tf.sum(tf.mul(tf.logSoftmax(rows), tf.oneHot(chosen as tf.Tensor1D, classCount)), 1);
        return tf.neg(tf.mean(picked)) as tf.Scalar;
      },
      distinct,
      undefined,
      true,
    ),
  );
  try {
    const gradientOf = new Map(distinct.map((tensor, i) => [tensor, grads[i] as tf.Tensor | undefined]));
    const byLayer = new Map(layerIds.map((id, i) => [id, weightsByLayer[i].map((w) => gradientOf.get(w))]));
    const [loss, classIndex] = await Promise.all([value.data(), classes!.data()]);
    return {
      classIndex: Array.from(classIndex),
      loss: loss[0],
      byLayer,
      dispose: () => tf.dispose(grads.filter(Boolean)),
    };
  } catch (error) {
    tf.dispose(grads.filter(Boolean));
    throw error;
  } finally {
    tf.dispose([value, classes!]);
  }
}

/** One layer in the model overview: its main weight's spread and how hard the loss pulls on it. */
export interface LayerOverview {
  layerId: string;
  name: string;
  type: string;
  /** Which of the layer's weights the row describes (`kernel`, `scale (γ)`…). */
  weight: string;
  weightStd: number;
  weightNorm: number;
  /** Undefined where the weight has no gradient (see `WeightGradients.byLayer`). */
  gradientNorm?: number;
  /** ‖∂L/∂W‖ / ‖W‖: large where a step would change the layer most, tiny where learning has stalled. */
  ratio?: number;
}

/**
 * A row per layer with weights (the layers of `gradients` where given), computed on the device and read
 * back at once; without gradients the rows have only the weights' numbers.
 */
export async function layerOverview(model: RunnableModel, gradients?: WeightGradients): Promise<LayerOverview[]> {
  const layers = new Map([...walkLayers(model.summary.layers)].map((layer) => [layer.id, layer]));
  const layerIds = gradients ? [...gradients.byLayer.keys()] : layersWithWeights(model).map((layer) => layer.id);
  const rows = layerIds.map((layerId) => {
    const weights = model.weights(layerId);
    const shapes = weights.map((w) => w.shape);
    const main = mainWeightIndex(shapes);
    const layer = layers.get(layerId);
    return {
      layerId,
      name: layer?.name ?? layerId,
      type: layer?.type ?? '',
      weight: weightNames(shapes, layer?.type ?? '')[main],
      tensor: weights[main],
      gradient: gradients?.byLayer.get(layerId)?.[main],
    };
  });
  if (rows.length === 0) return [];
  const numbers = tf.tidy(() =>
    tf.stack(
      rows.flatMap(({ tensor, gradient }) => {
        const { variance } = tf.moments(tensor);
        return [tf.sqrt(variance), tf.norm(tensor), gradient ? tf.norm(gradient) : tf.scalar(NaN)];
      }),
    ),
  );
  const values = await numbers.data().finally(() => numbers.dispose());
  return rows.map(({ layerId, name, type, weight, gradient }, i) => {
    const [weightStd, weightNorm, gradientNorm] = values.subarray(3 * i, 3 * i + 3);
    return {
      layerId,
      name,
      type,
      weight,
      weightStd,
      weightNorm,
      ...(gradient ? { gradientNorm, ratio: weightNorm > 0 ? gradientNorm / weightNorm : Infinity } : {}),
    };
  });
}
