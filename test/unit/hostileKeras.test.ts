/**
 * Keras (.keras zip, .h5 HDF5) and TensorFlow.js (model.json) files made to exhaust the machine: zip
 * bombs, headers that lie about sizes, flipped bits, ZIP64 sizes, datasets whose headers declare more
 * than the model needs, configs of too many layers or nested too deeply, manifests declaring too many
 * weight bytes. Each must end in one sentence naming the file, after reading no more than needed; the
 * cases that would take memory run through the command line in a child whose peak memory is measured.
 */
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test, type TestContext } from 'node:test';
import { constants as zlibConstants, crc32, deflateRawSync } from 'node:zlib';
import { strToU8 } from 'fflate';
import { concatBytes } from '../../src/engine/bytes';
import { ModelReadError } from '../../src/engine/errors';
import { LimitExceededError, type Limits } from '../../src/engine/limits';
import type { ModelSource } from '../../src/engine/modelSource';
import { loadModel, readModelSummary } from '../../src/engine/readers';
import { readHdf5 } from '../../src/engine/readers/keras/hdf5';
import { nestingDepth } from '../../src/engine/readers/jsonNesting';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { HOSTILE_RSS_LIMIT, runCliBounded } from '../support/boundedRun';
import { repoRoot, sampleModel } from '../support/paths';
import { temporaryFolder } from '../support/temporaryFolders';

before(() => useNodeBackend());

const IMAGE = path.join(repoRoot, 'test', 'fixtures', 'images', 'pattern.png');
const MNIST_KERAS = path.join(repoRoot, 'test', 'fixtures', 'keras', 'mnist-cnn.keras');
const FER2013 = path.join(repoRoot, 'test', 'fixtures', 'keras', 'fer2013_mini_XCEPTION.102-0.66.hdf5');
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function memorySource(
  fileName: string,
  bytes: Uint8Array,
  limits?: Partial<Limits>,
  siblings: Record<string, Uint8Array> = {},
): ModelSource {
  return {
    fileName,
    limits,
    read: async () => bytes,
    readSibling: async (name) => {
      if (!(name in siblings)) throw new Error(`no sibling ${name}`);
      return siblings[name];
    },
  };
}

/** The error loading `source` ends in; fails the test if it loads. */
async function loadError(source: ModelSource, read: (source: ModelSource) => Promise<unknown> = loadModel): Promise<ModelReadError> {
  const error = await read(source).then(
    () => assert.fail('expected the model to be refused'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ModelReadError, `expected a ModelReadError, got ${String(error)}`);
  assertOneSentence(error.message, source.fileName);
  return error;
}

/** One line naming the file, in ConvLens's words: no engine message and no raw 32-bit marker. */
function assertOneSentence(message: string, fileName: string): void {
  assert.ok(message.startsWith(`${fileName} `), message);
  assert.ok(message.endsWith('.'), message);
  assert.doesNotMatch(message, /\n|Maximum call stack|Invalid typed array|4294967295|undefined|RangeError|TypeError/, message);
}

/** Runs the command line on `args` and checks it refused with `message` within the memory bound; the cost is reported, not asserted. */
async function assertRefusedByCli(t: TestContext, args: string[], message: RegExp): Promise<void> {
  const run = await runCliBounded(args);
  t.diagnostic(`peak memory ${((run.maxRssBytes ?? 0) / 1e6).toFixed(0)} MB, ${run.seconds.toFixed(1)} s`);
  assert.equal(run.hung, false, `the command hung: ${run.output.slice(0, 300)}`);
  assert.equal(run.code, 1, run.output.slice(0, 300));
  assert.match(run.output, message);
  assert.ok(run.maxRssBytes !== undefined && run.maxRssBytes < HOSTILE_RSS_LIMIT, `peak memory ${run.maxRssBytes} bytes`);
}

// ---------------------------------------------------------------------------------------------------
// Zip archives written byte by byte, so that every field can be made to lie.

interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Packed bytes to store instead of `data` (deflated); the declared size and CRC still come from `data` unless given. */
  packed?: Uint8Array;
  deflate?: boolean;
  size?: number;
  packedSize?: number;
  crc?: number;
  /** The local header's uncompressed size, where it should disagree with the directory's. */
  localSize?: number;
  /** Sizes marked 0xFFFFFFFF and given in a ZIP64 extra field; 'marked only' leaves the extra field out. */
  zip64?: boolean | 'marked only';
}

