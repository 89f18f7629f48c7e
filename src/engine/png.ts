/**
 * PNG files: checked before any decoder runs, and plain ones decoded with fast-png for the webviews.
 *
 * The check (`checkPng`) reads the chunk layout and unpacks the image data once without keeping it,
 * counting bytes: a file is refused when its header asks for more pixels than the limit, or when its
 * image data unpacks to more than its rows need. fast-png (and image-js, which uses it) keeps all the
 * unpacked data whatever the header says, so a 1 MB file of deflated zeros would cost a gigabyte.
 *
 * `decodePlainPng` is the webviews' fast path: a folder pass decodes thousands of small images, and
 * the browser's decoder (createImageBitmap, a canvas, getImageData) costs a millisecond or more each,
 * more than the model (fast-png takes about a fifth of that for a 28×28 image). It takes opaque PNGs of 8 bits or fewer per sample, not interlaced, with no
 * colour profile; for every other PNG it answers undefined and the caller uses the browser's decoder,
 * so that pixels never differ from it: transparency (a canvas premultiplies alpha, which changes the
 * colours under it), colour profiles and gamma, EXIF orientation, 16-bit samples, interlacing,
 * animation, and damaged files (whose error message is the browser's to give).
 */
import { decode, type DecodedPng } from 'fast-png';
import { Unzlib, unzlibSync } from 'fflate';
import { concatBytes } from './bytes';
import { ModelReadError } from './errors';
import { checkPixels } from './imageHeader';
import { DEFAULT_LIMITS, LimitExceededError } from './limits';
import type { RgbaImage } from './preprocess';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** Chunks that change no pixel as browsers draw them; any other chunk leaves the file to the browser. */
const HARMLESS = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'sRGB', 'pHYs', 'tEXt', 'zTXt', 'iTXt', 'tIME', 'bKGD', 'sBIT', 'hIST', 'sPLT']);

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Compressed image data is unpacked this much at a time, so one step holds at most about 16 MB. */
const INFLATE_STEP = 16 * 1024;

/** Deflate unpacks at most 1,032 bytes from one, so image data this small unpacks to 16 MB at most. */
const SMALL_IMAGE_DATA = 16 * 1024;

