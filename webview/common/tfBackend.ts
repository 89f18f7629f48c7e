/**
 * TensorFlow.js in the webview: WebGL where the GPU is real, WebAssembly where WebGL is missing, broken
 * or a software renderer, the CPU backend only when neither starts; with the reason kept so the badge
 * can say why.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
// Importing the package registers the 'wasm' backend.
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Explanations differentiate the network: the gradients of every op are registered apart from the ops.
import '../../src/engine/gradients';
import { registerWasmKernels } from '../../src/engine/backends/wasm';
import type { BackendPreference } from '../../src/shared/protocol';
import { softwareRendererName } from './softwareRenderer';

export type BackendName = 'webgl' | 'wasm' | 'cpu';

export interface BackendChoice {
  backend: BackendName;
  /** Why this backend, in a sentence: the badge's tooltip. */
  reason: string;
  /** True when it runs slower than the setting asked for or the machine allows: the reason is shown as a notice. */
  fallback: boolean;
}

export const BACKEND_LABELS: Record<BackendName, string> = { webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' };

export function backendTitle(choice: BackendChoice): string {
  return `TensorFlow.js backend: ${choice.reason}`;
}

/**
 * The folder of this script (dist/webview/, as a webview resource URI), where the build puts the
 * .wasm binaries. Read while the script first runs: document.currentScript is null afterwards.
 */
const scriptFolder = (() => {
  const src = (document.currentScript as HTMLScriptElement | null)?.src;
  return src ? new URL('./', src).href : undefined;
})();

/** `preference` is the `convlens.backend` setting. */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendChoice> {
  tf.env().set('PROD', true);
  const choice = await choose(preference);
  // The kernels the WebAssembly backend lacks for gradients, before any model runs. They attach to the
  // started backend, so only when it is the one chosen.
  if (choice.backend === 'wasm') registerWasmKernels();
  return choice;
}

async function choose(preference: BackendPreference): Promise<BackendChoice> {
  switch (preference) {
    case 'cpu':
      await tf.setBackend('cpu');
      return { backend: 'cpu', reason: 'The CPU, as the convlens.backend setting asks.', fallback: false };
    case 'wasm': {
      const problem = await startWasm();
      if (!problem) return { backend: 'wasm', reason: 'WebAssembly, as the convlens.backend setting asks.', fallback: false };
      return onCpu(`The convlens.backend setting asks for WebAssembly, but ${problem}`);
    }
    case 'webgl': {
      const software = softwareRendererName(webglRenderer() ?? '');
      const problem = await startWebgl();
      if (!problem) {
        const caveat = software ? ` (here a software renderer, ${software}, where WebAssembly would be faster)` : '';
        return { backend: 'webgl', reason: `WebGL, as the convlens.backend setting asks${caveat}.`, fallback: false };
      }
      return orWasm(`The convlens.backend setting asks for WebGL, but ${problem}`, true);
    }
    default:
      return auto();
  }
}

/** WebGL on a real GPU; WebAssembly when WebGL is missing, fails, or draws in software. */
async function auto(): Promise<BackendChoice> {
  const renderer = webglRenderer();
  if (renderer === undefined) return orWasm('WebGL is not available in this window', false);
  const software = softwareRendererName(renderer);
  // Not even tried: starting WebGL compiles shaders, slow in software, for a backend that would not be used.
  if (software) return orWasm(`WebGL here is a software renderer (${software})`, false, ', which is faster');
  const problem = await startWebgl();
  if (!problem) return { backend: 'webgl', reason: `WebGL, on the GPU (${renderer}).`, fallback: false };
  return orWasm(problem[0].toUpperCase() + problem.slice(1), false);
}

/** WebAssembly after `why` (a clause), or the CPU if WebAssembly fails too. */
async function orWasm(why: string, fallback: boolean, praise = ''): Promise<BackendChoice> {
  const problem = await startWasm();
  if (!problem) return { backend: 'wasm', reason: `${why}, so models run on WebAssembly${praise}.`, fallback };
  return onCpu(`${why}, and ${problem}`);
}

async function onCpu(why: string): Promise<BackendChoice> {
  await tf.setBackend('cpu');
  return { backend: 'cpu', reason: `${why}, so models run on the CPU, which is slower.`, fallback: true };
}

/** Undefined when WebGL runs, else what went wrong as a clause ("WebGL failed to start (…)"). */
async function startWebgl(): Promise<string | undefined> {
  try {
    if (!(await tf.setBackend('webgl'))) return 'WebGL is not available in this window';
    if (testComputation()) return undefined;
    tf.removeBackend('webgl'); // frees its context for good
    return 'WebGL gave a wrong result on a test computation';
  } catch (error) {
    return `WebGL failed to start (${message(error)})`;
  }
}

async function startWasm(): Promise<string | undefined> {
  try {
    // Threads need SharedArrayBuffer, which webviews (not cross-origin isolated) lack; the build ships
    // no threaded binary either, so never ask for it.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (scriptFolder) setWasmPaths(scriptFolder);
    if (!(await tf.setBackend('wasm'))) return 'WebAssembly failed to start';
    return testComputation() ? undefined : 'WebAssembly gave a wrong result on a test computation';
  } catch (error) {
    return `WebAssembly failed to start (${message(error)})`;
  }
}

/** Compiles and runs one tiny program: a backend can start and still fail on first use. */
function testComputation(): boolean {
  return tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]) === 3;
}

/**
 * The unmasked renderer string of a scratch WebGL context, or undefined when the window has no WebGL.
 * A scratch context, not TensorFlow.js's, so that a software renderer is known before WebGL starts.
 */
function webglRenderer(): string | undefined {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    if (!gl) return undefined;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    // Give the context back now: a page may hold only a few.
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return renderer;
  } catch {
    return undefined;
  }
}

function message(error: unknown): string {
  return error instanceof Error
    ? error.message
    : typeof error === 'object' && error && 'message' in error
      ? String(error.message)
      : String(error);
}
