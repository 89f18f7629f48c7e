/**
 * Images from a stranger cannot exhaust the machine: a file whose header declares more pixels than the
 * limit is refused before it is decoded (PNG, JPEG; the command line and the webviews alike), a PNG whose
 * image data unpacks to more than its header's rows is refused without keeping what it unpacks, and an
 * input that is no regular file (a FIFO, a device, a folder) or is too large is refused before it is
 * opened. Folder listings (the command line's and the Analyze panel's) hold regular files only, and
 * follow links only inside the folder. Each refusal is one sentence naming the file; the command line
 * exits with 1 and stays under HOSTILE_RSS_LIMIT of memory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, promises as fs, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { constants, deflateRawSync, inflateSync } from 'node:zlib';
import { greyPng } from '../support/pngChunks';
import { importWithVscode, Uri } from '../support/vscodeStandIn';
import { readInput } from '../../src/cli/inputs';
import { listImages } from '../../src/cli/imageFolder';
import type { Preprocessing } from '../../src/engine/preprocess';
import { encodePng } from '../../src/node/pngFile';
import { decodeImage } from '../../webview/common/images';
import { HOSTILE_RSS_LIMIT, runCliBounded } from '../support/boundedRun';
import { sampleModel } from '../support/paths';
import { temporaryFolder } from '../support/temporaryFolders';

const RAISE =
  ' (raise it with the setting "convlens.limits.imageMegapixels" or the command-line option --max-image-megapixels if you trust this file).';
const OVER_LIMIT = (name: string, size: string) =>
  `${name} is ${size} pixels, more than the 100 megapixels ConvLens decodes in one image${RAISE}`;

/**
 * A zlib stream of `length` zero bytes, made in milliseconds: a fully flushed deflate block of a
 * mebibyte of zeros (which refers to nothing before it) repeated, a block for the rest, an empty final
 * block and the checksum (the Adler-32 of n zeros is (n mod 65521) << 16 | 1).
 */
function zerosDeflated(length: number): Buffer {
  const block = (n: number) => deflateRawSync(Buffer.alloc(n), { finishFlush: constants.Z_FULL_FLUSH });
  const whole = block(2 ** 20);
  const rest = length % 2 ** 20;
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((length % 65521) << 16) | 1) >>> 0, 0);
  return Buffer.concat([
    Buffer.from([0x78, 0xda]),
    ...Array<Buffer>(Math.floor(length / 2 ** 20)).fill(whole),
    ...(rest ? [block(rest)] : []),
    Buffer.from([0x03, 0x00]),
    adler,
  ]);
}

/** A valid grey PNG of `width` × `height` black pixels whose image data unpacks to `dataBytes` (the rows need height × (width + 1)). */
function blackPng(width: number, height: number, dataBytes = height * (width + 1)): Buffer {
  return greyPng(width, height, zerosDeflated(dataBytes));
}

/** The start of a JPEG (SOI, a JFIF APP0, a baseline frame header) declaring `width` × `height` pixels: no decoder gets further. */
function jpegHeader(width: number, height: number): Buffer {
  const frame = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
  frame.writeUInt16BE(height, 5);
  frame.writeUInt16BE(width, 7);
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0', 'latin1'), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, frame, Buffer.from([0xff, 0xd9])]);
}

const hasMkfifo = process.platform !== 'win32' && spawnSync('mkfifo', ['--version']).status === 0;

function fifo(file: string): string {
  const made = spawnSync('mkfifo', [file]);
  assert.equal(made.status, 0, String(made.stderr));
  return file;
}

describe('the command line', () => {
  const folder = temporaryFolder('convlens-hostile-images-');

  /** Runs `convlens predict` on one input in a child: exit 1, the one sentence, peak memory bounded, not hung. */
  async function refused(input: string, sentence: string): Promise<void> {
    const run = await runCliBounded(['predict', sampleModel, input]);
    assert.equal(run.hung, false, `${path.basename(input)} hung the command line`);
    assert.equal(run.output, `convlens: ${sentence}`);
    assert.equal(run.code, 1);
    assert.ok(
      run.maxRssBytes! < HOSTILE_RSS_LIMIT,
      `${path.basename(input)}: peak RSS ${(run.maxRssBytes! / 1e9).toFixed(2)} GB (${run.seconds.toFixed(1)} s)`,
    );
  }

  test('a valid 900 kB PNG of 30,000 × 30,000 pixels is refused from its header, before 3.6 GB are decoded', async () => {
    const bomb = path.join(folder, 'bomb.png');
    writeFileSync(bomb, blackPng(30_000, 30_000));
    assert.ok((await fs.stat(bomb)).size < 1e6);
    await refused(bomb, OVER_LIMIT('bomb.png', '30,000 × 30,000'));
  });

  test('a JPEG whose frame header declares 60,000 × 60,000 pixels is refused from its header', async () => {
    const jpeg = path.join(folder, 'huge.jpg');
    writeFileSync(jpeg, jpegHeader(60_000, 60_000));
    await refused(jpeg, OVER_LIMIT('huge.jpg', '60,000 × 60,000'));
  });

  test('a 100 × 100 PNG whose image data unpacks to a gibibyte is refused without keeping what it unpacks', async () => {
    const bomb = path.join(folder, 'deep.png');
    writeFileSync(bomb, blackPng(100, 100, 2 ** 30));
    await refused(bomb, 'deep.png is a damaged PNG: its image data unpacks to more than its 100 × 100 pixels need.');
  });

  test('a FIFO given as an input is refused before it is opened, not waited on', { skip: !hasMkfifo && 'no mkfifo here' }, async () => {
    await refused(fifo(path.join(folder, 'pipe.png')), 'pipe.png is a FIFO (named pipe), not a regular file.');
  });

  test('a link to /dev/zero, a folder, a file over 256 MiB: refused before they are read', async () => {
    const preprocessing: Preprocessing = { width: 28, height: 28, scale: '0-1', channels: 'gray' };
    const read = (file: string) => readInput(file, { inputShapes: [[null, 28, 28, 1]] }, preprocessing);
    const zero = path.join(folder, 'zero.png');
    symlinkSync('/dev/zero', zero);
    await assert.rejects(read(zero), { name: 'Error', message: 'zero.png is a device, not a regular file.' });
    const directory = path.join(folder, 'photos.png');
    mkdirSync(directory);
    await assert.rejects(read(directory), { message: 'photos.png is a folder, not a regular file.' });
    const large = path.join(folder, 'large.png');
    writeFileSync(large, '');
    truncateSync(large, 300 * 2 ** 20); // sparse: nothing is written
    await assert.rejects(read(large), { message: 'large.png is 314.6 MB, more than the 256 MiB ConvLens reads from an image file.' });
    const largeArray = path.join(folder, 'large.npy');
    writeFileSync(largeArray, '');
    truncateSync(largeArray, 1.5e9);
    await assert.rejects(read(largeArray), { message: 'large.npy is 1.5 GB, more than the 1.0 GB ConvLens reads from an input array.' });
    await assert.rejects(read(path.join(folder, 'missing.png')), { message: `${path.join(folder, 'missing.png')}: no such file` });
  });
});

