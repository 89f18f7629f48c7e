/**
 * PNGs as ConvLens decodes them. The webviews' plain-PNG path (fast-png, before the browser's decoder):
 * every colour type and bit depth it takes gives pngjs's pixels, through every row filter; every file
 * whose pixels the browser would draw differently (transparency, gamma, profiles, 16 bits, interlacing)
 * or that is damaged is left to the browser. The command line's path (the same check, then image-js)
 * gives pngjs's pixels for what the webviews leave to the browser. Both refuse, before decoding, a
 * header over the pixel limit and image data that unpacks to more than the header's rows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { greyPng, pngChunk as chunk } from '../support/pngChunks';
import { PNG } from 'pngjs';
import { LimitExceededError } from '../../src/engine/limits';
import { checkPng, decodePlainPng } from '../../src/engine/png';
import { decodeImageBytes } from '../../src/node/imageFile';
import { encodePng } from '../../src/node/pngFile';
import { fashionMnistTest, skipWithoutFashionMnist } from '../support/fashionMnist';

interface Raw {
  width: number;
  height: number;
  depth: number;
  colourType: number;
  /** Unfiltered row bytes, packed as the file stores them. */
  rows: Uint8Array[];
  extra?: Buffer[];
  interlace?: number;
}

/** A PNG written by hand: row y filtered with filter (y + firstFilter) mod 5, so that every filter is read back. */
function pngFile({ width, height, depth, colourType, rows, extra = [], interlace = 0 }: Raw, firstFilter = 0): Buffer {
  const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colourType]!;
  const pixelBytes = Math.max(1, (samples * depth) / 8);
  const filtered = rows.map((row, y) => {
    const filter = (y + firstFilter) % 5;
    const above = y > 0 ? rows[y - 1] : new Uint8Array(row.length);
    const out = new Uint8Array(row.length + 1);
    out[0] = filter;
    for (let x = 0; x < row.length; x++) {
      const left = x >= pixelBytes ? row[x - pixelBytes] : 0;
      const corner = x >= pixelBytes ? above[x - pixelBytes] : 0;
      const p = left + above[x] - corner;
      const paeth =
        Math.abs(p - left) <= Math.abs(p - above[x]) && Math.abs(p - left) <= Math.abs(p - corner)
          ? left
          : Math.abs(p - above[x]) <= Math.abs(p - corner)
            ? above[x]
            : corner;
      const predictor = [0, left, above[x], (left + above[x]) >> 1, paeth][filter];
      out[x + 1] = (row[x] - predictor) & 0xff;
    }
    return out;
  });
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([depth, colourType, 0, 0, interlace], 8);
  const idat = deflateSync(Buffer.concat(filtered));
  // The image data split over two IDAT chunks, as encoders do for large files.
  const half = Math.floor(idat.length / 2);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', header),
    ...extra,
    chunk('IDAT', idat.subarray(0, half)),
    chunk('IDAT', idat.subarray(half)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Random samples packed `depth` bits each, most significant first, as PNG rows hold them. */
function packedRows(width: number, height: number, depth: number, max: number, seed: number): { rows: Uint8Array[]; samples: number[] } {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) % (max + 1);
  const samples: number[] = [];
  const rows = Array.from({ length: height }, () => {
    const row = new Uint8Array(Math.ceil((width * depth) / 8));
    for (let x = 0; x < width; x++) {
      const value = next();
      samples.push(value);
      row[Math.floor((x * depth) / 8)] |= value << (8 - depth - ((x * depth) % 8));
    }
    return row;
  });
  return { rows, samples };
}

test('grey images of 1, 2, 4 and 8 bits: each sample scaled to 0–255, through every row filter, on the first row too', () => {
  for (const [depth, firstFilter] of [1, 2, 4, 8].flatMap((d) => [0, 1, 2, 3, 4].map((f) => [d, f]))) {
    const { rows, samples } = packedRows(13, 11, depth, 2 ** depth - 1, depth);
    const image = decodePlainPng(pngFile({ width: 13, height: 11, depth, colourType: 0, rows }, firstFilter));
    assert.ok(image, `depth ${depth}`);
    assert.deepEqual([image.width, image.height], [13, 11]);
    const expected = samples.flatMap((s) => {
      const v = (s * 255) / (2 ** depth - 1);
      return [v, v, v, 255];
    });
    assert.deepEqual([...image.data], expected, `depth ${depth}`);
  }
});

test('palette images of 1, 2, 4 and 8 bits', () => {
  const palette = Uint8Array.from({ length: 256 * 3 }, (_, i) => (i * 37) % 256);
  for (const depth of [1, 2, 4, 8]) {
    const { rows, samples } = packedRows(9, 7, depth, 2 ** depth - 1, 10 + depth);
    const image = decodePlainPng(
      pngFile({ width: 9, height: 7, depth, colourType: 3, rows, extra: [chunk('PLTE', palette.subarray(0, 3 * 2 ** depth))] }),
    );
    assert.ok(image, `depth ${depth}`);
    assert.deepEqual(
      [...image.data],
      samples.flatMap((s) => [...palette.subarray(3 * s, 3 * s + 3), 255]),
      `depth ${depth}`,
    );
  }
});

