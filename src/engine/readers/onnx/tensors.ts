/**
 * TensorProto values as arrays ConvLens computes with: floating-point types of any width become a
 * Float32Array (float16 and bfloat16 widened, float64 narrowed), integer and boolean types a plain
 * array of numbers when small (shape arithmetic; int64 values such as "to the end" slice bounds do
 * not fit an Int32Array), a typed array when larger (an Int32Array, or a Float64Array for types wider
 * than int32): a plain array of millions of numbers is slow to build, to convert and to collect.
 *
 * Values come from `raw_data`, from the typed repeated fields, or from a file beside the model
 * (external data). Sizes are checked against the dimensions before anything is allocated.
 */
import { float16ToNumber } from '../../float16';
import { DataType, TensorField, type OnnxTensor } from './onnxProto';

/** The tfjs dtype a value is computed in. */
export type DType = 'float32' | 'int32' | 'bool';

export type HostData = Float32Array | Int32Array | Float64Array | number[];

/**
 * Integer values up to this many are a plain array; more are a typed array. Tensors computed while
 * running keep a host copy of their values up to this size too (runtimeHost.ts).
 */
export const HOST_VALUE_LIMIT = 1024;

/** Integer values as HostData: a plain array when small, typed (as given) when not. */
export function intData(values: Int32Array | Float64Array): HostData {
  return values.length > HOST_VALUE_LIMIT ? values : Array.from(values);
}

/** Integer values read as a plain array (attributes, varint fields) as HostData. */
export function intsFromArray(values: number[], wide: boolean): HostData {
  if (values.length <= HOST_VALUE_LIMIT) return values;
  return wide ? Float64Array.from(values) : Int32Array.from(values);
}

/** A tensor's values on the host, in ONNX (row-major) order. */
export interface HostTensor {
  dims: number[];
  dtype: DType;
  data: HostData;
}

/** The largest tensor a model may declare: 2^28 values, a gigabyte of float32. */
export const MAX_ELEMENTS = 2 ** 28;

/** Thrown for a tensor whose dimensions or data do not make sense; the message is a clause. */
export class TensorDataError extends Error {
  override name = 'TensorDataError';
}

const BYTES_PER_VALUE: Partial<Record<DataType, number>> = {
  [DataType.Float]: 4,
  [DataType.Uint8]: 1,
  [DataType.Int8]: 1,
  [DataType.Uint16]: 2,
  [DataType.Int16]: 2,
  [DataType.Int32]: 4,
  [DataType.Int64]: 8,
  [DataType.Bool]: 1,
  [DataType.Float16]: 2,
  [DataType.Double]: 8,
  [DataType.Uint32]: 4,
  [DataType.Uint64]: 8,
  [DataType.Bfloat16]: 2,
};

const TYPE_NAMES: Record<number, string> = {
  // Data type 0, UNDEFINED in onnx.proto: the word would read as a ConvLens bug in a message.
  [DataType.Undefined]: 'untyped',
  [DataType.String]: 'string',
  [DataType.Complex64]: 'complex64',
  [DataType.Complex128]: 'complex128',
};

/** The dtype values of an ONNX element type are computed in; undefined for types ConvLens cannot use. */
export function dtypeOf(dataType: DataType): DType | undefined {
  switch (dataType) {
    case DataType.Float:
    case DataType.Float16:
    case DataType.Double:
    case DataType.Bfloat16:
      return 'float32';
    case DataType.Bool:
      return 'bool';
    case DataType.Uint8:
    case DataType.Int8:
    case DataType.Uint16:
    case DataType.Int16:
    case DataType.Int32:
    case DataType.Int64:
    case DataType.Uint32:
    case DataType.Uint64:
      return 'int32';
    default:
      return undefined;
  }
}

export function typeName(dataType: DataType): string {
  return TYPE_NAMES[dataType] ?? `type ${dataType}`;
}

/** No tensor dimension reaches this: tfjs indexes with 32-bit integers. */
const MAX_DIMENSION = 2 ** 31 - 1;

