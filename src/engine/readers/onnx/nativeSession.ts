/**
 * An ONNX model's forward pass on the native runtime (nativeForward.ts): the same file's bytes given to
 * it, with the tensors the engine asks for (a feature layer, say) added as graph outputs. Protobuf
 * merges a message written twice, so a `graph { output { name } }` appended to the file's bytes adds an
 * output without decoding the rest. Values cross in ONNX order and are stored as the engine stores
 * them (NHWC images). Only files whose weights are all inside them (the runtime is never pointed at a
 * path, so it reads nothing beside the model), only float inputs and outputs; anything it cannot do,
 * the engine does itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import { concatBytes } from '../../bytes';
import type { Feeds } from '../../execute';
import type { NativeForward, NativeRuntime, NativeSession, NativeTensor } from '../../nativeForward';
import type { GraphAnalysis } from './analysis';
import { gradientGraph } from './gradientGraph';
import { graphAppendixBytes } from './graphAppendix';
import { toNchw, toNhwc, type Layout } from './layout';

/** Sessions kept per model, one per set of extra outputs asked for (a folder pass asks for one set). */
const SESSIONS_KEPT = 3;

interface NativeValue {
  /** The ONNX tensor name. */
  name: string;
  layout: Layout;
}

/** The native forward pass of a model the engine loaded from `bytes`, or undefined where it has none. */
export function nativeForwardOf(runtime: NativeRuntime, bytes: Uint8Array, analysis: GraphAnalysis): NativeForward | undefined {
  if (analysis.inputs.some((input) => input.desc.dtype !== 'float32')) return undefined;
  const inputs = new Map(analysis.inputs.map((input) => [input.id, { name: input.id, layout: input.desc.layout }]));
  const values = new Map<string, NativeValue>();
  for (const analyzed of analysis.nodes) {
    analyzed.node.outputs.forEach((name, k) => {
      const desc = analyzed.outputs[k];
      if (name && desc?.dtype === 'float32') values.set(analyzed.outputIds[k], { name, layout: desc.layout });
    });
  }
  const graphOutputs = new Set(analysis.outputs.map((output) => output.name));
  const sessions = new Map<string, Promise<NativeSession | undefined>>();
  const gradientGraphs = new Map<string, ReturnType<typeof gradientGraph>>();
  let perImage = false;
  // Set once the runtime has failed a pass it was given: the engine runs the rest.
  let failed = false;
  let disposed = false;

  const sessionFor = (key: string, extended: () => Uint8Array) => {
    let session = sessions.get(key);
    if (!session) {
      session = runtime.open(extended()).catch(() => undefined);
      sessions.set(key, session);
      if (sessions.size > SESSIONS_KEPT) {
        const [oldest, released] = sessions.entries().next().value!;
        sessions.delete(oldest);
        void released.then((s) => s?.release());
      }
    }
    return session;
  };

  /** The runtime's results for `fetched`, the batch at once or (a file that fixes it at 1) image by image; undefined where it fails. */
  const runSession = async (session: NativeSession, feeds: [string, NativeTensor][], fetched: string[]) => {
    const batch = feeds[0]?.[1].dims[0] ?? 1;
    try {
      return perImage ? await runPerImage(session, feeds, fetched, batch) : [await session.run(Object.fromEntries(feeds), fetched)];
    } catch {
      // A file that fixes its batch size at 1 takes the images one at a time; anything else is left to the engine.
      if (perImage || batch === 1) {
        failed = true;
        return undefined;
      }
      try {
        const results = await runPerImage(session, feeds, fetched, batch);
        perImage = true;
        return results;
      } catch {
        failed = true;
        return undefined;
      }
    }
  };

  const acceptsFeeds = (feeds: Feeds) =>
    !disposed &&
    !failed &&
    feeds.size === inputs.size &&
    [...feeds.keys()].every((id) => inputs.has(id)) &&
    [...feeds.values()].every((x) => x.dtype === 'float32');

  const feedsInOnnxOrder = (feeds: Feeds) =>
    Promise.all(
      [...feeds].map(async ([id, x]): Promise<[string, NativeTensor]> => [
        inputs.get(id)!.name,
        await nativeTensor(x, inputs.get(id)!.layout),
      ]),
    );

  return {
    async run(feeds: Feeds, wanted: readonly string[]): Promise<tf.Tensor[] | undefined> {
      if (!acceptsFeeds(feeds)) return undefined;
      const asked = wanted.map((id) => values.get(id));
      if (asked.some((value) => value === undefined)) return undefined;
      const names = asked.map((value) => value!.name);
      const fetched = [...new Set(names)];
      const extra = [...new Set(names.filter((name) => !graphOutputs.has(name)))].sort();
      const session = await sessionFor(extra.join('\n'), () => withOutputs(bytes, extra));
      if (!session) return undefined;
      const results = await runSession(session, await feedsInOnnxOrder(feeds), fetched);
      return (
        results &&
        names.map((name, i) =>
          engineTensor(
            results.map((result) => result[name]),
            asked[i]!.layout,
          ),
        )
      );
    },

    async gradient(feeds: Feeds, of: string, seeds: ReadonlyMap<string, tf.Tensor>): Promise<tf.Tensor | undefined> {
      const at = inputs.get(of) ?? values.get(of);
      if (!at || !acceptsFeeds(feeds)) return undefined;
      const seeded = [...seeds].map(([id, seed]) => ({ value: values.get(id), seed }));
      if (seeded.some(({ value }) => value === undefined)) return undefined;
      const outputNames = seeded.map(({ value }) => value!.name);
      const key = `gradient\n${at.name}\n${outputNames.join('\n')}`;
      if (!gradientGraphs.has(key)) gradientGraphs.set(key, gradientGraph(analysis, at.name, outputNames));
      const graph = gradientGraphs.get(key);
      if (!graph) return undefined;
      const session = await sessionFor(key, () => concatBytes([bytes, graph.appendix]));
      if (!session) return undefined;
      const seedFeeds = await Promise.all(
        seeded.map(async ({ value, seed }): Promise<[string, NativeTensor]> => [
          graph.seeds.get(value!.name)!,
          await nativeTensor(seed, value!.layout),
        ]),
      );
      const results = await runSession(session, [...(await feedsInOnnxOrder(feeds)), ...seedFeeds], [graph.gradient]);
      return (
        results &&
        engineTensor(
          results.map((result) => result[graph.gradient]),
          at.layout,
        )
      );
    },

    dispose() {
      disposed = true;
      for (const session of sessions.values()) void session.then((s) => s?.release());
      sessions.clear();
    },
  };
}