function writeZip(entries: ZipInput[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const directory: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const packed = entry.packed ?? (entry.deflate ? deflateRawSync(entry.data) : entry.data);
    const method = entry.packed || entry.deflate ? 8 : 0;
    const size = entry.size ?? entry.data.length;
    const crc = entry.crc ?? crc32(entry.data);
    const packedSize = entry.packedSize ?? packed.length;
    const name = strToU8(entry.name);
    const extra = entry.zip64 === true ? zip64Extra(size, packedSize) : new Uint8Array(0);
    const mark = (value: number) => (entry.zip64 ? 0xffffffff : value);
    const local = header(30, name, extra, (view) => {
      view.setUint32(0, 0x04034b50, true);
      view.setUint16(4, 45, true);
      view.setUint16(8, method, true);
      view.setUint32(14, crc, true);
      view.setUint32(18, mark(packedSize), true);
      view.setUint32(22, mark(entry.localSize ?? size), true);
      view.setUint16(26, name.length, true);
      view.setUint16(28, extra.length, true);
    });
    directory.push(
      header(46, name, extra, (view) => {
        view.setUint32(0, 0x02014b50, true);
        view.setUint16(4, 45, true);
        view.setUint16(6, 45, true);
        view.setUint16(10, method, true);
        view.setUint32(16, crc, true);
        view.setUint32(20, mark(packedSize), true);
        view.setUint32(24, mark(size), true);
        view.setUint16(28, name.length, true);
        view.setUint16(30, extra.length, true);
        view.setUint32(42, offset, true);
      }),
    );
    locals.push(local, packed);
    offset += local.length + packed.length;
  }
  const directorySize = directory.reduce((sum, part) => sum + part.length, 0);
  const end = new Uint8Array(22);
  const view = new DataView(end.buffer);
  view.setUint32(0, 0x06054b50, true);
  view.setUint16(8, entries.length, true);
  view.setUint16(10, entries.length, true);
  view.setUint32(12, directorySize, true);
  view.setUint32(16, offset, true);
  return concatBytes([...locals, ...directory, end]);
}

function header(fixed: number, name: Uint8Array, extra: Uint8Array, fill: (view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(fixed + name.length + extra.length);
  fill(new DataView(bytes.buffer));
  bytes.set(name, fixed);
  bytes.set(extra, fixed + name.length);
  return bytes;
}

function zip64Extra(size: number, packedSize: number): Uint8Array {
  const extra = new Uint8Array(20);
  const view = new DataView(extra.buffer);
  view.setUint16(0, 0x0001, true);
  view.setUint16(2, 16, true);
  view.setBigUint64(4, BigInt(size), true);
  view.setBigUint64(12, BigInt(packedSize), true);
  return extra;
}

/**
 * A raw deflate stream that unpacks to `size` zeros (a multiple of 16 MiB) from about a thousandth of
 * that: one sync-flushed segment repeated, which ends byte-aligned and may follow itself, then an empty
 * final block. Made in milliseconds, where deflating 2 GiB would take seconds and the memory.
 */
function zeroBomb(size: number): Uint8Array {
  const segmentSize = 16 * MiB;
  const segment = deflateRawSync(new Uint8Array(segmentSize), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const emptyFinalBlock = Uint8Array.of(0x01, 0x00, 0x00, 0xff, 0xff);
  return concatBytes([...Array.from({ length: size / segmentSize }, () => segment), emptyFinalBlock]);
}

// ---------------------------------------------------------------------------------------------------
// A small Keras 3 model: Input(4) → Dense(3) named "dense", its weights written with h5wasm.

type H5wasm = typeof import('h5wasm').default;
let h5: Promise<{ h5wasm: H5wasm; FS: NonNullable<Awaited<H5wasm['ready']>['FS']> }> | undefined;
let h5Count = 0;

async function writeHdf5(fill: (file: InstanceType<H5wasm['File']>) => void): Promise<Uint8Array> {
  h5 ??= import('h5wasm').then(async ({ default: h5wasm }) => ({ h5wasm, FS: (await h5wasm.ready).FS! }));
  const { h5wasm, FS } = await h5;
  const name = `/hostile-${++h5Count}.h5`;
  const file = new h5wasm.File(name, 'w');
  try {
    fill(file);
  } finally {
    file.close();
  }
  const bytes = FS.readFile(name);
  FS.unlink(name);
  return bytes;
}

function denseConfig(extraLayerConfig: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [
        { class_name: 'InputLayer', config: { name: 'input', batch_shape: [null, 4], dtype: 'float32' } },
        { class_name: 'Dense', config: { name: 'dense', units: 3, activation: 'softmax', ...extraLayerConfig } },
      ],
    },
  };
}

