/**
 * The plain-PNG decoder the webviews try before the browser's: every colour type and bit depth it
 * takes gives pngjs's pixels, through every row filter; every file whose pixels the browser would
 * draw differently (transparency, gamma, profiles, 16 bits, interlacing) or that is damaged is left
 * to the browser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { decodePlainPng } from '../../src/engine/png';
import { encodePng } from '../../src/node/pngFile';
import { fashionMnistTest, skipWithoutFashionMnist } from '../support/fashionMnist';

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

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
      const paeth = Math.abs(p - left) <= Math.abs(p - above[x]) && Math.abs(p - left) <= Math.abs(p - corner) ? left : Math.abs(p - above[x]) <= Math.abs(p - corner) ? above[x] : corner;
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
    const image = decodePlainPng(pngFile({ width: 9, height: 7, depth, colourType: 3, rows, extra: [chunk('PLTE', palette.subarray(0, 3 * 2 ** depth))] }));
    assert.ok(image, `depth ${depth}`);
    assert.deepEqual([...image.data], samples.flatMap((s) => [...palette.subarray(3 * s, 3 * s + 3), 255]), `depth ${depth}`);
  }
});

test("RGB, grey with alpha and RGBA, opaque, written by pngjs: pngjs's own pixels", () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) % 256;
  for (const colorType of [0, 2, 4, 6] as const) {
    const png = new PNG({ width: 31, height: 17, colorType, inputColorType: 6, bitDepth: 8 });
    for (let i = 0; i < png.data.length; i += 4) png.data.set([random(), random(), random(), 255], i);
    const bytes = PNG.sync.write(png, { colorType, inputColorType: 6, bitDepth: 8 });
    const expected = PNG.sync.read(bytes);
    const image = decodePlainPng(bytes);
    assert.ok(image, `colour type ${colorType}`);
    assert.deepEqual([image.width, image.height], [31, 17]);
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
  const grey = (extra: Buffer[] = [], more: Partial<Raw> = {}) => pngFile({ width: 8, height: 8, depth: 8, colourType: 0, rows, extra, ...more });
  assert.ok(decodePlainPng(grey([chunk('sRGB', Uint8Array.of(0)), chunk('pHYs', new Uint8Array(9))])), 'sRGB and pHYs change nothing');
  assert.equal(decodePlainPng(grey([chunk('tRNS', Uint8Array.of(0, 0))])), undefined, 'tRNS');
  assert.equal(decodePlainPng(grey([chunk('gAMA', Uint8Array.of(0, 0, 0xb1, 0x8f))])), undefined, 'gAMA');
  assert.equal(decodePlainPng(grey([chunk('iCCP', new Uint8Array(20))])), undefined, 'iCCP');
  assert.equal(decodePlainPng(grey([chunk('acTL', new Uint8Array(8))])), undefined, 'animation');
  assert.equal(decodePlainPng(grey([chunk('eXIf', new Uint8Array(8))])), undefined, 'EXIF, which may turn the picture');
  assert.equal(decodePlainPng(grey([], { interlace: 1 })), undefined, 'interlaced');
  const sixteen = packedRows(8, 8, 16, 65535, 4);
  assert.equal(decodePlainPng(pngFile({ width: 8, height: 8, depth: 16, colourType: 0, rows: sixteen.rows })), undefined, '16 bits');
  const translucent = new PNG({ width: 2, height: 1 });
  translucent.data.set([10, 20, 30, 255, 10, 20, 30, 128]);
  assert.equal(decodePlainPng(PNG.sync.write(translucent)), undefined, 'a pixel not fully opaque');
  const damaged = grey();
  damaged[damaged.length - 20] ^= 0xff;
  assert.equal(decodePlainPng(damaged), undefined, 'a wrong checksum');
  assert.equal(decodePlainPng(grey().subarray(0, 60)), undefined, 'cut short');
  assert.equal(decodePlainPng(Buffer.from('not a picture')), undefined, 'not a PNG');
  assert.equal(decodePlainPng(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16)), undefined, 'a JPEG');
});
