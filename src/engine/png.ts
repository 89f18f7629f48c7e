/**
 * PNG bytes to RGBA pixels in plain JavaScript, for the common files only: opaque, 8 bits or fewer per
 * sample, not interlaced, no colour profile. A folder pass decodes thousands of small images, and in
 * the webview the browser's decoder (createImageBitmap, a canvas, getImageData) cost a millisecond or
 * more each, more than the model; this takes about a tenth of a millisecond for a 28×28 image.
 *
 * For every other PNG it answers undefined and the caller uses the browser's decoder, so that pixels
 * never differ from it: transparency (a canvas premultiplies alpha, which changes the colours under
 * it), colour profiles and gamma, EXIF orientation, 16-bit samples, interlacing, animation, and
 * damaged files (whose error message is the browser's to give).
 */
import { unzlibSync } from 'fflate';
import type { RgbaImage } from './preprocess';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** Chunks that change no pixel as browsers draw them; any other chunk leaves the file to the browser. */
const HARMLESS = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'sRGB', 'pHYs', 'tEXt', 'zTXt', 'iTXt', 'tIME', 'bKGD', 'sBIT', 'hIST', 'sPLT']);

/** The pixels of a plain opaque PNG, or undefined for a file to leave to the browser's decoder. */
export function decodePlainPng(bytes: Uint8Array): RgbaImage | undefined {
  try {
    return decode(bytes);
  } catch {
    return undefined; // a damaged file: the browser names the problem
  }
}

function decode(bytes: Uint8Array): RgbaImage | undefined {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: { width: number; height: number; depth: number; colourType: number } | undefined;
  let palette: Uint8Array | undefined;
  const compressed: Uint8Array[] = [];
  for (let offset = 8; ; offset += 12 + view.getUint32(offset)) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (data.length !== length || view.getUint32(offset + 8 + length) !== crc32(bytes.subarray(offset + 4, offset + 8 + length))) return undefined;
    if (!HARMLESS.has(type)) return undefined;
    if (type === 'IHDR') {
      const [depth, colourType, compression, filter, interlace] = data.subarray(8, 13);
      if (compression !== 0 || filter !== 0 || interlace !== 0 || ![1, 2, 4, 8].includes(depth)) return undefined;
      header = { width: view.getUint32(offset + 8), height: view.getUint32(offset + 12), depth, colourType };
    } else if (type === 'PLTE') palette = data;
    else if (type === 'IDAT') compressed.push(data);
    else if (type === 'IEND') break;
  }
  if (!header || compressed.length === 0) return undefined;
  const { width, height, depth, colourType } = header;
  const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colourType];
  // Alpha channels are checked below; an 8-bit depth is the only one allowed with more than one sample.
  if (samples === undefined || (samples > 1 && depth !== 8) || (colourType === 3 && !palette) || width === 0 || height === 0) return undefined;
  const rowBytes = Math.ceil((width * samples * depth) / 8);
  // Inflated into a buffer of the size the header promises: growing one as it fills costs more than the rest.
  const raw = unzlibSync(concat(compressed), { out: new Uint8Array(height * (rowBytes + 1)) });
  if (raw.length < height * (rowBytes + 1)) return undefined;
  const rows = unfilter(raw, height, rowBytes, Math.max(1, (samples * depth) / 8));
  if (!rows) return undefined;
  const rgba = toRgba(rows, width, height, rowBytes, depth, colourType, palette);
  return rgba && { width, height, data: rgba };
}

/** Undoes PNG's per-row filters: the rows' bytes without their filter bytes. One loop per filter, for speed. */
function unfilter(raw: Uint8Array, height: number, rowBytes: number, pixelBytes: number): Uint8Array | undefined {
  const out = new Uint8Array(height * rowBytes);
  const zeros = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)];
    const from = y * (rowBytes + 1) + 1;
    const at = y * rowBytes;
    // The row above: zeros above the first.
    const above = y > 0 ? out.subarray(at - rowBytes, at) : zeros;
    switch (filter) {
      case 0:
        out.set(raw.subarray(from, from + rowBytes), at);
        break;
      case 1:
        for (let x = 0; x < rowBytes; x++) out[at + x] = raw[from + x] + (x >= pixelBytes ? out[at + x - pixelBytes] : 0);
        break;
      case 2:
        for (let x = 0; x < rowBytes; x++) out[at + x] = raw[from + x] + above[x];
        break;
      case 3:
        for (let x = 0; x < rowBytes; x++) out[at + x] = raw[from + x] + (((x >= pixelBytes ? out[at + x - pixelBytes] : 0) + above[x]) >> 1);
        break;
      case 4:
        for (let x = 0; x < rowBytes; x++) {
          const left = x >= pixelBytes ? out[at + x - pixelBytes] : 0;
          const up = above[x];
          const corner = x >= pixelBytes ? above[x - pixelBytes] : 0;
          const p = left + up - corner;
          const pa = Math.abs(p - left);
          const pb = Math.abs(p - up);
          const pc = Math.abs(p - corner);
          out[at + x] = raw[from + x] + (pa <= pb && pa <= pc ? left : pb <= pc ? up : corner);
        }
        break;
      default:
        return undefined;
    }
  }
  return out;
}

/** Samples to RGBA; undefined when a pixel is not fully opaque or a palette index is out of range. */
function toRgba(rows: Uint8Array, width: number, height: number, rowBytes: number, depth: number, colourType: number, palette?: Uint8Array): Uint8Array | undefined {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = rows.subarray(y * rowBytes, (y + 1) * rowBytes);
    let o = y * width * 4;
    if (colourType === 0 || colourType === 3) {
      const perByte = 8 / depth;
      const mask = (1 << depth) - 1;
      for (let x = 0; x < width; x++, o += 4) {
        const sample = depth === 8 ? row[x] : (row[(x / perByte) | 0] >> (8 - depth * ((x % perByte) + 1))) & mask;
        if (colourType === 0) {
          rgba[o] = rgba[o + 1] = rgba[o + 2] = (sample * 255) / mask;
        } else {
          if (3 * sample + 2 >= palette!.length) return undefined;
          rgba[o] = palette![3 * sample];
          rgba[o + 1] = palette![3 * sample + 1];
          rgba[o + 2] = palette![3 * sample + 2];
        }
        rgba[o + 3] = 255;
      }
    } else if (colourType === 2) {
      for (let x = 0, i = 0; x < width; x++, o += 4, i += 3) {
        rgba[o] = row[i];
        rgba[o + 1] = row[i + 1];
        rgba[o + 2] = row[i + 2];
        rgba[o + 3] = 255;
      }
    } else if (colourType === 4) {
      for (let x = 0, i = 0; x < width; x++, o += 4, i += 2) {
        if (row[i + 1] !== 255) return undefined;
        rgba[o] = rgba[o + 1] = rgba[o + 2] = row[i];
        rgba[o + 3] = 255;
      }
    } else {
      for (let i = 3; i < rowBytes; i += 4) if (row[i] !== 255) return undefined;
      rgba.set(row, o);
    }
  }
  return rgba;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

let crcTable: Uint32Array | undefined;

/** The CRC-32 every PNG chunk ends with, over its type and data. */
function crc32(bytes: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
