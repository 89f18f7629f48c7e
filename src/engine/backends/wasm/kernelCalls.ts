/** Calling the WebAssembly backend's own kernels from ConvLens's, with every intermediate result freed. */
import {
  type DataId,
  getKernel,
  type KernelBackend,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

export const BACKEND = 'wasm';

/** Runs the backend's registered kernels, freeing every intermediate result it made unless kept. */
export class KernelCalls {
  private readonly made: TensorInfo[] = [];
  constructor(private readonly backend: KernelBackend) {}

  run(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(name, BACKEND);
    if (!kernel) throw new Error(`the WebAssembly backend has no ${name} kernel`);
    const output = kernel.kernelFunc({ inputs, attrs, backend: this.backend }) as TensorInfo;
    this.made.push(output);
    return output;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Frees everything made except `result`, which the caller hands on. */
  finish(result: TensorInfo): TensorInfo {
    for (const info of this.made) if (info !== result) this.backend.disposeData(info.dataId as DataId);
    return result;
  }

  /** Frees everything made (on failure, or when the results were read back). */
  freeAll(): void {
    for (const info of this.made) this.backend.disposeData(info.dataId as DataId);
  }
}

export function withCalls(backend: KernelBackend, body: (calls: KernelCalls) => TensorInfo): TensorInfo {
  const calls = new KernelCalls(backend);
  try {
    return calls.finish(body(calls));
  } catch (error) {
    calls.freeAll();
    throw error;
  }
}