/** Weights for `denseConfig`, or with the kernel replaced by a chunked dataset of `kernelShape` that holds no data. */
function denseWeights(kernelShape?: number[]): Promise<Uint8Array> {
  return writeHdf5((file) => {
    const vars = file.create_group('layers').create_group('dense').create_group('vars');
    if (kernelShape) {
      const kernel = vars.create_dataset({ name: '0', data: new Float32Array(1), shape: [1, 1], maxshape: [null, null], chunks: [64, 64] });
      kernel.resize(kernelShape);
    } else {
      vars.create_dataset({ name: '0', data: new Float32Array(12).fill(0.5), shape: [4, 3] });
    }
    vars.create_dataset({ name: '1', data: new Float32Array(3), shape: [3] });
  });
}

const json = (value: unknown) => strToU8(JSON.stringify(value));
const METADATA = json({ keras_version: '3.4.1' });

function kerasArchive(
  weights: ZipInput | Uint8Array | undefined,
  config: object = denseConfig(),
  metadata: Uint8Array = METADATA,
): Uint8Array {
  const entries: ZipInput[] = [
    { name: 'metadata.json', data: metadata },
    { name: 'config.json', data: json(config) },
  ];
  if (weights) entries.push(weights instanceof Uint8Array ? { name: 'model.weights.h5', data: weights } : weights);
  return writeZip(entries);
}

function writeFile(folder: string, name: string, bytes: Uint8Array): string {
  const file = path.join(folder, name);
  writeFileSync(file, bytes);
  return file;
}

/** JSON nested `depth` levels deep, [[[…]]], as a value for small depths. */
function nested(depth: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level++) value = [value];
  return value;
}

/**
 * `value` as JSON bytes with the string "DEEP" replaced by arrays nested `depth` levels deep: written as
 * text, since JSON.stringify itself would overflow the stack on such a value.
 */
function jsonWithDeep(value: unknown, depth: number): Uint8Array {
  return strToU8(JSON.stringify(value).replace('"DEEP"', '['.repeat(depth) + ']'.repeat(depth)));
}