export interface PngLayout {
  width: number;
  height: number;
  depth: number;
  colourType: number;
  interlaced: boolean;
  /** The chunks' types in file order. */
  chunks: string[];
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * The layout of a PNG whose decoding is bounded by its pixels: a LimitExceededError when the header asks
 * for more than `maxPixels`, a ModelReadError naming the damage when the chunks are malformed or the
 * image data unpacks to more, or less, than the header's rows.
 */
export function checkPng(fileName: string, bytes: Uint8Array, maxPixels: number = DEFAULT_LIMITS.imagePixels): PngLayout {
  const layout = readPngLayout(fileName, bytes, maxPixels);
  const expected = imageDataBytes(layout);
  const unpacked = inflatedBytes(layout.imageData, expected, (what) => damaged(fileName, what));
  if (unpacked > expected)
    throw damaged(fileName, `its image data unpacks to more than its ${layout.width} × ${layout.height} pixels need`);
  if (unpacked < expected) throw damaged(fileName, 'its image data is cut short');
  return layout;
}

function damaged(fileName: string, what: string): ModelReadError {
  return new ModelReadError(fileName, `is a damaged PNG: ${what}.`);
}

/** The chunks and the header, the header's size checked against `maxPixels`; the image data is not unpacked. */
function readPngLayout(fileName: string, bytes: Uint8Array, maxPixels: number): PngLayout & { imageData: Uint8Array[] } {
  if (!isPng(bytes)) throw damaged(fileName, 'it does not start with the PNG signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: string[] = [];
  const imageData: Uint8Array[] = [];
  let header: PngLayout | undefined;
  for (let offset = 8; chunks.at(-1) !== 'IEND';) {
    if (offset + 12 > bytes.length) throw damaged(fileName, 'it is cut short');
    const length = view.getUint32(offset);
    const type = String.fromCharCode(bytes[offset + 4], bytes[offset + 5], bytes[offset + 6], bytes[offset + 7]);
    if (offset + 12 + length > bytes.length) throw damaged(fileName, 'a chunk is cut short');
    // One IHDR, first: decoders differ on which of two they believe, and the limit must hold for each.
    if ((type === 'IHDR') !== (chunks.length === 0)) throw damaged(fileName, 'its IHDR header is not its first chunk, or not its only one');
    chunks.push(type);
    if (type === 'IHDR') {
      if (length !== 13) throw damaged(fileName, 'its IHDR header is not 13 bytes long');
      const [depth, colourType, , , interlace] = bytes.subarray(offset + 16, offset + 21);
      header = {
        width: view.getUint32(offset + 8),
        height: view.getUint32(offset + 12),
        depth,
        colourType,
        interlaced: interlace !== 0,
        chunks,
      };
      checkPixels(fileName, header.width, header.height, maxPixels);
      if (SAMPLES[colourType] === undefined || ![1, 2, 4, 8, 16].includes(depth))
        throw damaged(fileName, `its colour type ${colourType} with ${depth}-bit samples does not exist`);
    } else if (type === 'IDAT') imageData.push(bytes.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  return { ...header!, imageData };
}

/** Bytes of unfiltered rows a PNG's header promises: a filter byte and packed samples per row, per Adam7 pass if interlaced. */
function imageDataBytes({ width, height, depth, colourType, interlaced }: PngLayout): number {
  const bits = SAMPLES[colourType] * depth;
  const rows = (w: number, h: number) => (w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bits) / 8)));
  if (!interlaced) return rows(width, height);
  // Adam7's seven passes: [first column, first row, column step, row step].
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  return passes.reduce((sum, [x, y, dx, dy]) => sum + rows(Math.ceil((width - x) / dx), Math.ceil((height - y) / dy)), 0);
}

/** Thrown to stop unpacking: not an Error, whose stack would cost more than unpacking a small image. */
const TOO_MUCH = Symbol('too much');

/** How many bytes the zlib stream unpacks to, counting past `most` by at most one step. Nothing is kept. */
function inflatedBytes(parts: Uint8Array[], most: number, refuse: (what: string) => Error): number {
  const steps = parts.flatMap((part) =>
    Array.from({ length: Math.ceil(part.length / INFLATE_STEP) }, (_, i) => part.subarray(i * INFLATE_STEP, (i + 1) * INFLATE_STEP)),
  );
  let total = 0;
  const inflater = new Unzlib((chunk) => {
    total += chunk.length;
    if (total > most) throw TOO_MUCH;
  });
  try {
    steps.forEach((step, i) => inflater.push(step, i === steps.length - 1));
  } catch (error) {
    if (error === TOO_MUCH) return total;
    throw refuse(`its image data cannot be unpacked (${(error as Error).message})`);
  }
  return total;
}

/**
 * The pixels of a plain opaque PNG, or undefined for a file to leave to the browser's decoder. A header
 * over `maxPixels` is refused (LimitExceededError), not left to the browser.
 */
export function decodePlainPng(
  bytes: Uint8Array,
  fileName = 'image.png',
  maxPixels: number = DEFAULT_LIMITS.imagePixels,
): RgbaImage | undefined {
  if (!isPng(bytes)) return undefined;
  let layout: ReturnType<typeof readPngLayout>;
  try {
    layout = readPngLayout(fileName, bytes, maxPixels);
    if (layout.interlaced || layout.depth > 8 || !layout.chunks.every((type) => HARMLESS.has(type))) return undefined;
    // fast-png keeps all the image data unpacks to: unpacked first without keeping it, unless so little
    // that it cannot unpack to much (checking costs more than decoding a small image).
    const compressed = layout.imageData.reduce((sum, part) => sum + part.length, 0);
    if (compressed > SMALL_IMAGE_DATA) checkPng(fileName, bytes, maxPixels);
  } catch (error) {
    if (error instanceof LimitExceededError) throw error;
    return undefined; // a damaged file: the browser names the problem, and its decoder stops at the header's size
  }
  try {
    if (layout.colourType !== 3) return opaqueRgba(unpackedSamples(layout));
    // Checksums are not checked: fast-png's check costs twice the decoding.
    const png = decode(bytes);
    return png.palette ? opaqueRgba(png) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A non-interlaced PNG's samples without a palette, as fast-png gives them (rows packed, each on a
 * byte): the image data unpacked in one call into a buffer of the size its header promises (fast-png's
 * streaming inflater grows its buffer chunk by chunk, and took 0.3–0.6 ms for a 28 × 28 image, more than
 * the model), then the rows' filters undone (PNG specification, section 7.3).
 */
function unpackedSamples(layout: PngLayout & { imageData: Uint8Array[] }): Samples {
  const { width, height, depth, colourType } = layout;
  const channels = SAMPLES[colourType];
  const rows = unzlibSync(concatBytes(layout.imageData), { out: new Uint8Array(imageDataBytes(layout)) });
  const stride = Math.ceil((width * channels * depth) / 8);
  // The byte to the left for the filters: the same sample of the previous pixel, or the previous byte.
  const left = Math.max(1, (channels * depth) >> 3);
  const samples = new Uint8Array(height * stride);
  const none = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const line = rows.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = samples.subarray(y * stride, (y + 1) * stride);
    unfilterRow(rows[y * (stride + 1)], line, out, y > 0 ? samples.subarray((y - 1) * stride, y * stride) : none, left);
  }
  return { width, height, depth, channels, data: samples };
}

/** One row's bytes with its filter undone, from the row above (`up`); `left`: bytes back to the same sample. */
function unfilterRow(filter: number, line: Uint8Array, out: Uint8Array, up: Uint8Array, left: number): void {
  const n = line.length;
  switch (filter) {
    case 0:
      out.set(line);
      return;
    case 1:
      for (let x = 0; x < n; x++) out[x] = line[x] + (x >= left ? out[x - left] : 0);
      return;
    case 2:
      for (let x = 0; x < n; x++) out[x] = line[x] + up[x];
      return;
    case 3:
      for (let x = 0; x < n; x++) out[x] = line[x] + (((x >= left ? out[x - left] : 0) + up[x]) >> 1);
      return;
    case 4:
      for (let x = 0; x < n; x++) {
        const a = x >= left ? out[x - left] : 0;
        const b = up[x];
        const c = x >= left ? up[x - left] : 0;
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        out[x] = line[x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      return;
    default:
      throw new RangeError(`unknown row filter ${filter}`);
  }
}

/** Decoded samples: fast-png's, or `unpackedSamples`'s. */
type Samples = Pick<DecodedPng, 'width' | 'height' | 'channels' | 'palette' | 'data'> & { depth: number };

/** Samples as RGBA; undefined when a pixel is not fully opaque. Throws on a palette index out of range. */
function opaqueRgba(png: Samples): RgbaImage | undefined {
  const { width, height, depth, channels } = png;
  const samples = png.data as Uint8Array;
  const rgba = new Uint8Array(width * height * 4);
  if (png.palette) {
    for (let i = 0, p = 0; i < width * height; i++, p += 4) {
      const colour = png.palette[index(samples, i, width, depth)];
      if (!colour) throw new RangeError('palette index out of range');
      rgba.set(colour, p);
      rgba[p + 3] = 255;
    }
    return { width, height, data: rgba };
  }
  const maximum = 2 ** depth - 1;
  for (let i = 0, p = 0; i < width * height; i++, p += 4) {
    const s = i * channels;
    if (channels === 1) {
      rgba[p] = rgba[p + 1] = rgba[p + 2] = (index(samples, i, width, depth) * 255) / maximum;
    } else if (channels === 2) {
      if (samples[s + 1] !== 255) return undefined;
      rgba[p] = rgba[p + 1] = rgba[p + 2] = samples[s];
    } else {
      if (channels === 4 && samples[s + 3] !== 255) return undefined;
      rgba[p] = samples[s];
      rgba[p + 1] = samples[s + 1];
      rgba[p + 2] = samples[s + 2];
    }
    rgba[p + 3] = 255;
  }
  return { width, height, data: rgba };
}

/**
 * Pixel i's one sample in a single-channel image: fast-png leaves samples of fewer than 8 bits packed,
 * most significant first, each row starting on a byte.
 */
function index(samples: Uint8Array, i: number, width: number, depth: number): number {
  if (depth === 8) return samples[i];
  const x = i % width;
  const bit = x * depth;
  const byte = Math.floor(i / width) * Math.ceil((width * depth) / 8) + (bit >> 3);
  return (samples[byte] >> (8 - depth - (bit & 7))) & (2 ** depth - 1);
}
