/**
 * The structure of a graph model's op graph: which nodes feed which, in an order where every node comes
 * after its inputs, and which tensors are the model's inputs and outputs. Control dependencies (`^name`
 * inputs) only order side effects in TensorFlow; a frozen inference graph has none that matter, so they
 * are left out.
 */
import { ModelReadError } from '../../../errors';
import type { Shape } from '../../../model';
import { attrShape, shapeFromJson, type GraphModelJson, type NodeDefJson } from './graphJson';

/** One output of a node: `name` is output 0, `name:k` output k. */
export interface TensorRef {
  node: string;
  index: number;
}

export interface GraphModelInput {
  id: string;
  shape: Shape;
}

export interface OpGraph {
  byName: ReadonlyMap<string, NodeDefJson>;
  /** Every node, each after the nodes it reads (in file order where the file is already so ordered). */
  order: NodeDefJson[];
  /** The nodes that compute something: neither `Const` nor `Placeholder`. */
  ops: NodeDefJson[];
  dataInputs: ReadonlyMap<string, TensorRef[]>;
  inputs: GraphModelInput[];
  outputs: TensorRef[];
  /**
   * A node on a cycle (TensorFlow 1 loops) when there is one: such a graph has no order to run in, and
   * `order` merely lists every node.
   */
  cycleThrough?: string;
}

export function isConstant(node: NodeDefJson): boolean {
  return node.op === 'Const';
}

export function isPlaceholder(node: NodeDefJson): boolean {
  return node.op === 'Placeholder';
}

export function parseTensorRef(text: string): TensorRef {
  const match = /^(.*):(\d+)$/.exec(text);
  return match ? { node: match[1], index: Number(match[2]) } : { node: text, index: 0 };
}

/** The id of a tensor in the runnable graph and in `runGraph` calls. */
export function tensorId(ref: TensorRef): string {
  return ref.index === 0 ? ref.node : `${ref.node}:${ref.index}`;
}

export function dataInputNames(node: NodeDefJson): string[] {
  return (node.input ?? []).filter((input) => !input.startsWith('^'));
}

export function buildOpGraph(fileName: string, json: GraphModelJson): OpGraph {
  const nodes = json.modelTopology.node;
  const byName = new Map<string, NodeDefJson>();
  for (const node of nodes) {
    if (byName.has(node.name)) throw new ModelReadError(fileName, `has two graph nodes named "${node.name}".`);
    byName.set(node.name, node);
  }
  const dataInputs = new Map<string, TensorRef[]>();
  for (const node of nodes) {
    const refs = dataInputNames(node).map(parseTensorRef);
    for (const ref of refs) {
      if (!byName.has(ref.node)) {
        throw new ModelReadError(fileName, `has the node "${node.name}" reading "${ref.node}", which is not in the graph.`);
      }
    }
    dataInputs.set(node.name, refs);
  }

  const { order, cycleThrough } = topologicalOrder(nodes, byName, dataInputs);
  return {
    byName,
    order,
    ops: order.filter((node) => !isConstant(node) && !isPlaceholder(node)),
    dataInputs,
    inputs: graphInputs(json, nodes),
    outputs: graphOutputs(fileName, json, order, byName, dataInputs),
    cycleThrough,
  };
}

/**
 * Depth-first, inputs before the node, roots taken in file order: an already sorted file keeps its
 * order. Iterative, since a deep network's chain of nodes would overflow the call stack.
 */
function topologicalOrder(
  nodes: NodeDefJson[],
  byName: ReadonlyMap<string, NodeDefJson>,
  dataInputs: ReadonlyMap<string, TensorRef[]>,
): { order: NodeDefJson[]; cycleThrough?: string } {
  const state = new Map<string, 'visiting' | 'done'>();
  const order: NodeDefJson[] = [];
  let cycleThrough: string | undefined;
  for (const root of nodes) {
    if (state.has(root.name)) continue;
    state.set(root.name, 'visiting');
    // Each frame holds a node and how many of its inputs have been visited.
    const stack: [NodeDefJson, number][] = [[root, 0]];
    while (stack.length) {
      const frame = stack[stack.length - 1];
      const [node, visited] = frame;
      const inputs = dataInputs.get(node.name)!;
      if (visited === inputs.length) {
        stack.pop();
        state.set(node.name, 'done');
        order.push(node);
        continue;
      }
      frame[1] = visited + 1;
      const producer = inputs[visited].node;
      const seen = state.get(producer);
      if (seen === undefined) {
        state.set(producer, 'visiting');
        stack.push([byName.get(producer)!, 0]);
      } else if (seen === 'visiting') {
        cycleThrough ??= producer;
      }
    }
  }
  return { order, cycleThrough };
}

/** The placeholders, in the signature's order where it lists them. */
function graphInputs(json: GraphModelJson, nodes: NodeDefJson[]): GraphModelInput[] {
  const signed = Object.values(json.signature?.inputs ?? {});
  // By name, first listing first: looked up once per placeholder, so a large graph costs no more than linear time.
  const signedIndex = new Map<string, number>();
  signed.forEach((info, i) => {
    const name = parseTensorRef(info.name ?? '').node;
    if (!signedIndex.has(name)) signedIndex.set(name, i);
  });
  const rank = (node: NodeDefJson) => signedIndex.get(node.name) ?? signed.length;
  return nodes
    .filter(isPlaceholder)
    .sort((a, b) => rank(a) - rank(b))
    .map((node) => {
      const index = signedIndex.get(node.name);
      const signedShape = index === undefined ? undefined : signed[index].tensorShape;
      return { id: node.name, shape: attrShape(node, 'shape') ?? shapeFromJson(signedShape) ?? [] };
    });
}

/** The signature's outputs, or where it has none, every computed tensor that nothing reads. */
function graphOutputs(
  fileName: string,
  json: GraphModelJson,
  order: NodeDefJson[],
  byName: ReadonlyMap<string, NodeDefJson>,
  dataInputs: ReadonlyMap<string, TensorRef[]>,
): TensorRef[] {
  const signed = Object.values(json.signature?.outputs ?? {});
  if (signed.length) {
    return signed.map((info) => {
      if (typeof info?.name !== 'string') throw new ModelReadError(fileName, 'has an output in its signature without a tensor name.');
      const ref = parseTensorRef(info.name);
      if (!byName.has(ref.node)) {
        throw new ModelReadError(fileName, `names the output "${info.name}" in its signature, which is not in the graph.`);
      }
      return ref;
    });
  }
  const read = new Set([...dataInputs.values()].flat().map((ref) => ref.node));
  return order
    .filter((node) => !read.has(node.name) && !isConstant(node) && !isPlaceholder(node))
    .map((node) => ({ node: node.name, index: 0 }));
}
