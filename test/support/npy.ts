/** Writes NumPy .npy bytes (format 1.0, little-endian), as numpy.save does, for test inputs. */
export function npyBytes(shape: number[], values: ArrayLike<number>, descr: '<f4' | '<f8' = '<f4'): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // numpy pads the header with spaces so that the data starts on a 64-byte boundary, ending in '\n'.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1) + '\n';
  const size = descr === '<f4' ? 4 : 8;
  const bytes = new Uint8Array(total + values.length * size);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  const view = new DataView(bytes.buffer, total);
  for (let i = 0; i < values.length; i++) {
    if (size === 4) view.setFloat32(i * 4, values[i], true);
    else view.setFloat64(i * 8, values[i], true);
  }
  return bytes;
}