test("RGB, grey with alpha and RGBA, opaque, written by pngjs: pngjs's own pixels, small or with image data to check first", () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) % 256;
  for (const [colorType, width, height] of [
    [0, 31, 17],
    [2, 31, 17],
    [4, 31, 17],
    [6, 31, 17],
    [2, 150, 120],
  ] as const) {
    const png = new PNG({ width, height, colorType, inputColorType: 6, bitDepth: 8 });
    for (let i = 0; i < png.data.length; i += 4) png.data.set([random(), random(), random(), 255], i);
    const bytes = PNG.sync.write(png, { colorType, inputColorType: 6, bitDepth: 8 });
    if (width > 100) assert.ok(bytes.length > 16 * 1024, 'more image data than is decoded unchecked');
    const expected = PNG.sync.read(bytes);
    const image = decodePlainPng(bytes);
    assert.ok(image, `colour type ${colorType}`);
    assert.deepEqual([image.width, image.height], [width, height]);
    assert.deepEqual(Buffer.from(image.data), expected.data, `colour type ${colorType}`);
  }
});

test('Fashion-MNIST images as the tests write them decode to their pixels', { skip: skipWithoutFashionMnist }, () => {
  for (const original of fashionMnistTest(20).images) {
    assert.deepEqual(decodePlainPng(encodePng(original))?.data, original.data);
  }
});

test('left to the browser: transparency, gamma, profiles, orientation, 16 bits, interlacing, other chunks, damaged files, other formats', () => {
  const { rows } = packedRows(8, 8, 8, 255, 3);
  const grey = (extra: Buffer[] = [], more: Partial<Raw> = {}) =>
    pngFile({ width: 8, height: 8, depth: 8, colourType: 0, rows, extra, ...more });
  assert.ok(decodePlainPng(grey([chunk('sRGB', Uint8Array.of(0)), chunk('pHYs', new Uint8Array(9))])), 'sRGB and pHYs change nothing');
  assert.equal(decodePlainPng(grey([chunk('tRNS', Uint8Array.of(0, 0))])), undefined, 'tRNS');
  assert.equal(decodePlainPng(grey([chunk('gAMA', Uint8Array.of(0, 0, 0xb1, 0x8f))])), undefined, 'gAMA');
  assert.equal(decodePlainPng(grey([chunk('iCCP', new Uint8Array(20))])), undefined, 'iCCP');
  assert.equal(decodePlainPng(grey([chunk('acTL', new Uint8Array(8))])), undefined, 'animation');
  assert.equal(decodePlainPng(grey([chunk('eXIf', new Uint8Array(8))])), undefined, 'EXIF, which may turn the picture');
  assert.equal(decodePlainPng(grey([], { interlace: 1 })), undefined, 'interlaced');
  const sixteen = Array.from({ length: 8 }, () => new Uint8Array(16).fill(0x80));
  assert.equal(decodePlainPng(pngFile({ width: 8, height: 8, depth: 16, colourType: 0, rows: sixteen })), undefined, '16 bits');
  const translucent = new PNG({ width: 2, height: 1 });
  translucent.data.set([10, 20, 30, 255, 10, 20, 30, 128]);
  assert.equal(decodePlainPng(PNG.sync.write(translucent)), undefined, 'a pixel not fully opaque');
  const damaged = grey();
  damaged[8 + 25 + 8] = 0; // the zlib header of the image data
  assert.equal(decodePlainPng(damaged), undefined, 'image data that does not unpack');
  const unchecked = grey();
  unchecked[unchecked.length - 1] ^= 0xff;
  assert.deepEqual(
    decodePlainPng(unchecked),
    decodePlainPng(grey()),
    'a wrong checksum alone: checksums are not checked (fast-png would take twice as long)',
  );
  assert.equal(decodePlainPng(grey().subarray(0, 60)), undefined, 'cut short');
  assert.equal(decodePlainPng(Buffer.from('not a picture')), undefined, 'not a PNG');
  assert.equal(decodePlainPng(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16)), undefined, 'a JPEG');
});

/** The seven Adam7 passes of 8-bit samples (`channels` per pixel), each row with filter 0, as one interlaced PNG. */
function interlacedPng(width: number, height: number, colourType: number, pixels: Uint8Array): Buffer {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colourType]!;
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  const rows: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    if (x0 >= width) continue;
    for (let y = y0; y < height; y += dy) {
      rows.push(0);
      for (let x = x0; x < width; x += dx) rows.push(...pixels.subarray((y * width + x) * channels, (y * width + x + 1) * channels));
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, colourType, 0, 0, 1], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Uint8Array.from(rows))),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