describe('.keras archives that would unpack more than they should', () => {
  test('the hand-written archive of the small model loads, so the refusals below are about the damage alone', async () => {
    const model = await loadModel(memorySource('model.keras', kerasArchive(await denseWeights())));
    model.dispose();
  });

  test('a weights entry declaring 2 GiB is refused before any of it is unpacked', async (t) => {
    const bytes = kerasArchive({ name: 'model.weights.h5', data: new Uint8Array(0), packed: zeroBomb(2 * GiB), size: 2 * GiB });
    const error = await loadError(memorySource('model.keras', bytes));
    assert.ok(error instanceof LimitExceededError && error.limit === 'modelBytes', error.message);
    assert.match(
      error.message,
      /^model\.keras has a model\.weights\.h5 that unpacks to 2\.1 GB, more than the 1\.0 GB ConvLens allows one model \(raise it/,
    );
    const folder = temporaryFolder('convlens-hostile-');
    await assertRefusedByCli(
      t,
      ['predict', writeFile(folder, 'model.keras', bytes), IMAGE],
      /^convlens: model\.keras has a model\.weights\.h5 that unpacks to 2\.1 GB/m,
    );
  });

  test('an entry declaring more than 200 times its packed size is refused before it is unpacked', async () => {
    const bytes = kerasArchive({ name: 'model.weights.h5', data: new Uint8Array(0), packed: zeroBomb(512 * MiB), size: 512 * MiB });
    const error = await loadError(memorySource('model.keras', bytes));
    assert.ok(error instanceof LimitExceededError && error.limit === 'compressionRatio', error.message);
    assert.match(
      error.message,
      /^model\.keras has a model\.weights\.h5 that unpacks from \d+\.\d kB to 536\.9 MB, more than the 200:1 compression ConvLens unpacks\.$/,
    );
  });

  test('an entry whose header understates its size stops unpacking where the declared size ends', async (t) => {
    // 2 GiB of zeros in 2 MB, declared as 16 MiB: a ratio the limit allows, and a lie found while inflating.
    const bytes = kerasArchive({ name: 'model.weights.h5', data: new Uint8Array(0), packed: zeroBomb(2 * GiB), size: 16 * MiB, crc: 0 });
    const error = await loadError(memorySource('model.keras', bytes));
    assert.equal(error.message, 'model.keras is damaged: model.weights.h5 unpacks to more than the 16.8 MB its directory declares.');
    const folder = temporaryFolder('convlens-hostile-');
    await assertRefusedByCli(
      t,
      ['predict', writeFile(folder, 'model.keras', bytes), IMAGE],
      /^convlens: model\.keras is damaged: model\.weights\.h5 unpacks to more than/m,
    );
  });

  test('an entry whose header overstates its size is damaged', async () => {
    const weights = await denseWeights();
    const bytes = kerasArchive({ name: 'model.weights.h5', data: weights, deflate: true, size: weights.length + 1000 });
    const error = await loadError(memorySource('model.keras', bytes));
    assert.match(
      error.message,
      /^model\.keras is damaged: model\.weights\.h5 unpacks to less than the \d+\.\d kB its directory declares\.$/,
    );
  });

  test('a directory and a local header that disagree about an entry are damage, found before unpacking', async () => {
    const weights = await denseWeights();
    const bytes = kerasArchive({ name: 'model.weights.h5', data: weights, localSize: 2 * GiB });
    const error = await loadError(memorySource('model.keras', bytes));
    assert.equal(error.message, 'model.keras is damaged: its directory and the header of model.weights.h5 disagree about its size.');
  });

  test('a stored entry that runs past the end of the archive is damaged', async () => {
    const weights = await denseWeights();
    const declared = weights.length + MiB;
    const bytes = kerasArchive({ name: 'model.weights.h5', data: weights, size: declared, packedSize: declared });
    const error = await loadError(memorySource('model.keras', bytes));
    assert.equal(error.message, 'model.keras is damaged: model.weights.h5 runs past the end of the archive.');
  });

  test('a flipped bit in the weights fails their checksum, as Python zipfile.testzip() finds', async () => {
    const bytes = new Uint8Array(readFileSync(MNIST_KERAS));
    const view = new DataView(bytes.buffer);
    const weightsData = 6345 + 30 + 'model.weights.h5'.length;
    assert.equal(view.getUint32(6345, true), 0x04034b50, 'the weights entry header is where the fixture has it');
    bytes[weightsData + 1_000_000] ^= 0x10; // inside a kernel: HDF5 would read it without complaint
    const error = await loadError(memorySource('mnist-cnn.keras', bytes));
    assert.equal(error.message, 'mnist-cnn.keras is damaged: the checksum of model.weights.h5 does not match.');
  });

  test('ZIP64 sizes in the extra field are read: the archive loads', async () => {
    const weights = await denseWeights();
    const bytes = writeZip([
      { name: 'metadata.json', data: METADATA, zip64: true },
      { name: 'config.json', data: json(denseConfig()), zip64: true, deflate: true },
      { name: 'model.weights.h5', data: weights, zip64: true },
    ]);
    const model = await loadModel(memorySource('model.keras', bytes));
    assert.deepEqual(model.inputs[0].shape, [null, 4]);
    model.dispose();
  });

  test('ZIP64 sizes: missing, or too large, are refused without the 0xFFFFFFFF marker in the message', async () => {
    const missing = writeZip([{ name: 'config.json', data: json(denseConfig()), zip64: 'marked only' }]);
    const damaged = await loadError(memorySource('model.keras', missing), readModelSummary);
    assert.equal(damaged.message, 'model.keras is damaged: the ZIP64 record of config.json is missing or cut short.');

    const huge = kerasArchive({
      name: 'model.weights.h5',
      data: new Uint8Array(0),
      packed: zeroBomb(16 * MiB),
      size: 5 * GiB,
      zip64: true,
    });
    const error = await loadError(memorySource('model.keras', huge));
    assert.ok(error instanceof LimitExceededError && error.limit === 'modelBytes', error.message);
    assert.match(error.message, /^model\.keras has a model\.weights\.h5 that unpacks to 5\.4 GB, more than/);
  });
});

describe('HDF5 weights are checked from their headers before their data is read', () => {
  test('a 1 GiB kernel of the wrong shape is reported from its header, without reading it', async (t) => {
    const bytes = kerasArchive(await denseWeights([16384, 16384]));
    assert.ok(bytes.length < MiB, 'the dataset is declared, not stored');
    const error = await loadError(memorySource('model.keras', bytes));
    assert.equal(
      error.message,
      'model.keras has a weight of shape [16384, 16384] for layer "dense" (Dense) where [4, 3] is needed (kernel).',
    );
    const folder = temporaryFolder('convlens-hostile-');
    await assertRefusedByCli(
      t,
      ['predict', writeFile(folder, 'model.keras', bytes), IMAGE],
      /^convlens: model\.keras has a weight of shape \[16384, 16384\]/m,
    );
  });

  test('a dataset of 2^34 bytes is refused before h5wasm allocates for it, where a 32-bit size would wrap round', async () => {
    const bytes = await denseWeights([65536, 65536]);
    const error = await readHdf5(bytes, { fileName: 'model.keras', member: 'model.weights.h5' }, (file) => {
      assert.deepEqual(file.datasetInfo('/layers/dense/vars/0'), { shape: [65536, 65536], count: 2 ** 32, bytes: 2 ** 34 });
      return file.floats('/layers/dense/vars/0');
    }).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ModelReadError);
    assert.equal(error.message, 'model.keras has a model.weights.h5 too large for the memory of the HDF5 reader.');
  });

  test('the declared total of all weights is checked against the limit before any is read', async () => {
    const source = memorySource('fer2013.hdf5', new Uint8Array(readFileSync(FER2013)), { modelBytes: 100_000 });
    const error = await loadError(source);
    assert.ok(error instanceof LimitExceededError && error.limit === 'modelBytes', error.message);
    assert.match(
      error.message,
      /^fer2013\.hdf5 declares \d+\.\d kB of weights, more than the 100\.0 kB ConvLens allows one model \(raise it/,
    );
  });
});

describe('HDF5 global heap collections that HDF5 would walk for ever', () => {
  /**
   * A Keras 2 full-model file whose string attributes live in a global heap collection ("GCOL"), with
   * `damage` applied to the collection: its header is 16 bytes and each object's header 16 more
   * (index, references, reserved, then its 8-byte size).
   */
  async function h5WithDamagedHeap(damage: (view: DataView, collection: number, freeSpace: number) => void): Promise<Uint8Array> {
    const bytes = await writeHdf5((file) => {
      file.create_attribute('keras_version', '2.6.0');
      file.create_attribute('model_config', JSON.stringify(denseConfig()));
    });
    const collection = Buffer.from(bytes).indexOf('GCOL');
    assert.ok(collection > 0, 'h5wasm keeps the strings in a global heap');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = collection + Number(view.getBigUint64(collection + 8, true));
    // Objects 1, 2… then the free space, object 0, which runs to the end of the collection.
    let at = collection + 16;
    while (view.getUint16(at, true) !== 0) at += 16 + Math.ceil(Number(view.getBigUint64(at + 8, true)) / 8) * 8;
    assert.equal(at + Number(view.getBigUint64(at + 8, true)), end, 'the free space closes the collection');
    damage(view, collection, at);
    return bytes;
  }

  test('a free-space object of size 0, on which HDF5 would loop for ever, is found before any attribute is read', async () => {
    // Intact, the file is read through its strings as far as its (absent) weights.
    const intact = await loadError(memorySource('model.h5', await h5WithDamagedHeap(() => {})));
    assert.match(intact.message, /^model\.h5 has no list of its weighted layers \(layer_names\)/);
    // The fuzzer's case: an object's size grown by a flipped bit, so that the walk lands in the zeros of
    // the free space. Setting the free space's own size to 0 is the same loop, shown directly.
    const bytes = await h5WithDamagedHeap((view, _collection, freeSpace) => view.setBigUint64(freeSpace + 8, 0n, true));
    const error = await loadError(memorySource('model.h5', bytes), readModelSummary);
    assert.equal(error.message, 'model.h5 is a damaged HDF5 file whose contents cannot be read.');
  });

  test('an object running past the end of its collection is damage too', async () => {
    const bytes = await h5WithDamagedHeap((view, collection) => view.setBigUint64(collection + 16 + 8, 1n << 20n, true));
    const error = await loadError(memorySource('model.h5', bytes), readModelSummary);
    assert.equal(error.message, 'model.h5 is a damaged HDF5 file whose contents cannot be read.');
  });
});

describe('layer settings tfjs-layers would report in its own words', () => {
  const sample = () => JSON.parse(readFileSync(sampleModel, 'utf8'));
  const layersOf = (model: {
    modelTopology: {
      model_config?: { config: { layers: { config: Record<string, unknown> }[] } };
      config: { layers: { config: Record<string, unknown> }[] };
    };
  }) => (model.modelTopology.model_config ?? model.modelTopology).config.layers;

  test('a Conv2D whose filters key a flipped bit renamed is refused naming the layer and the setting', async () => {
    const model = sample();
    const conv = layersOf(model)[1].config;
    // The fuzzer's case: "filters" became "filter3", and tfjs-layers said "… but got undefined".
    conv.filter3 = conv.filters;
    delete conv.filters;
    const error = await loadError(memorySource('model.json', json(model)), readModelSummary);
    assert.equal(error.message, 'model.json has a layer "conv1" (Conv2D) without its filters setting, which must be a positive integer.');
  });

  test('numeric settings of the wrong kind are refused before tfjs-layers builds the layer', async () => {
    const cases: [number, string, unknown, string][] = [
      [1, 'filters', 0, 'model.json has a layer "conv1" (Conv2D) whose filters setting, 0, is not a positive integer.'],
      [
        1,
        'kernel_size',
        'three',
        'model.json has a layer "conv1" (Conv2D) whose kernel_size setting is not a positive integer or a list of them.',
      ],
      [
        1,
        'strides',
        [1, null],
        'model.json has a layer "conv1" (Conv2D) whose strides setting is not a positive integer or a list of them.',
      ],
      [
        0,
        'scale',
        null,
        'model.json has a layer "rescale" (Rescaling) without its scale setting, which must be a number or a list of them.',
      ],
    ];
    for (const [index, key, value, message] of cases) {
      const model = sample();
      layersOf(model)[index].config[key] = value;
      const error = await loadError(memorySource('model.json', json(model)), readModelSummary);
      assert.equal(error.message, message);
    }
  });

  test('a Dense without units in a .keras config is refused the same way', async () => {
    const config = denseConfig();
    delete ((config.config as { layers: { config: Record<string, unknown> }[] }).layers[1].config as Record<string, unknown>).units;
    const error = await loadError(memorySource('model.keras', kerasArchive(await denseWeights(), config)), readModelSummary);
    assert.equal(error.message, 'model.keras has a layer "dense" (Dense) without its units setting, which must be a positive integer.');
  });
});

describe('configs of too many layers, or nested too deeply', () => {
  test('a .keras of 10,001 layers is refused before it is converted or built: tfjs-layers takes quadratic time to build them', async (t) => {
    const layers = Array.from({ length: 10_001 }, (_, i) => ({ class_name: 'Dense', config: { name: `d${i}`, units: 1 } }));
    const bytes = kerasArchive(undefined, { class_name: 'Sequential', config: { name: 's', layers } });
    const error = await loadError(memorySource('model.keras', bytes), readModelSummary);
    assert.ok(error instanceof LimitExceededError && error.limit === 'graphNodes', error.message);
    assert.equal(error.message, 'model.keras has 10,001 layers, more than the 10,000 ConvLens reads in one model.');
    const folder = temporaryFolder('convlens-hostile-');
    await assertRefusedByCli(t, ['summary', writeFile(folder, 'model.keras', bytes)], /^convlens: model\.keras has 10,001 layers/m);
  });

  test('a chain of layers listed in reverse builds in linear passes, and one too long for tfjs-layers is refused', async () => {
    const chain = (count: number) => {
      const layers = [
        { class_name: 'InputLayer', name: 'input', config: { name: 'input', batch_shape: [null, 4] }, inbound_nodes: [] },
        ...Array.from({ length: count }, (_, i) => ({
          class_name: 'ReLU',
          name: `r${i}`,
          config: { name: `r${i}` },
          inbound_nodes: [[[i === 0 ? 'input' : `r${i - 1}`, 0, 0, {}]]],
        })).reverse(),
      ];
      const config = {
        class_name: 'Functional',
        config: { name: 'chain', layers, input_layers: [['input', 0, 0]], output_layers: [[`r${count - 1}`, 0, 0]] },
      };
      return kerasArchive(undefined, config, json({ keras_version: '2.15.0' }));
    };
    const summary = await readModelSummary(memorySource('chain.keras', chain(1000)));
    assert.equal(summary.layers.length, 1001);
    const error = await loadError(memorySource('chain.keras', chain(9000)), readModelSummary);
    assert.equal(error.message, 'chain.keras has a chain of layers too long for TensorFlow.js to build.');
  });

  test('a wide .keras of 2,000 weighted layers has its weights matched by name', async () => {
    const count = 2000;
    const layers = [
      { class_name: 'InputLayer', name: 'input', config: { name: 'input', batch_shape: [null, 2] }, inbound_nodes: [] },
      ...Array.from({ length: count }, (_, i) => ({
        class_name: 'Dense',
        name: `d${i}`,
        config: { name: `d${i}`, units: 1, use_bias: false },
        inbound_nodes: [[['input', 0, 0, {}]]],
      })),
    ];
    const config = {
      class_name: 'Functional',
      config: { name: 'wide', layers, input_layers: [['input', 0, 0]], output_layers: layers.slice(1).map((l) => [l.name, 0, 0]) },
    };
    const weights = await writeHdf5((file) => {
      const group = file.create_group('layers');
      for (let i = 0; i < count; i++) {
        const key = i === 0 ? 'dense' : `dense_${i}`;
        group
          .create_group(key)
          .create_group('vars')
          .create_dataset({ name: '0', data: Float32Array.of(i, -i), shape: [2, 1] });
      }
    });
    const model = await loadModel(memorySource('wide.keras', kerasArchive(weights, config, json({ keras_version: '2.15.0' }))));
    model.dispose();
  });

  const DEEP = 100_000;

  test('a config.json nested 100,000 levels deep is refused before it is walked', async () => {
    const config = jsonWithDeep(denseConfig({ extra: 'DEEP' }), DEEP);
    const bytes = writeZip([{ name: 'config.json', data: config }]);
    const error = await loadError(memorySource('model.keras', bytes), readModelSummary);
    assert.ok(error instanceof LimitExceededError && error.limit === 'nestingDepth', error.message);
    assert.equal(
      error.message,
      'model.keras has a config.json nested 100,005 levels deep, more than the 200 levels of nesting ConvLens reads.',
    );
  });

  test('a metadata.json nested too deeply is refused too', async () => {
    const bytes = kerasArchive(undefined, denseConfig(), jsonWithDeep({ keras_version: 'DEEP' }, DEEP));
    const error = await loadError(memorySource('model.keras', bytes), readModelSummary);
    assert.match(error.message, /^model\.keras has a metadata\.json nested 100,001 levels deep, more than the 200 levels/);
  });

  test('an HDF5 model_config nested too deeply is refused', async () => {
    const config = new TextDecoder().decode(jsonWithDeep(denseConfig({ extra: 'DEEP' }), DEEP));
    const bytes = await writeHdf5((file) => file.create_attribute('model_config', config));
    const error = await loadError(memorySource('model.h5', bytes), readModelSummary);
    assert.match(error.message, /^model\.h5 has a model_config attribute nested 100,005 levels deep, more than the 200 levels/);
  });

  test('model.json files, layers and graph, nested too deeply are refused', async () => {
    const layersJson = jsonWithDeep({ modelTopology: { class_name: 'Sequential', config: { layers: [] } }, deep: 'DEEP' }, DEEP);
    const layersError = await loadError(memorySource('model.json', layersJson), readModelSummary);
    assert.equal(layersError.message, 'model.json is nested 100,001 levels deep, more than the 200 levels of nesting ConvLens reads.');
    const graphJson = jsonWithDeep(
      { format: 'graph-model', modelTopology: { node: [{ name: 'x', op: 'Placeholder', attr: 'DEEP' }] } },
      DEEP,
    );
    const graphError = await loadError(memorySource('model.json', graphJson), readModelSummary);
    assert.equal(graphError.message, 'model.json is nested 100,004 levels deep, more than the 200 levels of nesting ConvLens reads.');
  });

  test('a config nested 150 levels deep, under the limit, builds without overflowing the stack', async () => {
    const config = denseConfig({ extra: nested(145) });
    assert.equal(nestingDepth(config), 150);
    const model = await loadModel(memorySource('model.keras', kerasArchive(await denseWeights(), config)));
    model.dispose();
  });

  test('models nested inside models to 150 levels of JSON build too', async () => {
    let config: Record<string, unknown> = denseConfig();
    for (let level = 0; nestingDepth(config) + 4 <= 150; level++) {
      config = { class_name: 'Sequential', config: { name: `outer_${level}`, layers: [config] } };
    }
    const summary = await readModelSummary(memorySource('nested.keras', kerasArchive(undefined, config)));
    assert.ok(summary.layers.length > 0);
  });
});

describe('TensorFlow.js model.json files that declare too much', () => {
  const sample = () => JSON.parse(readFileSync(sampleModel, 'utf8'));

  test('a manifest declaring 40 GB of weights is refused before any shard is read', async () => {
    const model = sample();
    model.weightsManifest[0].weights.push({ name: 'huge', shape: [100_000, 100_000], dtype: 'float32' });
    const source = memorySource('model.json', json(model));
    source.readSibling = () => assert.fail('no shard may be read');
    const error = await loadError(source);
    assert.ok(error instanceof LimitExceededError && error.limit === 'modelBytes', error.message);
    assert.match(
      error.message,
      /^model\.json declares 40\.\d GB of weights in its "weightsManifest", more than the 1\.0 GB ConvLens allows one model/,
    );

    model.weightsManifest[0].weights.at(-1).shape = [1e200, 1e200];
    const absurd = await loadError(memorySource('model.json', json(model)));
    assert.match(absurd.message, /^model\.json declares over 9007\.2 TB of weights/);
  });

  test('a shard larger than the manifest declares is refused from its size, unread', async (t) => {
    const folder = temporaryFolder('convlens-hostile-');
    const model = sample();
    model.weightsManifest = [{ paths: ['weights.bin'], weights: [{ name: 'conv2d/kernel', shape: [2], dtype: 'float32' }] }];
    const modelFile = writeFile(folder, 'model.json', json(model));
    writeFileSync(path.join(folder, 'weights.bin'), '');
    truncateSync(path.join(folder, 'weights.bin'), 1.5 * GiB); // sparse: no disk, and reading it would cost 1.5 GB
    const error = await loadError(fileModelSource(modelFile));
    assert.match(
      error.message,
      /^model\.json lists the weight file "weights\.bin", which is 1\.6 GB, more than the 8 bytes the model declares for it\.$/,
    );
    await assertRefusedByCli(
      t,
      ['predict', modelFile, IMAGE],
      /^convlens: model\.json lists the weight file "weights\.bin", which is 1\.6 GB/m,
    );
  });

  test('a graph model of 200,001 nodes is refused before its graph is built', async () => {
    const node = Array.from({ length: 200_001 }, (_, i) => ({ name: `n${i}`, op: 'Placeholder' }));
    const error = await loadError(memorySource('model.json', json({ format: 'graph-model', modelTopology: { node } })), readModelSummary);
    assert.ok(error instanceof LimitExceededError && error.limit === 'graphNodes', error.message);
    assert.equal(error.message, 'model.json has 200,001 nodes, more than the 200,000 ConvLens reads in one model.');
  });

  test("a Lambda layer is named in one full sentence, not tfjs-layers' list of reasons cut short", async () => {
    const model = sample();
    const layers = model.modelTopology.model_config?.config.layers ?? model.modelTopology.config.layers;
    layers.splice(1, 0, {
      class_name: 'Lambda',
      config: { name: 'custom_fn', function: ['4wEAAAAAAAAA', null, null], function_type: 'lambda' },
    });
    const error = await loadError(memorySource('model.json', json(model)), readModelSummary);
    assert.equal(
      error.message,
      'model.json has a layer "custom_fn" of class Lambda, which runs Python code and so cannot be rebuilt outside Python.',
    );
  });

  test("an unknown layer class ends its sentence where tfjs-layers' first sentence does", async () => {
    const model = sample();
    const layers = model.modelTopology.model_config?.config.layers ?? model.modelTopology.config.layers;
    layers[1].class_name = 'MyAttention';
    const error = await loadError(memorySource('model.json', json(model)), readModelSummary);
    assert.equal(error.message, 'model.json has a layer topology that cannot be built: Unknown layer: MyAttention.');
  });
});
