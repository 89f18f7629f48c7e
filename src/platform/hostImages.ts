/**
 * Whether the extension host runs models on images itself (the Explain panel's first overlays), and
 * how it decodes them: in Node it has the WebAssembly backend and the command line's decoders.
 */
export const HOST_RUNS_MODELS = true;
export { decodeImageBytes } from '../node/imageFile';
