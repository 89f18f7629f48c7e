/**
 * h5wasm itself, imported on first use. A module of its own so that the webview pages can put another
 * in its place (esbuild.mjs): there h5wasm, 5.6 MB of script with its WebAssembly inline as text, is a
 * file of its own loaded when an HDF5 file is opened (webview/common/h5wasmScript.ts) instead of part of
 * every page's script.
 */
export type H5wasm = typeof import('h5wasm').default;

export async function importH5wasm(): Promise<H5wasm> {
  return (await import('h5wasm')).default;
}
