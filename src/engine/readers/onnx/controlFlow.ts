/**
 * ONNX `If` nodes whose condition is fixed once the input's shape is: scripted PyTorch exports branch
 * on `x.shape[1] == 3` and the like. ConvLens runs graphs without control flow, so such an `If` is
 * replaced by the branch it takes: that branch's nodes join the graph, the tensors they define renamed
 * where a name is taken already, the names they read from the enclosing graph resolved to its values,
 * and their outputs written under the `If`'s own output names. This module does the renaming; the
 * analysis (analysis.ts) decides which branch is taken, from the condition it has folded.
 */
import { AttributeType, type OnnxGraph, type OnnxNode, type OnnxTensor, type ValueInfo } from './onnxProto';

/** The operator inlined when its condition is known. */
export const IF = 'If';

/**
 * The names a scope gives its tensors: the enclosing graph's keep their own (absent here), a branch's
 * are mapped to names unique in the model.
 */
export class Scope {
  private constructor(
    private readonly names: Map<string, string>,
    private readonly taken: Set<string>,
  ) {}

  /** The main graph's scope: every name it defines is taken, so that no branch tensor shadows one defined later. */
  static of(graph: OnnxGraph): Scope {
    const taken = new Set<string>();
    for (const name of definedNames(graph)) taken.add(name);
    return new Scope(new Map(), taken);
  }

  /** The name a tensor read here has in the flattened graph. */
  resolve(name: string): string {
    return name ? (this.names.get(name) ?? name) : name;
  }

  /** The scope of a branch inlined in this one, its outputs written under `boundTo` (the If's outputs). */
  branch(graph: OnnxGraph, boundTo: readonly string[]): Scope {
    const inner = new Scope(new Map(this.names), this.taken);
    const producedHere = new Set(graph.nodes.flatMap((node) => node.outputs));
    // A branch output its own nodes compute is written under the If's output name directly; the rest
    // (an outer value, an initializer, an output listed twice) go through an Identity (`boundOutputs`).
    graph.outputs.forEach((output, k) => {
      const target = boundTo[k];
      if (target && producedHere.has(output.name) && !inner.names.has(output.name)) inner.names.set(output.name, target);
    });
    for (const name of definedNames(graph)) if (!inner.names.has(name)) inner.names.set(name, inner.fresh(name));
    return inner;
  }

  /** `name`, or `name_2`, `name_3`… where it is taken. */
  private fresh(name: string): string {
    let unique = name;
    for (let n = 2; this.taken.has(unique); n++) unique = `${name}_${n}`;
    this.taken.add(unique);
    return unique;
  }
}

/** The branch an `If` takes for a condition (a one-element boolean tensor's first value). */
export function takenBranch(node: OnnxNode, condition: number): { graph: OnnxGraph; name: string } | undefined {
  const name = condition ? 'then_branch' : 'else_branch';
  const attribute = node.attributes.get(name);
  return attribute?.type === AttributeType.Graph && attribute.g ? { graph: attribute.g, name } : undefined;
}

/** A branch node as it joins the graph: the tensors it reads and writes under their names there. */
export function renamed(node: OnnxNode, scope: Scope): OnnxNode {
  return { ...node, inputs: node.inputs.map((name) => scope.resolve(name)), outputs: node.outputs.map((name) => scope.resolve(name)) };
}

/**
 * The Identity nodes that give an `If`'s outputs where its branch does not compute them itself: an
 * output that is a value of the enclosing graph, one of the branch's initializers, or listed twice.
 */
export function boundOutputs(ifNode: OnnxNode, branch: OnnxGraph, scope: Scope): OnnxNode[] {
  const bound: OnnxNode[] = [];
  branch.outputs.forEach((output, k) => {
    const target = ifNode.outputs[k];
    const source = scope.resolve(output.name);
    if (!target || source === target) return;
    bound.push({ name: '', opType: 'Identity', domain: '', inputs: [source], outputs: [target], attributes: new Map() });
  });
  return bound;
}

/** A branch's initializers under their names in the flattened graph (the tensors themselves are shared). */
export function renamedInitializers(branch: OnnxGraph, scope: Scope): { tensor: OnnxTensor; name: string }[] {
  return branch.initializers.map((tensor) => ({ tensor, name: scope.resolve(tensor.name) }));
}

/** What a branch records of its tensors' types and shapes, under their names in the flattened graph. */
export function renamedValueInfo(branch: OnnxGraph, scope: Scope): ValueInfo[] {
  return [...branch.valueInfo, ...branch.outputs].map((info) => ({ ...info, name: scope.resolve(info.name) }));
}

/** The subgraphs a node holds (If's branches, Loop's and Scan's bodies). */
export function subgraphsOf(node: OnnxNode): OnnxGraph[] {
  const graphs: OnnxGraph[] = [];
  for (const attribute of node.attributes.values()) {
    if (attribute.g) graphs.push(attribute.g);
    graphs.push(...attribute.graphs);
  }
  return graphs;
}

/**
 * The tensors a node's subgraphs read from the graph around it: what they use and do not define
 * themselves. A node runs after their producers as much as after its listed inputs'.
 */
export function outerReads(node: OnnxNode): Set<string> {
  const reads = new Set<string>();
  for (const graph of subgraphsOf(node)) {
    const defined = new Set(definedNames(graph));
    for (const inner of graph.nodes) {
      for (const name of [...inner.inputs, ...outerReads(inner)]) if (name && !defined.has(name)) reads.add(name);
    }
    for (const output of graph.outputs) if (!defined.has(output.name)) reads.add(output.name);
  }
  return reads;
}

/** Every initializer of a graph and of the subgraphs within it, at any depth. */
export function everyInitializer(graph: OnnxGraph): OnnxTensor[] {
  const tensors: OnnxTensor[] = [];
  const graphs = [graph];
  for (let next = graphs.pop(); next; next = graphs.pop()) {
    tensors.push(...next.initializers);
    for (const node of next.nodes) graphs.push(...subgraphsOf(node));
  }
  return tensors;
}

function definedNames(graph: OnnxGraph): string[] {
  return [
    ...graph.inputs.map((info) => info.name),
    ...graph.initializers.map((tensor) => tensor.name),
    ...graph.nodes.flatMap((node) => node.outputs.filter(Boolean)),
  ];
}
