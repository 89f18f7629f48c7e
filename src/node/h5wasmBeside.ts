/**
 * h5wasm for the bundled extension host and command line, in place of the engine's h5wasmImport.ts
 * (esbuild.mjs swaps them): h5wasm is `h5wasm.js` beside the bundle, built on its own, and required the
 * first time an HDF5 file is opened. Inside the bundle it was 5.6 MB of its 7.2, parsed at every
 * activation and every `convlens` run whatever the model.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { H5wasm } from '../engine/readers/keras/h5wasmImport';

export async function importH5wasm(): Promise<H5wasm> {
  // Required by a path known only when running, which esbuild leaves alone: the file is not in this bundle.
  const load = createRequire(__filename);
  return (load(path.join(__dirname, 'h5wasm.js')) as { default: H5wasm }).default;
}
