/**
 * Entries of a zip archive held in memory (a `.keras` file), read so that an archive from a stranger
 * cannot exhaust the machine: the central directory is the table of contents, every size it declares is
 * checked against the limits before anything is unpacked, a deflated entry is inflated in steps and
 * stopped as soon as it unpacks to more than its directory declares, and every entry read is checked
 * against its CRC-32 as Python's `zipfile` does. ZIP64 sizes and offsets are read from their extra field.
 */
import { Inflate } from 'fflate';
import { byteSize } from '../../confinedPath';
import { ModelReadError } from '../../errors';
import { LimitExceededError, type Limits } from '../../limits';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  packedSize: number;
  size: number;
  localHeaderOffset: number;
}

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const DIRECTORY_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const ZIP64_EXTRA = 0x0001;
/** A 16- or 32-bit field holding this says "see the ZIP64 record". */
const ZIP64_MARK_32 = 0xffffffff;
const ZIP64_MARK_16 = 0xffff;

const STORED = 0;
const DEFLATED = 8;
const ENCRYPTED_FLAG = 0x1;

/** The compression ratio applies only above this, as small entries of zeros legitimately pack tightly. */
const RATIO_APPLIES_ABOVE = 1024 * 1024;
/** Packed bytes handed to the inflater at a time: at most ~1032 times as much comes out of one step. */
const INFLATE_STEP = 16 * 1024;

/** The entries of the archive named in `wanted`, by name; one clear sentence when its directory is damaged. */
export function findZipEntries(bytes: Uint8Array, fileName: string, wanted: readonly string[]): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const directory = locateDirectory(view, fileName);
  const found = new Map<string, ZipEntry>();
  // Names are decoded only at the lengths looked for: a directory of millions of entries is passed over quickly.
  const wantedLengths = new Set(wanted.map((name) => new TextEncoder().encode(name).length));
  let offset = directory.offset;
  for (let i = 0; i < directory.count; i++) {
    if (offset + 46 > directory.end || view.getUint32(offset, true) !== DIRECTORY_HEADER) throw damagedArchive(fileName);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const next = offset + 46 + nameLength + extraLength + commentLength;
    if (next > directory.end) throw damagedArchive(fileName);
    const nameStart = offset + 46;
    const name = wantedLengths.has(nameLength) ? decodeName(bytes.subarray(nameStart, nameStart + nameLength)) : '';
    // Python's zipfile keeps the last of entries that share a name; so does fflate.
    if (wanted.includes(name)) {
      const extra = bytes.subarray(nameStart + nameLength, nameStart + nameLength + extraLength);
      found.set(name, directoryEntry(view, offset, name, extra, fileName));
    }
    offset = next;
  }
  return found;
}

/**
 * Refuses an entry whose declared size passes `limits.modelBytes`, or that claims to unpack more than
 * `limits.compressionRatio` times its packed size: checked before any of it is unpacked.
 */
export function assertEntryWithinLimits(entry: ZipEntry, fileName: string, limits: Limits): void {
  if (entry.size > limits.modelBytes) {
    throw new LimitExceededError(fileName, `has a ${entry.name} that unpacks to ${byteSize(entry.size)}`, 'modelBytes', limits.modelBytes);
  }
  if (entry.size > RATIO_APPLIES_ABOVE && entry.size > limits.compressionRatio * entry.packedSize) {
    throw new LimitExceededError(
      fileName,
      `has a ${entry.name} that unpacks from ${byteSize(entry.packedSize)} to ${byteSize(entry.size)}`,
      'compressionRatio',
      limits.compressionRatio,
    );
  }
}

/**
 * The entry's bytes, checked against its limits, its local header and its checksum. Inflating stops as
 * soon as more comes out than the directory declares, so a lying header costs no more than an honest one.
 */
export function unpackZipEntry(bytes: Uint8Array, entry: ZipEntry, fileName: string, limits: Limits): Uint8Array {
  assertEntryWithinLimits(entry, fileName, limits);
  if (entry.flags & ENCRYPTED_FLAG) throw new ModelReadError(fileName, `has an encrypted ${entry.name}, which ConvLens cannot unpack.`);
  const packed = packedData(bytes, entry, fileName);
  let data: Uint8Array;
  if (entry.method === STORED) {
    if (entry.packedSize !== entry.size) throw damagedEntry(fileName, `its directory gives ${entry.name} two different sizes`);
    data = packed;
  } else if (entry.method === DEFLATED) {
    data = inflateEntry(packed, entry, fileName);
  } else {
    throw new ModelReadError(
      fileName,
      `packs its ${entry.name} with a compression method ConvLens cannot unpack (method ${entry.method}).`,
    );
  }
  if (crc32(data) !== entry.crc) throw damagedEntry(fileName, `the checksum of ${entry.name} does not match`);
  return data;
}

