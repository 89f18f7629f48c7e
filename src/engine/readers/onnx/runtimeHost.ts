/**
 * Small integer tensors computed while running (a Shape's output and the arithmetic on it) keep a
 * copy of their values on the host, so that the Reshape reading them does not wait for the
 * accelerator to hand the values back.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from './tensors';

const hostValues = new WeakMap<tf.Tensor, HostTensor>();

/** Values at most this many are kept on the host as well. */
export const HOST_VALUE_LIMIT = 1024;

export function tensorFromHost(value: HostTensor): tf.Tensor {
  const data = value.dtype === 'float32' ? value.data : Int32Array.from(value.data, clampInt32);
  const tensor = tf.tensor(data, value.dims, value.dtype);
  if (value.data.length <= HOST_VALUE_LIMIT) hostValues.set(tensor, value);
  return tensor;
}

export function knownHostValues(tensor: tf.Tensor): HostTensor | undefined {
  return hostValues.get(tensor);
}

/** A tensor's values on the host: the kept copy, or read back (small tensors only). */
export function readHostValues(tensor: tf.Tensor): HostTensor {
  const known = hostValues.get(tensor);
  if (known) return known;
  const data = tensor.dataSync();
  return {
    dims: [...tensor.shape],
    dtype: tensor.dtype === 'float32' ? 'float32' : tensor.dtype === 'bool' ? 'bool' : 'int32',
    data: tensor.dtype === 'float32' ? Float32Array.from(data as Float32Array) : Array.from(data as Int32Array),
  };
}

/** int64 values such as "to the end" slice bounds, brought into the int32 range tfjs computes in. */
export function clampInt32(value: number): number {
  return Math.min(Math.max(value, -2147483648), 2147483647);
}
