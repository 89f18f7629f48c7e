/**
 * FullGrad (Srinivas & Fleuret, "Full-Gradient Representation for Neural Network Visualization", 2019),
 * as pytorch-grad-cam's `FullGrad` computes it: the input-gradient term |∂y_c/∂x ⊙ x| plus, for every
 * convolution and batch normalisation with a bias, the bias-gradient term |b ⊙ ∂y_c/∂z| (z the layer's
 * output before any activation), each channel min-max scaled and brought to the input's size, all summed
 * and min-max scaled (docs/explanations.md). One pass forwards to learn the shapes, one forwards and
 * backwards for every gradient at once.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Feeds, runGraph } from '../execute';
import { descendantsOf, type GraphNode, type RunnableModel } from '../graph';
import { type KeptTargets, readTargets, type RequestedClasses, scoreNode, targetScoreSum } from './scores';

/** Layer types whose output carries a per-channel bias: convolutions and batch normalisation, in every format. */
const BIAS_LAYERS = new Set([
  'Conv',
  'BatchNormalization',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  '_FusedConv2D',
  'FusedDepthwiseConv2dNative',
  'FusedBatchNorm',
  'FusedBatchNormV3',
  'BiasAdd',
]);

/** pytorch-grad-cam's `scale_cam_image`: (m − min) / (max − min + 1e-7). */
const SCALE_EPSILON = 1e-7;

interface BiasLayer {
  node: GraphNode;
  /** [C], the layer's output for an all-zero input: its bias, batch normalisation's β − γμ/√(σ² + ε) included. */
  bias: tf.Tensor1D;
  shape: number[];
}

export interface FullGradMaps {
  /** [batch, H, W] in [0, 1]. */
  maps: tf.Tensor3D;
  classIndex: number[];
  score: number[];
}

export async function fullGrad(model: RunnableModel, feeds: Feeds, x: tf.Tensor4D, requested: RequestedClasses): Promise<FullGradMaps> {
  const layers = biasLayers(model, feeds);
  const [inputId] = [...feeds.keys()];
  const probeIndex = new Map(layers.map((layer, k) => [layer.node.id, k]));
  let targets: KeptTargets | undefined;
  // Where a ReLU is fused into a bias layer: 1 where its output is positive, i.e. where ∂y/∂z = ∂y/∂output.
  const reluMasks = new Map<number, tf.Tensor>();
  const zeros = layers.map((layer) => tf.zeros(layer.shape));
  try {
    // A zero added to each bias layer's output: the gradient with respect to it is ∂y_c/∂(that output).
    const gradients = tf.grads((input: tf.Tensor, ...probes: tf.Tensor[]) => {
      const [output] = runGraph(model, new Map([...feeds, [inputId, input]]), [scoreNode(model)], {
        afterNode: (node, value) => {
          const k = probeIndex.get(node.id);
          if (k === undefined) return value;
          if (node.endsWithRelu) reluMasks.set(k, tf.keep(tf.step(value)));
          return tf.add(value, probes[k]);
        },
      });
      const chosen = targetScoreSum(output, requested);
      targets = chosen.targets;
      return chosen.sum;
    })([x, ...zeros]);
    const [, height, width] = x.shape;
    const maps = tf.tidy(() => {
      let total = channelScaledSum(tf.abs(tf.mul(gradients[0], x)));
      layers.forEach((layer, k) => {
        const mask = reluMasks.get(k);
        const gradient = mask ? tf.mul(gradients[k + 1], mask) : gradients[k + 1];
        const term = channelScaledSum(tf.abs(tf.mul(gradient, layer.bias)));
        total = tf.add(total, tf.image.resizeBilinear(term, [height, width], false, true));
      });
      return tf.squeeze(minMax(total), [3]) as tf.Tensor3D;
    });
    tf.dispose(gradients);
    return { maps, ...(await readTargets(targets!)) };
  } finally {
    tf.dispose([...layers.map((layer) => layer.bias), ...zeros, ...reluMasks.values()]);
  }
}

/** Per image and channel, (m − min) / (max − min + 1e-7) over the positions, summed over channels: [batch, h, w, 1]. */
function channelScaledSum(values: tf.Tensor): tf.Tensor4D {
  return tf.sum(minMax(values), -1, true) as tf.Tensor4D;
}

/** (m − min) / (max − min + 1e-7) over the positions (axes 1 and 2) of each image and channel. */
function minMax(values: tf.Tensor): tf.Tensor {
  const min = tf.min(values, [1, 2], true);
  const shifted = tf.sub(values, min);
  return tf.div(shifted, tf.add(tf.max(shifted, [1, 2], true), SCALE_EPSILON));
}

/**
 * The convolutions and batch normalisations with a 2-D (per-channel) bias that the score depends on,
 * with their output shapes for these feeds and their biases.
 */
function biasLayers(model: RunnableModel, feeds: Feeds): BiasLayer[] {
  const score = scoreNode(model);
  const candidates = new Set(
    model.nodes
      .filter((node) => BIAS_LAYERS.has(node.type ?? '') && node.inputs.length === 1 && descendantsOf(model, node.id).has(score))
      .map((node) => node.id),
  );
  const shapes = new Map<string, number[]>([...feeds].map(([id, tensor]) => [id, tensor.shape]));
  tf.dispose(
    runGraph(model, feeds, [score], {
      afterNode: (node, value) => {
        shapes.set(node.id, value.shape);
        return value;
      },
    }),
  );
  const layers: BiasLayer[] = [];
  try {
    for (const node of model.nodes) {
      const shape = shapes.get(node.id);
      if (!candidates.has(node.id) || shape?.length !== 4) continue;
      const bias = biasOf(model, node, shapes.get(node.inputs[0])!, shape[3]);
      if (bias) layers.push({ node, bias, shape });
    }
    return layers;
  } catch (error) {
    tf.dispose(layers.map((layer) => layer.bias));
    throw error;
  }
}

/**
 * The layer's output for a zero input, at one position (every position, padding included, gives the
 * same). Where a ReLU is fused into the layer that output is relu(bias): the bias is then its last
 * weight of one value per channel, as Keras and TensorFlow.js store it; none, for a layer without one.
 */
function biasOf(model: RunnableModel, node: GraphNode, inputShape: number[], channels: number): tf.Tensor1D | undefined {
  if (node.endsWithRelu) {
    const bias = [...model.weights(node.id)].reverse().find((weight) => weight.rank === 1 && weight.shape[0] === channels);
    return bias && (tf.clone(bias) as tf.Tensor1D);
  }
  return tf.tidy(() => {
    const output = node.run([tf.zeros([1, ...inputShape.slice(1)])]);
    return tf.reshape(tf.slice(output, [0, 0, 0, 0], [1, 1, 1, channels]), [channels]) as tf.Tensor1D;
  });
}
