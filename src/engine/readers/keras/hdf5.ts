/**
 * Read-only access to HDF5 files held in memory, over h5wasm (the HDF5 C library compiled to
 * WebAssembly). The bytes are written to h5wasm's in-memory file system, opened, read and always
 * closed and removed again, so nothing outlives the call. The same code runs in Node and in a browser:
 * h5wasm's ES module build carries its WebAssembly binary inline.
 */
import { float16ToNumber } from '../../float16';
import type { Dataset, Entity, File, Metadata, OutputData } from 'h5wasm';
import { ModelReadError } from '../../errors';
import { globalHeapDamage } from './hdf5GlobalHeap';
import { type H5wasm, importH5wasm } from './h5wasmImport';

/** A dataset's values widened or narrowed to float32, the only precision the engine computes in. */
export interface FloatArray {
  shape: number[];
  values: Float32Array;
}

/** What a dataset's header declares: its shape, its number of values and the bytes they take as stored. */
export interface DatasetInfo {
  shape: number[];
  count: number;
  bytes: number;
}

/** The most bytes one dataset read may take: h5wasm allocates with a signed 32-bit size. */
const MAX_READ_BYTES = 2 ** 31;

/** Names the file being read in messages: the opened file itself, or a file packed inside it. */
export interface Hdf5Origin {
  fileName: string;
  /** Set when the HDF5 bytes came out of an archive, e.g. `model.weights.h5` inside a `.keras` zip. */
  member?: string;
}

type H5Module = Awaited<H5wasm['ready']>;

let library: Promise<{ h5wasm: H5wasm; module: H5Module }> | undefined;
let openCount = 0;

/** Loads h5wasm on first use only: instantiating its WebAssembly costs time and memory. */
function loadLibrary(): Promise<{ h5wasm: H5wasm; module: H5Module }> {
  library ??= (async () => {
    const h5wasm = await importH5wasm();
    const module = await h5wasm.ready;
    // HDF5 errors then throw instead of being printed to the console as a diagnostic stack.
    module.activate_throwing_error_handler();
    return { h5wasm, module };
  })();
  return library;
}

/**
 * Opens `bytes` as an HDF5 file for the duration of `read`. Bytes that are not HDF5, or that
 * HDF5 cannot make sense of, become a ModelReadError naming the file.
 */
export async function readHdf5<T>(bytes: Uint8Array, origin: Hdf5Origin, read: (file: Hdf5File) => T | Promise<T>): Promise<T> {
  const superblockAt = signatureOffset(bytes);
  if (superblockAt === undefined) throw hdf5Problem(origin, 'not-hdf5');
  const { h5wasm, module } = await loadLibrary().catch((error: unknown) => {
    throw libraryFailure(origin, error);
  });
  const path = `/convlens-${++openCount}.h5`;
  module.FS!.writeFile(path, bytes);
  let file: File | undefined;
  try {
    file = new h5wasm.File(path, 'r');
    // After opening, which finds a file cut short, and before any attribute is read through the global heap.
    const heapDamage = globalHeapDamage(bytes, superblockAt);
    if (heapDamage) throw new Hdf5Failure('damaged', `a global heap collection ${heapDamage === 'loops' ? 'never ends' : 'is damaged'}`);
    return await read(new Hdf5File(file, h5wasm, module));
  } catch (error) {
    throw error instanceof Hdf5Failure || isHdf5LibraryError(error) ? hdf5Problem(origin, problemOf(error)) : error;
  } finally {
    try {
      file?.close();
    } finally {
      module.FS!.unlink(path);
    }
  }
}

/**
 * True when the HDF5 signature is where the format allows it: at the start, or after a user block
 * of 512, 1024, 2048… bytes.
 */
export function hasHdf5Signature(bytes: Uint8Array): boolean {
  return signatureOffset(bytes) !== undefined;
}

/** Where the HDF5 signature, and the superblock it begins, is. */
function signatureOffset(bytes: Uint8Array): number | undefined {
  const signature = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  for (let offset = 0; offset + signature.length <= bytes.length; offset = offset === 0 ? 512 : offset * 2) {
    if (signature.every((byte, i) => bytes[offset + i] === byte)) return offset;
  }
  return undefined;
}