/**
 * A folder with one image, and beside it what must not be listed: a FIFO named like an image, links
 * to a FIFO and to an image outside the folder, and a link to the folder itself (a cycle). A link to
 * an image inside the folder is listed.
 */
function hostileFolder(): string {
  const root = temporaryFolder('convlens-hostile-folder-');
  const folder = path.join(root, 'images');
  mkdirSync(path.join(folder, 'cats'), { recursive: true });
  const png = encodePng({ width: 2, height: 2, data: new Uint8Array(16).fill(255) });
  writeFileSync(path.join(folder, 'cats', 'cat.png'), png);
  writeFileSync(path.join(root, 'outside.png'), png);
  symlinkSync(path.join(root, 'outside.png'), path.join(folder, 'cats', 'outside.png'));
  symlinkSync(path.join(folder, 'cats', 'cat.png'), path.join(folder, 'cats', 'again.png'));
  symlinkSync(folder, path.join(folder, 'cats', 'loop'));
  symlinkSync('/dev/zero', path.join(folder, 'cats', 'zero.png'));
  if (hasMkfifo) {
    fifo(path.join(folder, 'cats', 'pipe.png'));
    symlinkSync(path.join(folder, 'cats', 'pipe.png'), path.join(folder, 'cats', 'pipe-link.png'));
  }
  return folder;
}

const LISTED = ['cats/again.png', 'cats/cat.png'];

describe('folder listings', () => {
  test("the command line's: regular files only, links only inside the folder, each folder once", async () => {
    const images = await listImages(hostileFolder());
    assert.deepEqual(
      images.map((image) => image.path),
      LISTED,
    );
  });

  let listFolderImages: typeof import('../../src/panels/analyze/folderImages').listFolderImages;
  before(async () => {
    ({ listFolderImages } = await importWithVscode(() => import('../../src/panels/analyze/folderImages')));
  });

  test("the Analyze panel's, on disk: the same rule", async () => {
    const entries = await listFolderImages(new Uri('file', hostileFolder()) as never);
    assert.deepEqual(
      entries.map((entry) => entry.path),
      LISTED,
    );
  });

  test("the Analyze panel's, on a file system that cannot say where links lead: no links", async () => {
    const entries = await listFolderImages(new Uri('vscode-remote', hostileFolder()) as never);
    assert.deepEqual(
      entries.map((entry) => entry.path),
      ['cats/cat.png'],
    );
  });
});

describe('the webviews', () => {
  test('refuse the same headers before the browser decodes anything, and files whose size cannot be read', async () => {
    await assert.rejects(decodeImage('bomb.png', blackPng(30_000, 30_000)), {
      name: 'LimitExceededError',
      message: OVER_LIMIT('bomb.png', '30,000 × 30,000'),
    });
    await assert.rejects(decodeImage('huge.jpg', jpegHeader(60_000, 60_000)), { message: OVER_LIMIT('huge.jpg', '60,000 × 60,000') });
    await assert.rejects(decodeImage('small.jpg', jpegHeader(2_000, 1_000), 1e6), {
      message: /^small\.jpg is 2,000 × 1,000 pixels, more than the 1 megapixels/,
    });
    await assert.rejects(decodeImage('notes.png', new TextEncoder().encode('not an image')), {
      message: 'notes.png is not an image ConvLens can decode (png, jpeg, bmp, gif or webp).',
    });
    // Within the limit, a plain PNG is decoded in JavaScript (no browser here).
    const image = await decodeImage('black.png', blackPng(3, 2));
    assert.deepEqual([image.width, image.height, image.data.length], [3, 2, 24]);
  });
});

test('the image data of a valid bomb unpacks to exactly its rows (the test files are what they claim)', () => {
  assert.deepEqual(inflateSync(zerosDeflated(42)), Buffer.alloc(42));
  assert.equal(inflateSync(zerosDeflated(3 * 2 ** 20 + 5)).length, 3 * 2 ** 20 + 5);
});
