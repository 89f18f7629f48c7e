/** Test helpers for the native runtime (engine/nativeForward.ts): a runtime that counts, a model loaded both ways. */
import type { RunnableModel } from '../../src/engine/graph';
import { setNativeRuntime, type NativeRuntime } from '../../src/engine/nativeForward';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';

/** The runtime, recording the batch size of each pass it runs (a pass the engine takes back would not count). */
export function counting(runtime: NativeRuntime): NativeRuntime & { runs: number[] } {
  const runs: number[] = [];
  return {
    runs,
    async open(bytes) {
      const session = await runtime.open(bytes);
      return (
        session && {
          run: (feeds, outputs) => {
            runs.push(Object.values(feeds)[0].dims[0]);
            return session.run(feeds, outputs);
          },
          release: () => session.release(),
        }
      );
    },
  };
}

/** The same file loaded twice: on the native runtime, and on TensorFlow.js alone. */
export async function loadBoth(file: string, runtime: NativeRuntime): Promise<{ native: RunnableModel; engine: RunnableModel }> {
  setNativeRuntime(runtime);
  try {
    const native = await loadModel(fileModelSource(file));
    setNativeRuntime(undefined);
    return { native, engine: await loadModel(fileModelSource(file)) };
  } finally {
    setNativeRuntime(undefined);
  }
}
