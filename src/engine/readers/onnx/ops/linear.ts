/**
 * Gemm and MatMul. Constant weights are prepared once: Gemm's B transposed if transB and scaled by
 * alpha, so that running is one matrix product and one addition, like a dense layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { broadcastShapes } from './host';
import { OpError, type NodeView, type OpSpec, type ValueDesc } from './types';

function inferGemm(node: NodeView): ValueDesc[] {
  const [a, b] = node.inputs.map((input) => input?.shape);
  const transA = node.attributes.int('transA', 0) === 1;
  const transB = node.attributes.int('transB', 0) === 1;
  for (const shape of [a, b]) {
    if (shape && shape.length !== 2) throw new OpError(`multiplies matrices, not a tensor of rank ${shape.length}`);
  }
  const rows = a ? a[transA ? 1 : 0] : null;
  const columns = b ? b[transB ? 0 : 1] : null;
  const innerA = a ? a[transA ? 0 : 1] : null;
  const innerB = b ? b[transB ? 1 : 0] : null;
  if (innerA !== null && innerB !== null && innerA !== innerB) {
    throw new OpError(`multiplies [${a!.join(', ')}] by [${b!.join(', ')}], whose inner sizes differ`);
  }
  return [{ shape: [rows, columns], dtype: 'float32', layout: 'onnx' }];
}

const gemm: OpSpec = {
  infer: inferGemm,
  build: (ctx) => {
    const { attributes } = ctx.node;
    const alpha = attributes.float('alpha', 1);
    const beta = attributes.float('beta', 1);
    const transA = attributes.int('transA', 0) === 1;
    const transB = attributes.int('transB', 0) === 1;
    const a = ctx.onnx(0);

    const constantB = ctx.constant(1);
    const weight = constantB
      ? ctx.own(
          tf.tidy(() => {
            let w: tf.Tensor2D = tf.tensor2d(
              constantB.data instanceof Float32Array ? constantB.data : Float32Array.from(constantB.data),
              constantB.dims as [number, number],
              'float32',
            );
            if (transB) w = tf.transpose(w);
            return alpha === 1 ? w : tf.mul(w, alpha);
          }),
          1,
        )
      : undefined;
    const runtimeB = weight ? undefined : ctx.onnx(1);

    const constantC = ctx.node.inputs[2] ? ctx.constant(2) : undefined;
    const bias = constantC
      ? ctx.own(
          tf.tidy(() => tf.mul(tf.tensor(constantC.data, constantC.dims, 'float32'), beta)),
          2,
        )
      : undefined;
    const runtimeC = ctx.node.inputs[2] && !constantC ? ctx.onnx(2) : undefined;

    return (inputs) => {
      const product = weight
        ? tf.matMul(a(inputs) as tf.Tensor2D, weight, transA, false)
        : tf.mul(tf.matMul(a(inputs) as tf.Tensor2D, runtimeB!(inputs) as tf.Tensor2D, transA, transB), alpha);
      if (bias) return tf.add(product, bias);
      if (runtimeC) return tf.add(product, tf.mul(runtimeC(inputs), beta));
      return product;
    };
  },
};

function inferMatMul(node: NodeView): ValueDesc[] {
  const [a, b] = node.inputs.map((input) => input?.shape);
  if (!a || !b) return [{ dtype: 'float32', layout: 'onnx' }];
  if (a.length === 0 || b.length === 0) throw new OpError('multiplies a scalar, which MatMul does not take');
  const aMatrix = a.length === 1 ? [1, a[0]] : a;
  const bMatrix = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcastShapes([aMatrix.slice(0, -2), bMatrix.slice(0, -2)])!;
  const shape = [...batch, ...(a.length === 1 ? [] : [aMatrix.at(-2)!]), ...(b.length === 1 ? [] : [bMatrix.at(-1)!])];
  return [{ shape, dtype: 'float32', layout: 'onnx' }];
}

const matMul: OpSpec = {
  infer: inferMatMul,
  build: (ctx) => {
    const a = ctx.onnx(0);
    const b = ctx.onnx(1);
    return (inputs) => {
      let left = a(inputs);
      let right = b(inputs);
      // numpy.matmul: a vector operand gains a unit axis for the product and loses it after.
      const vectorA = left.rank === 1;
      const vectorB = right.rank === 1;
      if (vectorA) left = tf.expandDims(left, 0);
      if (vectorB) right = tf.expandDims(right, 1);
      let product = tf.matMul(left, right);
      if (vectorA) product = tf.squeeze(product, [product.rank - 2]);
      if (vectorB) product = tf.squeeze(product, [product.rank - 1]);
      return product;
    };
  },
};

export const LINEAR_OPS: Record<string, OpSpec> = {
  Gemm: gemm,
  MatMul: matMul,
};
