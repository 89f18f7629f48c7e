/**
 * h5wasm for the webview pages, in place of src/engine/readers/keras/h5wasmImport.ts (esbuild.mjs swaps
 * them): its bundle, dist/webview/h5wasm.js, is 5.6 MB of script (the HDF5 library's WebAssembly inline
 * as text), which every page downloaded and parsed at start when it was part of the page's script. Now
 * it is loaded the first time an HDF5 file is opened, beside the page's script and under the same nonce.
 */
import type { H5wasm } from '../../src/engine/readers/keras/h5wasmImport';

/** The global that dist/webview/h5wasm.js (an IIFE bundle of h5wasm's ES module) defines. */
const GLOBAL = 'convlensH5wasm';

let loading: Promise<H5wasm> | undefined;

export function importH5wasm(): Promise<H5wasm> {
  loading ??= new Promise<H5wasm>((resolve, reject) => {
    const page = document.querySelector<HTMLScriptElement>('script[nonce][src]');
    if (!page) return reject(new Error("the HDF5 reader cannot be loaded: the page's script is not found"));
    const script = document.createElement('script');
    // The policy runs only scripts with the page's nonce (the attribute reads empty; the property holds it).
    script.nonce = page.nonce;
    script.src = new URL('h5wasm.js', page.src).toString();
    script.onload = () => {
      const loaded = (globalThis as Record<string, unknown>)[GLOBAL] as { default?: H5wasm } | undefined;
      if (loaded?.default) resolve(loaded.default);
      else reject(new Error('the HDF5 reader did not load'));
    };
    script.onerror = () => reject(new Error('the HDF5 reader (h5wasm.js) could not be loaded'));
    document.head.append(script);
  });
  return loading;
}
