/** The TensorFlow.js backend of the Node extension host: node/tfBackend.ts's choice (see types.ts). */
import { useNodeBackend } from '../node/tfBackend';

/** `wasm` where WebAssembly can load, else (or when asked) the pure-JavaScript CPU backend. */
export async function useHostBackend(preference: 'wasm' | 'cpu'): Promise<void> {
  await useNodeBackend(preference);
}
