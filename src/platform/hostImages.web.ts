/**
 * The browser's extension host (vscode.dev) has only TensorFlow.js's CPU backend, slower than a page's:
 * models run in the pages, which decode their images themselves.
 */
import type { RgbaImage } from '../engine/preprocess';

export const HOST_RUNS_MODELS = false;

export async function decodeImageBytes(name: string): Promise<RgbaImage> {
  throw new Error(`${name}: images are decoded in the panels here`);
}