/** The groups, attributes and datasets of an open file, addressed by absolute paths. */
export class Hdf5File {
  constructor(
    private readonly file: File,
    private readonly h5wasm: H5wasm,
    private readonly module: H5Module,
  ) {}

  isGroup(path: string): boolean {
    return this.entity(path) instanceof this.h5wasm.Group;
  }

  isDataset(path: string): boolean {
    return this.entity(path) instanceof this.h5wasm.Dataset;
  }

  /** Names of a group's members, in HDF5's order (alphabetical unless the file tracks creation order). */
  keys(path: string): string[] {
    const group = this.entity(path);
    return group instanceof this.h5wasm.Group ? group.keys() : [];
  }

  hasAttribute(path: string, name: string): boolean {
    return this.attribute(path, name) !== undefined;
  }

  /** A string attribute (stored as text or as bytes), or undefined when absent or not text. */
  text(path: string, name: string): string | undefined {
    const value = this.attribute(path, name);
    if (typeof value === 'string') return value;
    if (value instanceof Uint8Array) return new TextDecoder().decode(value);
    if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
    return undefined;
  }

  /**
   * A list-of-strings attribute. Python writes an empty list as an empty float array, so any
   * empty array reads as no strings.
   */
  textList(path: string, name: string): string[] | undefined {
    const value = this.attribute(path, name);
    if (typeof value === 'string') return [value];
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
    if (ArrayBuffer.isView(value) && (value as unknown as ArrayLike<number>).length === 0) return [];
    return undefined;
  }

  /**
   * A dataset's shape and the bytes its values take as stored, from its header alone: nothing of its
   * data is read, so a reader can check both before asking for the data. Undefined where there is none.
   */
  datasetInfo(path: string): DatasetInfo | undefined {
    const dataset = this.entity(path);
    if (!(dataset instanceof this.h5wasm.Dataset)) return undefined;
    const { metadata } = dataset;
    const shape = metadata.shape ?? [];
    const count = metadata.shape === null ? 0 : shape.reduce((n, d) => n * d, 1);
    return { shape, count, bytes: count * metadata.size };
  }

  /** A numeric dataset as float32, whatever its stored type (float16/32/64, integers, either byte order). */
  floats(path: string): FloatArray {
    const dataset = this.entity(path);
    if (!(dataset instanceof this.h5wasm.Dataset)) throw new Hdf5Failure('damaged', `no dataset at ${path}`);
    const { metadata } = dataset;
    const { shape, count, bytes } = this.datasetInfo(path)!;
    if (count === 0) return { shape, values: new Float32Array(0) };
    // h5wasm's _malloc takes a 32-bit signed size: a larger one would wrap round to a small buffer.
    if (!(bytes < MAX_READ_BYTES)) throw new Hdf5Failure('too-large', `${path} declares ${bytes} bytes`);
    // Known from the header: data that is not numbers is not read only to be refused.
    assertNumeric(metadata);
    return { shape, values: decodeNumbers(this.rawBytes(dataset, metadata, count), metadata, count) };
  }

  private attribute(path: string, name: string): OutputData | null | undefined {
    const entity = this.entity(path);
    if (!(entity instanceof this.h5wasm.Group || entity instanceof this.h5wasm.Dataset)) return undefined;
    const attributes = entity.attrs;
    return name in attributes ? attributes[name].value : undefined;
  }

  private entity(path: string): Entity | null {
    return path === '/' ? this.file : this.file.get(path);
  }

  /** The stored bytes exactly as in the file: h5wasm's own conversion knows no float16. */
  private rawBytes(dataset: Dataset, metadata: Metadata, count: number): Uint8Array {
    const size = metadata.size * count;
    const pointer = this.module._malloc(size);
    if (!pointer) throw new Hdf5Failure('too-large', `cannot allocate ${size} bytes to read ${dataset.path}`);
    try {
      this.module.get_dataset_data(dataset.file_id, dataset.path, null, null, null, BigInt(pointer));
      return this.module.HEAPU8.slice(pointer, pointer + size);
    } finally {
      this.module._free(pointer);
    }
  }
}

const INTEGER_CLASS = 0;
const FLOAT_CLASS = 1;

