/**
 * Small integer tensors computed while running (a Shape's output and the arithmetic on it) keep a
 * copy of their values on the host, so that the Reshape reading them does not wait for the
 * accelerator to hand the values back.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HOST_VALUE_LIMIT, intData, type HostData, type HostTensor } from './tensors';

/** Values at most this many are kept on the host as well. */
export { HOST_VALUE_LIMIT };

const hostValues = new WeakMap<tf.Tensor, HostTensor>();

export function tensorFromHost(value: HostTensor): tf.Tensor {
  const tensor = tf.tensor(deviceValues(value.data, value.dtype), value.dims, value.dtype);
  if (value.data.length <= HOST_VALUE_LIMIT) hostValues.set(tensor, value);
  return tensor;
}

/**
 * Values as a typed array tfjs takes without converting each: float32 as they are, integers (int64
 * values too) brought into the int32 range. An Int32Array is used as it is: large constants are one.
 */
function deviceValues(data: HostData, dtype: HostTensor['dtype']): Float32Array | Int32Array {
  if (dtype === 'float32') return data instanceof Float32Array ? data : Float32Array.from(data);
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = clampInt32(data[i]);
  return out;
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
    data: tensor.dtype === 'float32' ? Float32Array.from(data as Float32Array) : intData(Int32Array.from(data as Int32Array)),
  };
}

/** int64 values such as "to the end" slice bounds, brought into the int32 range tfjs computes in. */
export function clampInt32(value: number): number {
  return Math.min(Math.max(value, -2147483648), 2147483647);
}
