/**
 * ONNX Runtime's native CPU kernels as the engine's native runtime (engine/nativeForward.ts), for the
 * command line and the benchmarks. The package is optional: where it does not load (no build for this
 * platform), the engine runs everything on TensorFlow.js as before.
 */
import type { NativeRuntime } from '../engine/nativeForward';

/** The runtime on `threads` threads (0: ONNX Runtime's default, one per physical core), or undefined where it does not load. */
export async function loadOnnxRuntime(threads = 0): Promise<NativeRuntime | undefined> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return undefined;
  }
  return {
    async open(bytes) {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Idle pool threads sleep rather than spin: between runs this process's own thread works (the
        // score's gradient, layout changes), and on two cores spinning threads took its time (a Grad-CAM
        // of ResNet-18 on two threads: 110 ms spinning, 60 ms not).
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return {
        async run(feeds, outputs) {
          const inputs = Object.fromEntries(
            Object.entries(feeds).map(([name, { data, dims }]) => [name, new ort.Tensor('float32', data, dims)]),
          );
          const results = await session.run(inputs, [...outputs]);
          return Object.fromEntries(
            outputs.map((name) => {
              const tensor = results[name];
              if (tensor.type !== 'float32') throw new Error(`${name} is ${tensor.type}, not float32`);
              return [name, { data: tensor.data as Float32Array, dims: tensor.dims.map(Number) }];
            }),
          );
        },
        release: () => session.release(),
      };
    },
  };
}
