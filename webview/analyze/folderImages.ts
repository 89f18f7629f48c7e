/**
 * The folder's images in the webview: model-ready batches for the feature pass (decoded as they
 * come, so only one batch is ever in memory), and small cached thumbnails for the views.
 */
import * as tf from '@tensorflow/tfjs-core';
import { imageToInput, type Preprocessing, type RgbaImage } from '../../src/engine/preprocess';
import { decodeImage, paint } from '../explain/images';
import { readImages } from './channel';

export class FolderImages {
  /** Images that could not be read or decoded: path → reason. Their place in a batch is a blank image. */
  readonly problems = new Map<string, string>();
  private readonly thumbnails = new Map<string, Promise<HTMLCanvasElement | undefined>>();

  constructor(
    readonly paths: readonly string[],
    private readonly preprocessing: Preprocessing,
  ) {}

  async batch(start: number, end: number): Promise<tf.Tensor4D> {
    const images = await this.decode(this.paths.slice(start, end));
    const { width, height } = this.preprocessing;
    return tf.tidy(
      () => tf.concat(images.map((image) => imageToInput(image ?? { width, height, data: new Uint8Array(width * height * 4) }, this.preprocessing))) as tf.Tensor4D,
    );
  }

  /** Full-size pixels of some images (for patches and marked previews); undefined for one that fails. */
  async decode(paths: readonly string[]): Promise<(RgbaImage | undefined)[]> {
    const files = await readImages([...paths]);
    return Promise.all(
      files.map(async (file) => {
        if (!file.bytes) {
          this.problems.set(file.path, file.error ?? `${file.path} cannot be read`);
          return undefined;
        }
        try {
          return await decodeImage(file.path, new Uint8Array(file.bytes));
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