/** "model.keras is damaged: …": the directory, a header or the data contradict each other. */
function damagedEntry(fileName: string, why: string): ModelReadError {
  return new ModelReadError(fileName, `is damaged: ${why}.`);
}

function damagedArchive(fileName: string): ModelReadError {
  return new ModelReadError(fileName, 'is a damaged zip archive that cannot be unpacked.');
}

interface Directory {
  offset: number;
  end: number;
  count: number;
}

/** The central directory, from the end-of-directory record (and its ZIP64 twin where the archive has one). */
function locateDirectory(view: DataView, fileName: string): Directory {
  const record = findEndRecord(view);
  if (record < 0) throw damagedArchive(fileName);
  let count = view.getUint16(record + 10, true);
  let size = view.getUint32(record + 12, true);
  let offset = view.getUint32(record + 16, true);
  if (count === ZIP64_MARK_16 || size === ZIP64_MARK_32 || offset === ZIP64_MARK_32) {
    const zip64 = zip64EndRecord(view, record);
    if (zip64 < 0) throw damagedArchive(fileName);
    count = safeNumber(view.getBigUint64(zip64 + 32, true));
    size = safeNumber(view.getBigUint64(zip64 + 40, true));
    offset = safeNumber(view.getBigUint64(zip64 + 48, true));
  }
  // Each directory entry takes at least 46 bytes: a count the directory cannot hold is a damaged one.
  if (offset + size > view.byteLength || count * 46 > size) throw damagedArchive(fileName);
  return { offset, end: offset + size, count };
}

/** Searched backwards, past a comment of up to 64 KiB. */
function findEndRecord(view: DataView): number {
  const last = view.byteLength - 22;
  for (let at = last; at >= 0 && at >= last - ZIP64_MARK_16; at--) {
    if (view.getUint32(at, true) === END_OF_DIRECTORY && at + 22 + view.getUint16(at + 20, true) <= view.byteLength) return at;
  }
  return -1;
}

function zip64EndRecord(view: DataView, endRecord: number): number {
  const locator = endRecord - 20;
  if (locator < 0 || view.getUint32(locator, true) !== ZIP64_END_LOCATOR) return -1;
  const record = safeNumber(view.getBigUint64(locator + 8, true));
  if (record + 56 > locator || view.getUint32(record, true) !== ZIP64_END_OF_DIRECTORY) return -1;
  return record;
}

function directoryEntry(view: DataView, offset: number, name: string, extra: Uint8Array, fileName: string): ZipEntry {
  const sizes = withZip64Sizes(
    {
      size: view.getUint32(offset + 24, true),
      packedSize: view.getUint32(offset + 20, true),
      localHeaderOffset: view.getUint32(offset + 42, true),
    },
    extra,
  );
  if (!sizes) throw damagedEntry(fileName, `the ZIP64 record of ${name} is missing or cut short`);
  return {
    name,
    flags: view.getUint16(offset + 8, true),
    method: view.getUint16(offset + 10, true),
    crc: view.getUint32(offset + 16, true),
    ...sizes,
  };
}

interface EntrySizes {
  size: number;
  packedSize: number;
  localHeaderOffset: number;
}

/**
 * The sizes with each field marked 0xFFFFFFFF replaced from the ZIP64 extra field, which holds them in
 * this order and only those that are marked; undefined when a marked field has no value there.
 */
function withZip64Sizes(sizes: EntrySizes, extra: Uint8Array): EntrySizes | undefined {
  const order: (keyof EntrySizes)[] = ['size', 'packedSize', 'localHeaderOffset'];
  const marked = order.filter((field) => sizes[field] === ZIP64_MARK_32);
  if (marked.length === 0) return sizes;
  const values = zip64Values(extra);
  if (!values || values.length < marked.length) return undefined;
  const result = { ...sizes };
  marked.forEach((field, i) => (result[field] = values[i]));
  return result;
}