test("the command line's path: interlaced, 16-bit, translucent and transparent-palette PNGs give pngjs's pixels", async () => {
  let seed = 11;
  const random = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 16807) % 2147483647) % 256);
  // Sizes that leave some Adam7 passes empty or short.
  for (const [width, height] of [
    [1, 1],
    [3, 2],
    [13, 9],
    [16, 16],
  ]) {
    for (const colourType of [0, 2, 4, 6]) {
      const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colourType]!;
      const bytes = interlacedPng(width, height, colourType, random(width * height * channels));
      const image = await decodeImageBytes('interlaced.png', bytes);
      assert.deepEqual(Buffer.from(image.data), PNG.sync.read(bytes).data, `${width}×${height}, colour type ${colourType}`);
    }
  }
  // 16-bit samples, big-endian.
  const pairs = random(7 * 5 * 2);
  const samples = Array.from({ length: 7 * 5 }, (_, i) => (pairs[2 * i] << 8) | pairs[2 * i + 1]);
  const deepRows = Array.from({ length: 5 }, (_, y) => Uint8Array.from(samples.slice(y * 7, y * 7 + 7).flatMap((s) => [s >> 8, s & 255])));
  const deep = await decodeImageBytes('deep.png', pngFile({ width: 7, height: 5, depth: 16, colourType: 0, rows: deepRows }));
  assert.deepEqual(
    [...deep.data],
    samples.flatMap((s) => [s >> 8, s >> 8, s >> 8, 255]),
    '16 bits: the high byte of each sample',
  );
  const translucent = new PNG({ width: 5, height: 3 });
  translucent.data.set(random(5 * 3 * 4));
  const written = PNG.sync.write(translucent);
  assert.deepEqual(Buffer.from((await decodeImageBytes('translucent.png', written)).data), PNG.sync.read(written).data);
  const { rows } = packedRows(6, 4, 4, 15, 9);
  const palette = chunk('PLTE', random(16 * 3));
  const transparency = chunk('tRNS', random(16));
  const indexed = pngFile({ width: 6, height: 4, depth: 4, colourType: 3, rows, extra: [palette, transparency] });
  assert.deepEqual(Buffer.from((await decodeImageBytes('indexed.png', indexed)).data), PNG.sync.read(indexed).data);
});

/** A PNG whose header says `width` × `height` and whose image data is `data` (deflated as given). */
const withImageData = greyPng;

test('refused before decoding: a header over the pixel limit, image data that unpacks past the rows or falls short, a second header', () => {
  // 30,000 × 30,000 grey pixels with 3 bytes of image data: the header alone is refused.
  const huge = withImageData(30_000, 30_000, Uint8Array.of(1, 2, 3));
  const limit =
    /^LimitExceededError: huge\.png is 30,000 × 30,000 pixels, more than the 100 megapixels ConvLens decodes in one image \(raise it with the setting "convlens\.limits\.imageMegapixels" or the command-line option --max-image-megapixels if you trust this file\)\.$/;
  assert.throws(
    () => checkPng('huge.png', huge),
    (error) => error instanceof LimitExceededError && limit.test(String(error)),
  );
  assert.throws(() => decodePlainPng(huge, 'huge.png'), limit, 'the webview refuses it too, rather than leaving it to the browser');
  assert.throws(
    () => checkPng('small.png', withImageData(1000, 1000, Uint8Array.of(1)), 500_000),
    /^LimitExceededError: small\.png is 1,000 × 1,000 pixels, more than the 0\.5 megapixels/,
  );
  // 10 × 10 pixels need 110 bytes of rows; these unpack to 64 MB (a 64 kB file).
  const bomb = withImageData(10, 10, deflateSync(new Uint8Array(64 * 2 ** 20), { level: 9 }));
  assert.ok(bomb.length < 100_000);
  assert.throws(
    () => checkPng('bomb.png', bomb),
    /^ModelReadError: bomb\.png is a damaged PNG: its image data unpacks to more than its 10 × 10 pixels need\.$/,
  );
  assert.equal(decodePlainPng(bomb), undefined, 'left to the browser, whose decoder stops at the rows');
  assert.throws(
    () => checkPng('short.png', withImageData(10, 10, deflateSync(new Uint8Array(100)))),
    /^ModelReadError: short\.png is a damaged PNG: its image data is cut short\.$/,
  );
  const twice = withImageData(10, 10, deflateSync(new Uint8Array(110)), [
    chunk('IHDR', Buffer.from(withImageData(30_000, 30_000, new Uint8Array()).subarray(16, 29))),
  ]);
  assert.throws(
    () => checkPng('twice.png', twice),
    /^ModelReadError: twice\.png is a damaged PNG: its IHDR header is not its first chunk, or not its only one\.$/,
  );
  assert.deepEqual(checkPng('fine.png', withImageData(10, 10, deflateSync(new Uint8Array(110)))).chunks, ['IHDR', 'IDAT', 'IEND']);
});