/**
 * The number of values a shape declares, after checking that every dimension is a sane size, but not
 * that they fit in memory (see `elementCount`). A zero dimension does not excuse a huge one.
 */
export function declaredCount(dims: readonly number[], what: string): number {
  let count = 1;
  for (const dim of dims) {
    if (!Number.isSafeInteger(dim) || dim < 0 || dim > MAX_DIMENSION) throw new TensorDataError(`${what} has the dimension ${dim}`);
    count *= dim;
  }
  return count;
}

/** The number of values of a shape, after checking that every dimension is a sane size and that they fit. */
export function elementCount(dims: readonly number[], what: string): number {
  const count = declaredCount(dims, what);
  if (count > MAX_ELEMENTS) throw new TensorDataError(`${what} declares ${count} values, more than ConvLens can hold`);
  return count;
}

/**
 * Where the values of an external tensor are. The path is the model's word only: it is confined to the
 * model's folder where it is read (confinedPath.ts), like every file a model names.
 */
export interface ExternalLocation {
  location: string;
  offset: number;
  length?: number;
}

export function externalLocation(tensor: OnnxTensor): ExternalLocation {
  const entries = tensor.externalData!;
  const location = entries.get('location') ?? '';
  const what = `the tensor "${tensor.name}"`;
  if (!location) throw new TensorDataError(`${what} is stored in another file but does not say which`);
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length') ? Number(entries.get('length')) : undefined;
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
    throw new TensorDataError(`${what} has an invalid offset or length into "${location}"`);
  }
  return { location, offset, length };
}

/** The bytes a tensor's values take as stored, from its type and dimensions; undefined where they cannot be told. */
export function storedByteLength(tensor: OnnxTensor): number | undefined {
  const bytesPerValue = BYTES_PER_VALUE[tensor.dataType];
  if (!bytesPerValue) return undefined;
  try {
    return elementCount(tensor.dims, 'a tensor') * bytesPerValue;
  } catch {
    return undefined;
  }
}

/** Whether the tensor's values must be read from another file. */
export function isExternal(tensor: OnnxTensor): boolean {
  return tensor.externalData !== undefined;
}

/**
 * The values of a tensor whose data is in the model file. External tensors need their bytes given
 * (see `externalLocation`).
 */
export function hostTensor(tensor: OnnxTensor, externalBytes?: Uint8Array): HostTensor {
  const what = `the tensor "${tensor.name}"`;
  const dtype = dtypeOf(tensor.dataType);
  if (!dtype) throw new TensorDataError(`${what} holds ${typeName(tensor.dataType)} values, which ConvLens cannot compute with`);
  const count = elementCount(tensor.dims, what);
  const dims = [...tensor.dims];
  const bytes = externalBytes ?? tensor.rawData;
  if (bytes) {
    const expected = count * BYTES_PER_VALUE[tensor.dataType]!;
    if (bytes.length !== expected) {
      throw new TensorDataError(`${what} has ${bytes.length} bytes of data where its shape [${dims.join(', ')}] needs ${expected}`);
    }
    return { dims, dtype, data: fromRaw(tensor.dataType, bytes, count) };
  }
  return { dims, dtype, data: fromTypedFields(tensor, count, what) };
}