/** The 64-bit values of the ZIP64 extra field, or undefined when there is none. */
function zip64Values(extra: Uint8Array): number[] | undefined {
  const view = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  for (let at = 0; at + 4 <= extra.length;) {
    const id = view.getUint16(at, true);
    const length = view.getUint16(at + 2, true);
    if (at + 4 + length > extra.length) return undefined;
    if (id === ZIP64_EXTRA) {
      const values: number[] = [];
      for (let k = 0; k + 8 <= length; k += 8) values.push(safeNumber(view.getBigUint64(at + 4 + k, true)));
      return values;
    }
    at += 4 + length;
  }
  return undefined;
}

/**
 * The entry's packed bytes, after its local header, which must name the same entry and agree with the
 * directory on method and sizes (a header that defers its sizes to a trailing descriptor holds zeros).
 */
function packedData(bytes: Uint8Array, entry: ZipEntry, fileName: string): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localHeaderOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL_HEADER)
    throw damagedEntry(fileName, `the header of ${entry.name} is missing`);
  const nameLength = view.getUint16(at + 26, true);
  const extraLength = view.getUint16(at + 28, true);
  const start = at + 30 + nameLength + extraLength;
  if (start > bytes.length || decodeName(bytes.subarray(at + 30, at + 30 + nameLength)) !== entry.name) {
    throw damagedEntry(fileName, `its directory and the header of ${entry.name} disagree about its name`);
  }
  if (view.getUint16(at + 8, true) !== entry.method)
    throw damagedEntry(fileName, `its directory and the header of ${entry.name} disagree about its compression`);
  const deferred = (view.getUint16(at + 6, true) & 0x8) !== 0;
  const local = withZip64Sizes(
    { size: view.getUint32(at + 22, true), packedSize: view.getUint32(at + 18, true), localHeaderOffset: at },
    bytes.subarray(at + 30 + nameLength, start),
  );
  const agrees = local !== undefined && local.size === entry.size && local.packedSize === entry.packedSize;
  if (!agrees && !(deferred && local?.size === 0 && local.packedSize === 0)) {
    throw damagedEntry(fileName, `its directory and the header of ${entry.name} disagree about its size`);
  }
  if (start + entry.packedSize > bytes.length) throw damagedEntry(fileName, `${entry.name} runs past the end of the archive`);
  return bytes.subarray(start, start + entry.packedSize);
}

/** Thrown inside the inflater's callback to stop it as soon as it passes the declared size. */
class UnpackedTooMuch extends Error {}

function inflateEntry(packed: Uint8Array, entry: ZipEntry, fileName: string): Uint8Array {
  // The declared size is within the limits already; pages of the buffer not written to cost no memory.
  const out = new Uint8Array(entry.size);
  let written = 0;
  const inflater = new Inflate((chunk) => {
    if (written + chunk.length > entry.size) throw new UnpackedTooMuch();
    out.set(chunk, written);
    written += chunk.length;
  });
  try {
    for (let offset = 0; offset < packed.length || offset === 0; offset += INFLATE_STEP) {
      inflater.push(packed.subarray(offset, offset + INFLATE_STEP), offset + INFLATE_STEP >= packed.length);
    }
  } catch (error) {
    if (error instanceof UnpackedTooMuch) {
      throw damagedEntry(fileName, `${entry.name} unpacks to more than the ${byteSize(entry.size)} its directory declares`);
    }
    throw damagedEntry(fileName, `${entry.name} cannot be unpacked`);
  }
  if (written !== entry.size)
    throw damagedEntry(fileName, `${entry.name} unpacks to less than the ${byteSize(entry.size)} its directory declares`);
  return out;
}

/** Entry names are UTF-8 in archives Python and Keras write; the names looked for are plain ASCII. */
function decodeName(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** A 64-bit field as a number; beyond 2^53 it cannot be a real size or offset, and reads as one too large. */
function safeNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** Eight tables for CRC-32 eight bytes at a time ("slicing-by-8"): a 500 MB weights file is checked in about half a second. */
const CRC_TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[0][n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) tables[t][n] = tables[0][tables[t - 1][n] & 0xff] ^ (tables[t - 1][n] >>> 8);
  }
  return tables;
})();

/** The CRC-32 zip stores for each entry (fflate computes one internally but does not export it). */
export function crc32(bytes: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let c = -1;
  let i = 0;
  for (const end = bytes.length - 7; i < end; i += 8) {
    const low = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t7[low & 0xff] ^
      t6[(low >>> 8) & 0xff] ^
      t5[(low >>> 16) & 0xff] ^
      t4[low >>> 24] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
