/**
 * Fashion-MNIST test images from Debian's `dataset-fashion-mnist` package (IDX files, gzipped), as
 * the RGBA pictures a user's image files would decode to.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RgbaImage } from '../../src/engine/preprocess';
import { writePng } from '../../src/node/pngFile';

export const fashionMnistFolder = process.env.CONVLENS_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';

/** The `skip` option of tests that need the dataset, with the reason when it is missing. */
export const skipWithoutFashionMnist = existsSync(path.join(fashionMnistFolder, 't10k-images-idx3-ubyte.gz'))
  ? false
  : `Fashion-MNIST not found in ${fashionMnistFolder}: apt-get install dataset-fashion-mnist`;

export interface LabelledImages {
  images: RgbaImage[];
  labels: number[];
}

/** The first `count` images of the 10,000 test images, with their class numbers (0–9). */
export function fashionMnistTest(count: number): LabelledImages {
  const images = gunzipSync(readFileSync(path.join(fashionMnistFolder, 't10k-images-idx3-ubyte.gz')));
  const labels = gunzipSync(readFileSync(path.join(fashionMnistFolder, 't10k-labels-idx1-ubyte.gz')));
  // IDX: a big-endian magic number (0x00000803 for images, 0x00000801 for labels), then the sizes.
  if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801) throw new Error('not Fashion-MNIST IDX files');
  const [rows, columns] = [images.readUInt32BE(8), images.readUInt32BE(12)];
  const n = Math.min(count, images.readUInt32BE(4));
  const result: LabelledImages = { images: [], labels: [] };
  for (let i = 0; i < n; i++) {
    const gray = images.subarray(16 + i * rows * columns, 16 + (i + 1) * rows * columns);
    const data = new Uint8Array(rows * columns * 4);
    for (let p = 0; p < gray.length; p++) data.set([gray[p], gray[p], gray[p], 255], p * 4);
    result.images.push({ width: columns, height: rows, data });
    result.labels.push(labels[8 + i]);
  }
  return result;
}

/** The sample model's classes as folder names ("T-shirt/top" → "t-shirt-top"). */
export const CLASS_FOLDERS = ['t-shirt-top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'];

/** The first `count` test images as PNGs in `folder`, one subfolder per class: `<class>/test-NNN.png`. */
export async function writeFashionFolder(folder: string, count: number): Promise<void> {
  const { images, labels } = fashionMnistTest(count);
  for (const name of CLASS_FOLDERS) mkdirSync(path.join(folder, name), { recursive: true });
  const digits = String(count - 1).length;
  await Promise.all(
    images.map((image, i) =>
      writePng(path.join(folder, CLASS_FOLDERS[labels[i]], `test-${String(i).padStart(Math.max(3, digits), '0')}.png`), image),
    ),
  );
}
