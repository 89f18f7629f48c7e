/** Writing RGBA pixels as a PNG file. */
import { writeFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import type { RgbaImage } from '../engine/preprocess';

export function encodePng(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}

export async function writePng(file: string, image: RgbaImage): Promise<void> {
  await writeFile(file, encodePng(image));
}
