/**
 * TensorFlow.js in Node without native bindings: the WebAssembly backend (XNNPACK, SIMD), some 40–60×
 * faster than the pure-JavaScript CPU backend on ResNet-class networks, with the CPU backend as a
 * fallback that says why. `CONVLENS_BACKEND=cpu` asks for the CPU backend (reference runs in tests).
 * PROD mode silences the console banner that suggests installing tfjs-node.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Gradients are registered separately from the ops; explanations need them.
import '../engine/gradients';
import { registerWasmKernels } from '../engine/backends/wasm';

export type NodeBackend = 'wasm' | 'cpu';

export interface NodeBackendChoice {
  backend: NodeBackend;
  /** Why the CPU backend runs where WebAssembly was asked for. */
  fallbackReason?: string;
}

const WASM_FILE = 'tfjs-backend-wasm-simd.wasm';

/** Where the .wasm files are: beside the bundle (dist/, the VSIX), else in the installed package. */
function wasmFolder(): string | undefined {
  if (existsSync(path.join(__dirname, WASM_FILE))) return __dirname;
  try {
    const folder = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/' + WASM_FILE));
    return existsSync(path.join(folder, WASM_FILE)) ? folder : undefined;
  } catch {
    return undefined;
  }
}

function requestedBackend(): NodeBackend {
  return process.env.CONVLENS_BACKEND === 'cpu' ? 'cpu' : 'wasm';
}

let ready: Promise<NodeBackendChoice> | undefined;

/** Starts the backend once per process: WebAssembly unless the CPU is asked for or WebAssembly fails. */
export function useNodeBackend(preferred: NodeBackend = requestedBackend()): Promise<NodeBackendChoice> {
  ready ??= (async (): Promise<NodeBackendChoice> => {
    tf.env().set('PROD', true);
    if (preferred === 'wasm') {
      const reason = await startWasm();
      if (!reason) return { backend: 'wasm' };
      await tf.setBackend('cpu');
      return { backend: 'cpu', fallbackReason: reason };
    }
    await tf.setBackend('cpu');
    return { backend: 'cpu' };
  })();
  return ready;
}

/** Starts the WebAssembly backend; the reason it could not, or undefined. */
async function startWasm(): Promise<string | undefined> {
  const folder = wasmFolder();
  if (!folder) return `the WebAssembly backend's ${WASM_FILE} was not found`;
  setWasmPaths(folder + path.sep);
  try {
    if (!(await tf.setBackend('wasm'))) return 'the WebAssembly backend did not start';
    registerWasmKernels();
    return undefined;
  } catch (error) {
    return `the WebAssembly backend did not start (${error instanceof Error ? error.message : String(error)})`;
  }
}