/** The stored types `numberReader` decodes: floats of 2, 4 or 8 bytes, integers of 1, 2, 4 or 8. */
function assertNumeric({ type, size }: Metadata): void {
  const sizes = type === FLOAT_CLASS ? [2, 4, 8] : type === INTEGER_CLASS ? [1, 2, 4, 8] : [];
  if (!sizes.includes(size)) throw new Hdf5Failure('damaged', `HDF5 data of type class ${type} and size ${size} is not numeric`);
}

/** h5wasm hands data over in WebAssembly's byte order (little-endian), whatever the file's order. */
function decodeNumbers(bytes: Uint8Array, metadata: Metadata, count: number): Float32Array {
  const { type, size, signed } = metadata;
  if (type === FLOAT_CLASS && size === 4) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = numberReader(view, type, size, signed, true);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = read(i * size);
  return values;
}

function numberReader(view: DataView, type: number, size: number, signed: boolean, le: boolean): (offset: number) => number {
  if (type === FLOAT_CLASS) {
    if (size === 2) return (o) => float16ToNumber(view.getUint16(o, le));
    if (size === 4) return (o) => view.getFloat32(o, le);
    if (size === 8) return (o) => view.getFloat64(o, le);
  }
  if (type === INTEGER_CLASS) {
    if (size === 1) return signed ? (o) => view.getInt8(o) : (o) => view.getUint8(o);
    if (size === 2) return signed ? (o) => view.getInt16(o, le) : (o) => view.getUint16(o, le);
    if (size === 4) return signed ? (o) => view.getInt32(o, le) : (o) => view.getUint32(o, le);
    if (size === 8) return signed ? (o) => Number(view.getBigInt64(o, le)) : (o) => Number(view.getBigUint64(o, le));
  }
  throw new Hdf5Failure('damaged', `HDF5 data of type class ${type} and size ${size} is not numeric`);
}

type Hdf5Problem = 'not-hdf5' | 'truncated' | 'damaged' | 'too-large';

/** A failure this module detects itself, already classified. */
class Hdf5Failure extends Error {
  constructor(
    readonly problem: Hdf5Problem,
    detail: string,
  ) {
    super(detail);
  }
}

/** h5wasm's throwing error handler reports failures as errors carrying HDF5's diagnostic stack. */
function isHdf5LibraryError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof ModelReadError) return false;
  return error instanceof WebAssembly.RuntimeError || /HDF5|name not defined|RuntimeError|memory access out of bounds/i.test(error.message);
}

function problemOf(error: unknown): Hdf5Problem {
  if (error instanceof Hdf5Failure) return error.problem;
  const message = error instanceof Error ? error.message : '';
  if (/truncated file/i.test(message)) return 'truncated';
  if (/enlarge memory|out of memory|\bOOM\b/i.test(message)) return 'too-large';
  return 'damaged';
}

/** h5wasm itself could not start: in a web page, usually a security policy that forbids WebAssembly. */
function libraryFailure(origin: Hdf5Origin, error: unknown): ModelReadError {
  const detail = error instanceof Error ? error.message : String(error);
  const reason = /Content Security Policy|CompileError/i.test(detail)
    ? 'this page does not allow WebAssembly'
    : detail.split('\n', 1)[0].slice(0, 200);
  return new ModelReadError(origin.fileName, `cannot be read here: the HDF5 reader failed to start (${reason}).`);
}

function hdf5Problem(origin: Hdf5Origin, problem: Hdf5Problem): ModelReadError {
  const { fileName, member } = origin;
  if (member) {
    const what = {
      'not-hdf5': `has a ${member} that is not an HDF5 file.`,
      truncated: `has a ${member} that is cut short, so its weights cannot be read.`,
      damaged: `has a damaged ${member} whose weights cannot be read.`,
      'too-large': `has a ${member} too large for the memory of the HDF5 reader.`,
    };
    return new ModelReadError(fileName, what[problem]);
  }
  const what = {
    'not-hdf5': 'is not an HDF5 file.',
    truncated: 'is cut short: it ends before its HDF5 data does, as after an interrupted download or copy.',
    damaged: 'is a damaged HDF5 file whose contents cannot be read.',
    'too-large': 'is too large for the memory of the HDF5 reader.',
  };
  return new ModelReadError(fileName, what[problem]);
}
