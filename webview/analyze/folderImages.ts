/**
 * The folder's images in the webview: model-ready batches for the feature pass, and small cached
 * thumbnails for the views. The pass asks the host for the files of many batches ahead while the
 * model runs: an answer reaches the webview through the extension host, the window and two frames,
 * each step waiting for the thread the model runs on (in code-server, the window's own), so one asked
 * for a batch ahead arrived several batches late. Files are decoded a few batches ahead, on a worker
 * (batchDecoder.ts), so what is held is at most about READ_AHEAD.bytes of encoded files and
 * DECODE_AHEAD + 1 batches of pixels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_LIMITS } from '../../src/engine/limits';
import { type Preprocessing, type RgbaImage, rgbToInput } from '../../src/engine/preprocess';
import { decodeImage, paint } from '../common/images';
import { decodeOffPage, startDecoding } from './batchDecoder';
import type { DecodedBatch } from './batchDecoding';
import { readImages, type HostImage } from './channel';

/**
 * Batches, and encoded bytes (about), asked for ahead of the one the model runs, at most: a folder of
 * large photos is read fewer batches ahead. An answer asked for while the model runs arrives about four
 * batches later.
 */
const READ_AHEAD = { batches: 16, bytes: 32 * 2 ** 20 };
/** The same while the pass may not be needed (the cache is being looked up): on a hit they are read for nothing. */
const READ_AHEAD_UNSURE = { batches: 8, bytes: 4 * 2 ** 20 };
/** Batches decoded ahead of the one the model runs: two, so that one decoded slowly does not hold the model up. */
const DECODE_AHEAD = 2;

export class FolderImages {
  /** Images that could not be read or decoded: path → reason. Their place in a batch is a blank image. */
  readonly problems = new Map<string, string>();
  private readonly thumbnails = new Map<string, Promise<HTMLCanvasElement | undefined>>();
  /** The pass's reads asked of the host, by "start-end" of their batch. */
  private readonly reading = new Map<string, Promise<HostImage[]>>();
  private batchSize = 0;
  /** The first image of the batch due next. */
  private next = 0;
  /** Encoded bytes per image: from the folder's total size when known, else from the last batch read. */
  private bytesPerImage = 0;
  /** Whether the pass under way is known to be needed (see `beginPass`). */
  private needed = true;
  /** The batches due next, being decoded, by "start-end": at most DECODE_AHEAD batches of pixels are held. */
  private readonly decoding = new Map<string, Promise<DecodedBatch>>();

  /** `maxPixels`: the limit each image's size must keep to (checked from its header before decoding). */
  constructor(
    readonly paths: readonly string[],
    private readonly preprocessing: Preprocessing,
    private readonly maxPixels: number = DEFAULT_LIMITS.imagePixels,
  ) {
    startDecoding();
  }

  /**
   * A pass over the folder in batches of `size` begins, or may begin (`needed` false: while the cache
   * is looked up, the first few batches are read and decoded meanwhile, for nothing on a hit). Reads
   * left by a cancelled pass are dropped. The rest wait for `setFolderBytes` or the first batch.
   */
  beginPass(size: number, needed = true): void {
    this.reading.clear();
    this.decoding.clear();
    this.batchSize = size;
    this.next = 0;
    this.needed = needed;
    this.readAhead();
    this.decodeAhead(0);
  }

  /** The folder's images' total size, known when the pass is: from it the reads go as far ahead as the budget allows. */
  setFolderBytes(bytes: number): void {
    this.bytesPerImage = bytes / Math.max(1, this.paths.length);
    this.needed = true;
    this.readAhead();
  }

  /** Images [start, end) as one batch; the next batches are decoded while the model runs this one. */
  async batch(start: number, end: number): Promise<tf.Tensor4D> {
    const key = `${start}-${end}`;
    const ready = this.decoding.get(key) ?? this.decodeBatch(start, end);
    this.decoding.delete(key);
    this.needed = true;
    this.batchSize ||= end - start;
    this.next = end;
    this.readAhead();
    this.decodeAhead(end);
    const { rgb, problems } = await ready;
    for (const [path, reason] of problems) this.problems.set(path, reason);
    return rgbToInput(rgb, end - start, this.preprocessing);
  }

