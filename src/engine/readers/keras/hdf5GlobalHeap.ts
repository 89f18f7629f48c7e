/**
 * HDF5 keeps variable-length strings (the attributes Keras writes: `layer_names`, `keras_version`,
 * `model_config`…) in global heap collections, `GCOL` blocks of objects laid end to end. HDF5 walks a
 * collection by each object's declared size, and a free-space object of size 0 never moves the walk
 * on: a single damaged size leaves HDF5 looping for ever inside WebAssembly, where nothing can stop it.
 * One that runs past its collection sends the walk through whatever memory follows. Every collection
 * in the file is therefore walked here first, as HDF5 would walk it, and one that would not end
 * cleanly makes the file damaged before HDF5 reads any of it.
 */

/** Why a file's global heap cannot be handed to HDF5. */
export type GlobalHeapDamage = 'loops' | 'overruns' | 'unreadable';

const SIGNATURE = [0x47, 0x43, 0x4f, 0x4c]; // "GCOL"
const VERSION = 1;
/** HDF5 pads each object other than free space to a multiple of 8 bytes. */
const ALIGNMENT = 8;

/**
 * The damage, if any, that would keep HDF5 from walking the global heap collections of `bytes` to
 * their end. `superblockAt` is where the HDF5 signature is (0, or after a user block). Takes one pass
 * over the bytes and at most one step per 8 bytes for the objects; valid files are never refused.
 */
export function globalHeapDamage(bytes: Uint8Array, superblockAt: number): GlobalHeapDamage | undefined {
  const lengthSize = sizeOfLengths(bytes, superblockAt);
  if (lengthSize === undefined) return 'unreadable';
  const headerSize = SIGNATURE.length + 4 + lengthSize; // signature, version, 3 reserved, collection size
  const objectHeaderSize = 8 + lengthSize; // index (2), references (2), reserved (4), object size
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = (at: number) => readLength(view, at, lengthSize);
  // Collections do not overlap in a valid file, so all their objects take at most this many steps.
  let stepsLeft = Math.ceil(bytes.length / objectHeaderSize) + 64;
  for (const at of collectionsIn(bytes)) {
    if (at + headerSize > bytes.length) continue;
    const end = at + length(at + 8);
    if (end > bytes.length) return 'overruns';
    for (let p = at + headerSize; p < end && p + objectHeaderSize <= end;) {
      if (--stepsLeft < 0) return 'loops';
      const index = view.getUint16(p, true);
      const size = length(p + 8);
      // The free-space object's size includes its header; every other object's excludes it.
      const need = index > 0 ? objectHeaderSize + Math.ceil(size / ALIGNMENT) * ALIGNMENT : size;
      if (need === 0) return 'loops';
      if (need < objectHeaderSize || p + need > end) return 'overruns';
      p += need;
    }
  }
  return undefined;
}

/** How far the search may move on, by the byte under the end of the pattern "GCOL" + version (Horspool). */
const SHIFT = (() => {
  const shift = new Uint8Array(256).fill(SIGNATURE.length + 1);
  SIGNATURE.forEach((byte, i) => (shift[byte] = SIGNATURE.length - i));
  return shift;
})();

/** Offsets of every collection signature with the version HDF5 reads, in one pass that mostly skips 5 bytes at a time. */
function* collectionsIn(bytes: Uint8Array): Generator<number> {
  const [g, c, o, l] = SIGNATURE;
  for (let at = 0; at + SIGNATURE.length < bytes.length;) {
    const last = bytes[at + SIGNATURE.length];
    if (last === VERSION && bytes[at] === g && bytes[at + 1] === c && bytes[at + 2] === o && bytes[at + 3] === l) yield at;
    at += SHIFT[last];
  }
}

/**
 * The superblock's "size of lengths": byte 14 in versions 0 and 1, byte 10 in versions 2 and 3. HDF5
 * reads global heap sizes of 2, 4 or 8 bytes only (other sizes it accepts leave them undecoded).
 */
function sizeOfLengths(bytes: Uint8Array, superblockAt: number): number | undefined {
  const version = bytes[superblockAt + 8];
  const size =
    version === 0 || version === 1 ? bytes[superblockAt + 14] : version === 2 || version === 3 ? bytes[superblockAt + 10] : undefined;
  return size === 2 || size === 4 || size === 8 ? size : undefined;
}

/**
 * A little-endian length as HDF5 compiled to 32-bit WebAssembly holds it: its low 32 bits, a size_t.
 * Read past the end of the file, the missing bytes are zeros, as HDF5's file driver gives them.
 */
function readLength(view: DataView, at: number, size: number): number {
  let value = 0;
  for (let i = Math.min(size, 4) - 1; i >= 0; i--) value = value * 256 + (at + i < view.byteLength ? view.getUint8(at + i) : 0);
  return value;
}
