/**
 * NumPy `.npy` arrays (format versions 1–3): the header's dtype, byte order and shape, and the data
 * as float32. Fortran-ordered arrays are refused rather than silently transposed.
 */
import { float16ToNumber } from './float16';
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('is not a NumPy .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLength > bytes.length) throw new Error('has a truncated .npy header');
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));

  const descr = /'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) throw new Error('has a .npy header that cannot be read');
  if (fortran[1] === 'True') throw new Error('holds a Fortran-ordered array; save it in C order (numpy.ascontiguousarray)');
  const shape = shapeText[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error('has a .npy header with an invalid shape');

  const [, order, kind, sizeText] = descr;
  const size = Number(sizeText);
  const count = shape.reduce((n, d) => n * d, 1);
  const dataStart = headerStart + headerLength;
  if (dataStart + count * size > bytes.length) throw new Error(`is truncated: its header promises ${count} values`);
  const read = valueReader(kind, size, order === '>');
  if (!read) throw new Error(`holds values of type ${kind}${size}, which is not a number type ConvLens reads`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = read(view, dataStart + i * size);
  return { shape, data };
}

type Reader = (view: DataView, offset: number) => number;

function valueReader(kind: string, size: number, bigEndian: boolean): Reader | undefined {
  const little = !bigEndian;
  const readers: Record<string, Reader> = {
    f2: (v, o) => float16ToNumber(v.getUint16(o, little)),
    f4: (v, o) => v.getFloat32(o, little),
    f8: (v, o) => v.getFloat64(o, little),
    i1: (v, o) => v.getInt8(o),
    i2: (v, o) => v.getInt16(o, little),
    i4: (v, o) => v.getInt32(o, little),
    i8: (v, o) => Number(v.getBigInt64(o, little)),
    u1: (v, o) => v.getUint8(o),
    u2: (v, o) => v.getUint16(o, little),
    u4: (v, o) => v.getUint32(o, little),
    u8: (v, o) => Number(v.getBigUint64(o, little)),
    b1: (v, o) => v.getUint8(o),
  };
  return readers[`${kind}${size}`];
}
