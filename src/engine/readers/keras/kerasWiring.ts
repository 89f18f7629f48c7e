/**
 * How the layers of a functional Keras config are connected: each call's inputs rewritten from the
 * Keras 3 form into the Keras 2 one tfjs-layers reads, and the wiring replayed before tfjs-layers sees it.
 */
import { isObject, KerasConfigError, MODEL_CLASSES, type Json, type JsonObject } from './kerasJson';

/**
 * Keras 2 records each call of a layer as a list of `[layer, node, tensor, kwargs]`; Keras 3 as
 * `{args, kwargs}` holding serialized tensors whose `keras_history` is `[layer, node, tensor]`.
 */
export function convertInboundNodes(nodes: Json | undefined, classOf: Map<string, string>, owner: string): Json[] {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    if (Array.isArray(node)) return node.map((ref) => checkReference(ref, classOf, owner));
    if (!isObject(node)) throw new KerasConfigError(`has a layer "${owner}" whose inputs are recorded in an unknown form.`);
    const kwargs = isObject(node.kwargs) ? plainKwargs(node.kwargs) : {};
    return kerasTensors(node.args ?? null).map(([name, index, tensor]) => {
      if (!classOf.has(name)) throw new KerasConfigError(`has a layer "${owner}" fed by a layer "${name}" that it does not contain.`);
      // tfjs gives every model a built-in first node; Keras 3 counts only the calls.
      const node = index + (MODEL_CLASSES.has(classOf.get(name)!) ? 1 : 0);
      return [name, node, tensor, kwargs];
    });
  });
}

function checkReference(ref: Json, classOf: Map<string, string>, owner: string): Json {
  if (!Array.isArray(ref) || typeof ref[0] !== 'string') {
    throw new KerasConfigError(`has a layer "${owner}" whose inputs are recorded in an unknown form.`);
  }
  if (!classOf.has(ref[0])) throw new KerasConfigError(`has a layer "${owner}" fed by a layer "${ref[0]}" that it does not contain.`);
  return ref;
}

/** Serialized Keras tensors anywhere in a call's arguments, in order. */
function kerasTensors(value: Json): [string, number, number][] {
  if (Array.isArray(value)) return value.flatMap(kerasTensors);
  if (!isObject(value)) return [];
  if (value.class_name === '__keras_tensor__') {
    const history = isObject(value.config) ? value.config.keras_history : undefined;
    if (Array.isArray(history) && typeof history[0] === 'string') return [[history[0], Number(history[1] ?? 0), Number(history[2] ?? 0)]];
    return [];
  }
  return Object.values(value).flatMap(kerasTensors);
}

/** Call keyword arguments tfjs can pass on; tensors among them (masks) cannot be expressed. */
function plainKwargs(kwargs: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(kwargs).filter(([, value]) => kerasTensors(value).length === 0));
}

/** `input_layers`/`output_layers`: a `[layer, node, tensor]` triple, a list of them, or a dict of them. */
export function tensorReferences(value: Json | undefined): [string, number, number][] {
  if (Array.isArray(value) && typeof value[0] === 'string') return [[value[0], Number(value[1] ?? 0), Number(value[2] ?? 0)]];
  if (Array.isArray(value)) return value.flatMap(tensorReferences);
  if (isObject(value)) return Object.values(value).flatMap(tensorReferences);
  return [];
}

/**
 * Replays the order in which tfjs will connect the layers, so a reference to a call that never
 * happens is reported here: tfjs would otherwise wait for it forever. A layer whose next call waits
 * for another layer's k-th call is looked at again only once that call has happened, so the replay
 * takes linear time whatever the order of the layers in the file.
 */
export function checkWiring(layers: JsonObject[], config: JsonObject): void {
  const calls = new Map<string, number>();
  const pending = new Map<string, { nodes: Json[][]; next: number }>();
  for (const layer of layers) {
    const name = String(layer.name);
    // Input layers and models are callable tensors from the start.
    calls.set(name, layer.class_name === 'InputLayer' || MODEL_CLASSES.has(String(layer.class_name)) ? 1 : 0);
    pending.set(name, { nodes: layer.inbound_nodes as Json[][], next: 0 });
  }
  const waiting = new Map<string, string[]>();
  const unmet = (node: Json[]) => node.find((ref) => !(Array.isArray(ref) && (calls.get(String(ref[0])) ?? 0) > Number(ref[1])));
  const queue = [...pending.keys()];
  while (queue.length > 0) {
    const name = queue.pop()!;
    const state = pending.get(name)!;
    while (state.next < state.nodes.length) {
      const missing = unmet(state.nodes[state.next]);
      if (missing !== undefined) {
        // Woken when the call it needs happens; a reference that can never be met leaves it pending.
        if (Array.isArray(missing)) {
          const key = `${String(missing[0])}#${Number(missing[1])}`;
          const waiters = waiting.get(key);
          if (waiters) waiters.push(name);
          else waiting.set(key, [name]);
        }
        break;
      }
      state.next++;
      const count = calls.get(name)! + 1;
      calls.set(name, count);
      const woken = waiting.get(`${name}#${count - 1}`);
      if (woken) queue.push(...woken);
    }
  }
  for (const [name, state] of pending) {
    if (state.next < state.nodes.length)
      throw new KerasConfigError(`has a layer "${name}" whose inputs can never be computed: its connections are inconsistent.`);
  }
  for (const key of ['input_layers', 'output_layers']) {
    for (const ref of config[key] as Json[][]) {
      if ((calls.get(String(ref[0])) ?? 0) <= Number(ref[1])) {
        throw new KerasConfigError(`names the output of a layer "${String(ref[0])}" that is never computed.`);
      }
    }
  }
}