/** The model's bytes with these tensors added as graph outputs. */
export function withOutputs(bytes: Uint8Array, names: readonly string[]): Uint8Array {
  if (names.length === 0) return bytes;
  return concatBytes([bytes, graphAppendixBytes({ nodes: [], constants: [], inputs: [], outputs: names })]);
}

async function nativeTensor(x: tf.Tensor, layout: Layout): Promise<NativeTensor> {
  const ordered = layout === 'nhwc' && x.rank === 4 ? toNchw(x) : x;
  try {
    return { data: (await ordered.data()) as Float32Array, dims: [...ordered.shape] };
  } finally {
    if (ordered !== x) ordered.dispose();
  }
}

/** One image at a time, each input sliced along its first axis. */
async function runPerImage(
  session: NativeSession,
  feeds: readonly (readonly [string, NativeTensor])[],
  names: readonly string[],
  batch: number,
): Promise<Record<string, NativeTensor>[]> {
  const results: Record<string, NativeTensor>[] = [];
  for (let b = 0; b < batch; b++) {
    const one = feeds.map(([name, { data, dims }]): [string, NativeTensor] => {
      const size = data.length / dims[0];
      return [name, { data: data.slice(b * size, (b + 1) * size), dims: [1, ...dims.slice(1)] }];
    });
    results.push(await session.run(Object.fromEntries(one), names));
  }
  return results;
}

/** The runtime's results for one output (one per image when run per image), as the engine stores it. */
function engineTensor(parts: readonly NativeTensor[], layout: Layout): tf.Tensor {
  return tf.tidy(() => {
    const tensors = parts.map(({ data, dims }) => tf.tensor(data, dims, 'float32'));
    const whole = tensors.length === 1 ? tensors[0] : tf.concat(tensors, 0);
    return layout === 'nhwc' && whole.rank === 4 ? toNhwc(whole) : whole;
  });
}