  /** Starts decoding the batches from `start` on that are not being decoded yet, DECODE_AHEAD at most. */
  private decodeAhead(start: number): void {
    const size = this.batchSize;
    if (!size) return;
    for (let from = start; from < Math.min(this.paths.length, start + DECODE_AHEAD * size); from += size) {
      const end = Math.min(this.paths.length, from + size);
      const key = `${from}-${end}`;
      if (this.decoding.has(key)) continue;
      const batch = this.decodeBatch(from, end);
      // Not awaited if the pass stops before it; its failure is the pass's when it is awaited.
      batch.catch(() => undefined);
      this.decoding.set(key, batch);
    }
  }

  /** Images [start, end) read (or taken from the reads ahead) and decoded, off the page's thread where it can. */
  private async decodeBatch(start: number, end: number): Promise<DecodedBatch> {
    const key = `${start}-${end}`;
    const due = this.reading.get(key) ?? readImages(this.paths.slice(start, end));
    this.reading.delete(key);
    const files = await due;
    if (!this.bytesPerImage && files.length > 0) {
      this.bytesPerImage = files.reduce((sum, file) => sum + (file.bytes?.byteLength ?? 0), 0) / files.length;
      this.readAhead();
    }
    const { width, height } = this.preprocessing;
    return decodeOffPage({ files, width, height, maxPixels: this.maxPixels });
  }

  /**
   * Asks for the batch due next and those after it that are not asked for yet: one more while the
   * size of the files is unknown, then as many as the limits allow.
   */
  private readAhead(): void {
    const size = this.batchSize;
    if (!size) return;
    const most = this.needed ? READ_AHEAD : READ_AHEAD_UNSURE;
    const ahead = this.bytesPerImage ? Math.max(1, Math.min(most.batches, Math.floor(most.bytes / (this.bytesPerImage * size)))) : 1;
    for (let from = this.next; from < Math.min(this.paths.length, this.next + (ahead + 1) * size); from += size) {
      const key = `${from}-${Math.min(this.paths.length, from + size)}`;
      if (!this.reading.has(key) && !this.decoding.has(key)) this.reading.set(key, readImages(this.paths.slice(from, from + size)));
    }
  }

  /** Full-size pixels of some images (for patches and marked previews); undefined for one that fails. */
  async decode(paths: readonly string[]): Promise<(RgbaImage | undefined)[]> {
    return this.decodeFiles(await readImages([...paths]));
  }

  private decodeFiles(files: HostImage[]): Promise<(RgbaImage | undefined)[]> {
    return Promise.all(
      files.map(async (file) => {
        if (!file.bytes) {
          this.problems.set(file.path, file.error ?? `${file.path} cannot be read`);
          return undefined;
        }
        try {
          return await decodeImage(file.path, new Uint8Array(file.bytes), this.maxPixels);
        } catch (error) {
          this.problems.set(file.path, (error as Error).message);
          return undefined;
        }
      }),
    );
  }

  /** A canvas at most `size` pixels on its longer side; the last few hundred are kept. */
  thumbnail(path: string, size = 96): Promise<HTMLCanvasElement | undefined> {
    let cached = this.thumbnails.get(path);
    if (!cached) {
      cached = this.decode([path]).then(([image]) => image && scaled(image, size));
      this.thumbnails.set(path, cached);
      if (this.thumbnails.size > 400) this.thumbnails.delete(this.thumbnails.keys().next().value!);
    }
    return cached;
  }
}

export function toCanvas(image: RgbaImage): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  paint(canvas, image);
  return canvas;
}

/** The image `scale` times its size, each pixel a sharp square (small images stay readable). */
export function enlarged(image: RgbaImage, scale: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  drawEnlarged(canvas, image, scale);
  return canvas;
}

/** Sizes `canvas` to the image `scale` times over and draws it there, pixels kept sharp. */
export function drawEnlarged(canvas: HTMLCanvasElement, image: RgbaImage, scale: number): CanvasRenderingContext2D {
  canvas.width = image.width * scale;
  canvas.height = image.height * scale;
  const context = canvas.getContext('2d')!;
  context.imageSmoothingEnabled = false;
  context.drawImage(toCanvas(image), 0, 0, canvas.width, canvas.height);
  return context;
}

function scaled(image: RgbaImage, size: number): HTMLCanvasElement {
  const full = toCanvas(image);
  const scale = Math.min(1, size / Math.max(image.width, image.height));
  if (scale === 1) return full;
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(image.width * scale));
  canvas.height = Math.max(1, Math.round(image.height * scale));
  canvas.getContext('2d')!.drawImage(full, 0, 0, canvas.width, canvas.height);
  return canvas;
}