function fromRaw(dataType: DataType, bytes: Uint8Array, count: number): HostData {
  // A copy: the bytes may not be aligned for a typed-array view, and the file's buffer can then be freed.
  // Made with the constructor, since a Node Buffer's slice() is a view that shares the whole pool.
  const aligned = new Uint8Array(bytes);
  const view = new DataView(aligned.buffer);
  switch (dataType) {
    case DataType.Float:
      return littleEndian ? new Float32Array(aligned.buffer, 0, count) : mapFloats(count, (i) => view.getFloat32(i * 4, true));
    case DataType.Float16: {
      const table = float16Table();
      return mapFloats(count, (i) => table[view.getUint16(i * 2, true)]);
    }
    case DataType.Bfloat16:
      return mapFloats(count, (i) => bfloat16(view.getUint16(i * 2, true)));
    case DataType.Double:
      return mapFloats(count, (i) => view.getFloat64(i * 8, true));
    case DataType.Int64:
      return intData(int64s(view, count, true));
    case DataType.Uint64:
      return intData(int64s(view, count, false));
    case DataType.Int32:
      return intData(littleEndian ? new Int32Array(aligned.buffer, 0, count) : mapInt32s(count, (i) => view.getInt32(i * 4, true)));
    case DataType.Uint32: {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
      return intData(out);
    }
    case DataType.Int16:
      return intData(
        littleEndian ? Int32Array.from(new Int16Array(aligned.buffer, 0, count)) : mapInt32s(count, (i) => view.getInt16(i * 2, true)),
      );
    case DataType.Uint16:
      return intData(
        littleEndian ? Int32Array.from(new Uint16Array(aligned.buffer, 0, count)) : mapInt32s(count, (i) => view.getUint16(i * 2, true)),
      );
    case DataType.Int8:
      return intData(Int32Array.from(new Int8Array(aligned.buffer, 0, count)));
    case DataType.Bool: {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = aligned[i] ? 1 : 0;
      return intData(out);
    }
    default:
      return intData(Int32Array.from(aligned.subarray(0, count)));
  }
}

/**
 * 64-bit integers as numbers, from their two 32-bit halves (no BigInt per value): the same nearest
 * double `Number(bigint)` gives, exact up to 2^53.
 */
function int64s(view: DataView, count: number, signed: boolean): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const low = view.getUint32(i * 8, true);
    const high = signed ? view.getInt32(i * 8 + 4, true) : view.getUint32(i * 8 + 4, true);
    out[i] = high * 4294967296 + low;
  }
  return out;
}

/** Which typed field holds the values of each element type when raw_data is not used. */
function typedField(dataType: DataType): TensorField {
  switch (dataType) {
    case DataType.Float:
      return TensorField.FloatData;
    case DataType.Int64:
      return TensorField.Int64Data;
    case DataType.Double:
      return TensorField.DoubleData;
    case DataType.Uint32:
    case DataType.Uint64:
      return TensorField.Uint64Data;
    default:
      // int32, int16, int8, uint16, uint8, bool, float16 and bfloat16 (as bit patterns) share int32_data.
      return TensorField.Int32Data;
  }
}

function fromTypedFields(tensor: OnnxTensor, count: number, what: string): HostData {
  const fieldNumber = typedField(tensor.dataType);
  // The decoder gathers each field's values, packed or not, into one list.
  const values = tensor.dataFields.find((field) => field.field === fieldNumber)?.values ?? [];
  if (values.length !== count) {
    throw new TensorDataError(`${what} has ${values.length} values where its shape [${tensor.dims.join(', ')}] needs ${count}`);
  }
  switch (tensor.dataType) {
    case DataType.Float:
    case DataType.Double:
      return Float32Array.from(values);
    case DataType.Float16: {
      const table = float16Table();
      return mapFloats(count, (i) => table[values[i] & 0xffff]);
    }
    case DataType.Bfloat16:
      return mapFloats(count, (i) => bfloat16(values[i] & 0xffff));
    case DataType.Bool:
      return intsFromArray(
        values.map((v) => (v ? 1 : 0)),
        false,
      );
    case DataType.Int64:
    case DataType.Uint64:
    case DataType.Uint32:
      return intsFromArray(values, true);
    default:
      return intsFromArray(values, false);
  }
}

function mapFloats(count: number, value: (i: number) => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = value(i);
  return out;
}

/** Big-endian machines only: values read one by one. */
function mapInt32s(count: number, value: (i: number) => number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = value(i);
  return out;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let float16Values: Float32Array | undefined;

/** Every float16 bit pattern's value: one lookup per weight beats decoding each. */
function float16Table(): Float32Array {
  if (!float16Values) {
    float16Values = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) float16Values[bits] = float16ToNumber(bits);
  }
  return float16Values;
}

const bfloat16Buffer = new DataView(new ArrayBuffer(4));

function bfloat16(bits: number): number {
  bfloat16Buffer.setUint32(0, bits << 16);
  return bfloat16Buffer.getFloat32(0);
}
