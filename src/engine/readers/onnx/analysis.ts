/**
 * The structure of an ONNX graph as ConvLens runs it: nodes in an order where each comes after its
 * inputs, a unique id per node, and for every tensor its shape, type, storage layout and — when it is
 * fixed before running — its value. Shape arithmetic is folded here. Nothing in this module touches
 * tensors: the summary uses it as it is, and the loader passes `evaluate` to fold the constants that
 * only tensor operations can compute (a transposed weight, say). One file because it is one walk over
 * the graph, whose per-node steps (order, shapes, layouts, folding) read each other's state.
 */
import type { Shape } from '../../model';
import { Attributes } from './attributes';
import type { MemoryBudget } from './budget';
import type { Layout } from './layout';
import { OnnxFormatError, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type ValueInfo } from './onnxProto';
import { boundOutputs, IF, outerReads, renamed, renamedInitializers, renamedValueInfo, Scope, takenBranch } from './controlFlow';
import { isStandardDomain, operator } from './ops';
import { HOST_FOLD_LIMIT } from './ops/host';
import { isFullyKnown, product, unknownOutput } from './ops/shapes';
import { NotFoldable, OpError, type NodeView, type OpSpec, type ValueDesc } from './ops/types';
import { dtypeOf, type HostTensor } from './tensors';

export interface AnalyzedNode {
  /** Unique in the model: the node's name, or one made up for it. */
  id: string;
  node: OnnxNode;
  view: NodeView;
  /** Undefined for an operator ConvLens cannot run. */
  spec?: OpSpec;
  /** One per ONNX output, as stored: every 4-D activation NHWC. */
  outputs: ValueDesc[];
  /**
   * The outputs as the operator computes them (MaxPool's indices, say, are not computed), in the
   * layout it produces them in; a 4-D one in ONNX order is transposed to NHWC after it.
   */
  computed: ValueDesc[];
  /** Ids of the runnable graph's nodes giving each output: the node's id, then `id:1`, `id:2`… */
  outputIds: string[];
}

export interface AnalyzedInput {
  id: string;
  desc: ValueDesc;
}

export interface GraphAnalysis {
  fileName: string;
  graphName: string;
  opset: number;
  inputs: AnalyzedInput[];
  /** In an order where every node follows the nodes it reads. */
  nodes: AnalyzedNode[];
  initializers: ReadonlyMap<string, OnnxTensor>;
  values: ReadonlyMap<string, ValueDesc>;
  /** Which node output (or graph input) gives each tensor; initializers are not listed. */
  producers: ReadonlyMap<string, { node?: AnalyzedNode; index: number; inputId?: string }>;
  outputs: { name: string; desc: ValueDesc }[];
  /** Nodes whose operator ConvLens cannot run. */
  unsupported: AnalyzedNode[];
  /** If nodes whose condition is not fixed before running (it depends on the input's values). */
  unresolved: AnalyzedNode[];
  /** The most bytes one output may take when running (the model limit). */
  modelBytes: number;
}

export interface AnalysisOptions {
  /**
   * Holds the weights already counted; every node's outputs are counted into it as inference works
   * them out, before anything is folded or evaluated, so that a model asking for more than the limit
   * is refused before it allocates.
   */
  budget: MemoryBudget;
  /** An initializer's values when they are to be used (all when loading; small ones for a summary). */
  initializerValue(tensor: OnnxTensor): HostTensor | undefined;
  /** Fold constants of any size (loading) rather than only small ones (a summary). */
  foldLarge: boolean;
  /**
   * Computes the outputs of a node whose inputs are all constant and that `fold` cannot compute,
   * given the outputs' descriptions from inference.
   */
  evaluate?(node: AnalyzedNode, inputs: HostTensor[], outputs: ValueDesc[]): HostTensor[] | undefined;
}

/** Constants a summary folds: shape vectors and other small values, never weights. */
const SUMMARY_FOLD_LIMIT = 4096;

export function analyzeGraph(fileName: string, model: OnnxModel, options: AnalysisOptions): GraphAnalysis {
  const graph = model.graph;
  const opset = standardOpset(model);
  const initializers = new Map(graph.initializers.map((tensor) => [tensor.name, tensor]));
  const values = new Map<string, ValueDesc>();
  const producers = new Map<string, { node?: AnalyzedNode; index: number; inputId?: string }>();
  const usedIds = new Set<string>();

  for (const tensor of graph.initializers) values.set(tensor.name, initializerDesc(tensor, options));

  // Older files list the initializers among the inputs too: those are weights, not inputs.
  const inputs: AnalyzedInput[] = [];
  for (const info of graph.inputs) {
    if (initializers.has(info.name) || values.has(info.name)) continue;
    const desc = inputDesc(info, graph);
    values.set(info.name, desc);
    usedIds.add(info.name);
    producers.set(info.name, { index: 0, inputId: info.name });
    inputs.push({ id: info.name, desc });
  }

  const nodes: AnalyzedNode[] = [];
  const unsupported: AnalyzedNode[] = [];
  const unresolved: AnalyzedNode[] = [];
  const valueInfo = new Map<string, ValueInfo>([...graph.valueInfo, ...graph.outputs].map((info) => [info.name, info]));

  const analyze = (node: OnnxNode, fallbackId: string): AnalyzedNode => {
    const id = uniqueId(node.name || fallbackId, usedIds);
    const view: NodeView = {
      id,
      opType: node.opType,
      opset,
      attributes: new Attributes(node),
      inputs: node.inputs.map((name) => (name ? values.get(name) : undefined)),
      outputCount: node.outputs.length,
    };
    const spec = operator(node.domain, node.opType);
    const analyzed: AnalyzedNode = { id, node, view, spec, outputs: [], computed: [], outputIds: [] };
    analyzed.outputIds = node.outputs.map((_, k) => (k === 0 ? id : uniqueId(`${id}:${k}`, usedIds)));

    const { computed, stored } = spec ? describeOutputs(analyzed, spec, options) : { computed: [], stored: [] };
    analyzed.computed = computed;
    analyzed.outputs = node.outputs.map((name, k) => withValueInfo(stored[k] ?? unknownOutput(), valueInfo.get(name)));
    options.budget.add({ id, opType: node.opType }, analyzed.outputs);
    node.outputs.forEach((name, k) => {
      if (!name) return;
      values.set(name, analyzed.outputs[k]);
      producers.set(name, { node: analyzed, index: k });
    });
    nodes.push(analyzed);
    return analyzed;
  };

  /**
   * Analyses a graph's nodes in order, their names as `scope` gives them. An If whose condition is
   * known by now is replaced by the branch it takes (controlFlow.ts); any other is kept as a node
   * ConvLens cannot run.
   */
  const walk = (graphNodes: readonly OnnxNode[], scope: Scope, idPrefix: string): void => {
    const known = { has: (name: string) => values.has(scope.resolve(name)) };
    topologicalOrder(graphNodes, known).forEach((original, position) => {
      const node = renamed(original, scope);
      const fallbackId = `${idPrefix}${node.opType}_${position}`;
      if (node.opType !== IF || !isStandardDomain(node.domain)) {
        const analyzed = analyze(node, fallbackId);
        if (!analyzed.spec) unsupported.push(analyzed);
        return;
      }
      const condition = values.get(node.inputs[0] ?? '')?.constant?.data;
      const branch = condition?.length ? takenBranch(node, condition[0]) : undefined;
      if (!branch) {
        unresolved.push(analyze(node, fallbackId));
        return;
      }
      const inner = scope.branch(branch.graph, node.outputs);
      const ifId = node.name || fallbackId;
      for (const { tensor, name } of renamedInitializers(branch.graph, inner)) {
        initializers.set(name, tensor);
        values.set(name, initializerDesc(tensor, options));
      }
      for (const info of renamedValueInfo(branch.graph, inner)) if (!valueInfo.has(info.name)) valueInfo.set(info.name, info);
      walk(branch.graph.nodes, inner, `${ifId}/${branch.name}/`);
      for (const output of branch.graph.outputs) {
        if (!values.has(inner.resolve(output.name)))
          throw new OnnxFormatError(`the ${branch.name} of the If node "${ifId}" gives "${output.name}", which nothing defines`);
      }
      for (const identity of boundOutputs(node, branch.graph, inner)) analyze({ ...identity, name: ifId }, ifId);
    });
  };
  walk(graph.nodes, Scope.of(graph), '');

  const outputs = graph.outputs.map((info) => {
    const desc = values.get(info.name);
    if (!desc) throw new OnnxFormatError(`its output "${info.name}" is computed by no node`);
    return { name: info.name, desc };
  });
  return {
    fileName,
    graphName: graph.name,
    opset,
    inputs,
    nodes,
    initializers,
    values,
    producers,
    outputs,
    unsupported,
    unresolved,
    modelBytes: options.budget.limit,
  };
}

function initializerDesc(tensor: OnnxTensor, options: AnalysisOptions): ValueDesc {
  const dtype = dtypeOf(tensor.dataType) ?? 'float32';
  const data = options.initializerValue(tensor)?.data;
  return { shape: [...tensor.dims], dtype, layout: 'onnx', constant: data ? { data } : {} };
}

function standardOpset(model: OnnxModel): number {
  const versions = model.opsetImports.filter((id) => isStandardDomain(id.domain)).map((id) => id.version);
  // Files from before opset imports existed use the first operator set.
  return versions.length ? Math.max(...versions) : 1;
}

/**
 * The description of a graph input: its batch axis free whatever the file says, and a 4-D float
 * image stored NHWC — unless the graph itself takes NHWC and transposes it (TensorFlow converters),
 * in which case the input is used as it is.
 */
function inputDesc(info: ValueInfo, graph: OnnxGraph): ValueDesc {
  const dtype = info.elemType === undefined ? 'float32' : (dtypeOf(info.elemType) ?? 'float32');
  const shape: Shape | undefined = info.shape?.map((d, i) => (i === 0 || typeof d !== 'number' || d < 1 ? null : d));
  let layout: Layout = 'onnx';
  if (shape?.length === 4 && dtype === 'float32') {
    const consumers = graph.nodes.filter((node) => node.inputs.includes(info.name) || outerReads(node).has(info.name));
    const transposedToNchw = consumers.length > 0 && consumers.every((node) => node.opType === 'Transpose' && isNhwcToNchw(node));
    layout = transposedToNchw ? 'onnx' : 'nhwc';
  }
  return { shape, dtype, layout };
}

function isNhwcToNchw(node: OnnxNode): boolean {
  const perm = node.attributes.get('perm')?.ints;
  return perm?.length === 4 && perm.every((axis, i) => axis === [0, 3, 1, 2][i]);
}

/**
 * The outputs as the operator computes them, and as they are stored: folded to values when every
 * input is known, constant (in ONNX order) when every input is constant, and 4-D ones NHWC otherwise.
 */
function describeOutputs(analyzed: AnalyzedNode, spec: OpSpec, options: AnalysisOptions): { computed: ValueDesc[]; stored: ValueDesc[] } {
  const { view } = analyzed;
  let computed: ValueDesc[];
  try {
    computed = spec.infer(view);
  } catch (error) {
    // Inference is best effort: what cannot be worked out is left unknown, and running will tell.
    if (!(error instanceof OpError || error instanceof NotFoldable)) throw error;
    computed = new Array(view.outputCount).fill(0).map(() => unknownOutput());
    return { computed, stored: computed };
  }
  // Before anything is folded or evaluated: a fold would allocate what the outputs need.
  options.budget.check({ id: view.id, opType: view.opType }, computed);
  const present = view.inputs.filter((input): input is ValueDesc => input !== undefined);
  const missingInput = analyzed.node.inputs.some((name, i) => name !== '' && view.inputs[i] === undefined);
  if (missingInput) return { computed, stored: computed.map(asStored) };
  if (!present.every((input) => input.constant)) {
    const partial = foldPartially(analyzed, spec, computed);
    return partial ?? { computed, stored: computed.map(asStored) };
  }

  // Every input is fixed, so the outputs are too.
  const small = computed.every((output) => isFullyKnown(output.shape) && product(output.shape)! <= SUMMARY_FOLD_LIMIT);
  const known = present.every((input) => input.constant!.data);
  if (known && (options.foldLarge || small)) {
    const inputs = view.inputs.map((input) =>
      input ? { dims: input.shape as number[], dtype: input.dtype, data: input.constant!.data! } : undefined,
    ) as HostTensor[];
    const folded = foldOrEvaluate(analyzed, spec, inputs, computed, options);
    if (folded) {
      const values = folded.map((value): ValueDesc => ({
        shape: value.dims,
        dtype: value.dtype,
        layout: 'onnx',
        constant: { data: value.data },
      }));
      return { computed: values, stored: values };
    }
  }
  return {
    computed,
    stored: computed.map((output) => ({ ...output, layout: 'onnx', constant: output.constant?.data ? output.constant : {} })),
  };
}

/**
 * Operators that carry partly known integer vectors along (shapes with a free batch): which of their
 * inputs may be partly known (`data`: the first; `any`: all), the others having to be constant.
 */
const PARTIAL_FOLDS: Record<string, 'data' | 'any'> = {
  Gather: 'data',
  Slice: 'data',
  Unsqueeze: 'data',
  Squeeze: 'data',
  Reshape: 'data',
  Identity: 'data',
  Cast: 'data',
  Concat: 'any',
  Add: 'any',
  Sub: 'any',
  Mul: 'any',
  Div: 'any',
};

/**
 * Folds with unknown values standing in as NaN (which these operators only move or propagate):
 * Gather(Shape(x), 1) on a [N, 3, 5, 6] input is the constant 3, Concat(Shape(x)[0], -1) is [N, -1].
 */
function foldPartially(
  analyzed: AnalyzedNode,
  spec: OpSpec,
  computed: ValueDesc[],
): { computed: ValueDesc[]; stored: ValueDesc[] } | undefined {
  const { view } = analyzed;
  const rule = PARTIAL_FOLDS[analyzed.node.opType];
  if (!rule || !spec.fold || !view.inputs.some((input) => input?.partial)) return undefined;
  const usable = view.inputs.every((input, i) => !input || input.constant?.data || (input.partial && (rule === 'any' || i === 0)));
  if (!usable) return undefined;
  const inputs = view.inputs.map((input) =>
    input
      ? { dims: input.shape as number[], dtype: input.dtype, data: input.constant?.data ?? input.partial!.map((v) => v ?? NaN) }
      : undefined,
  ) as HostTensor[];
  let folded: HostTensor[];
  try {
    folded = spec.fold(view, inputs);
  } catch (error) {
    if (error instanceof OpError || error instanceof NotFoldable) return undefined;
    throw error;
  }
  if (folded.some((value) => value.dims.length > 1)) return undefined;
  const values = folded.map((value): ValueDesc => {
    const entries = Array.from(value.data, (v) => (Number.isNaN(v) ? null : v));
    const known = entries.every((v) => v !== null);
    return {
      shape: value.dims,
      dtype: value.dtype,
      layout: 'onnx',
      ...(known ? { constant: { data: value.data } } : { partial: entries }),
    };
  });
  return values.every((value) => value.constant) ? { computed: values, stored: values } : { computed, stored: values };
}

function foldOrEvaluate(
  analyzed: AnalyzedNode,
  spec: OpSpec,
  inputs: HostTensor[],
  outputs: ValueDesc[],
  options: AnalysisOptions,
): HostTensor[] | undefined {
  const inputSize = inputs.reduce((n, input) => n + (input?.data.length ?? 0), 0);
  if (spec.fold && inputSize <= HOST_FOLD_LIMIT) {
    try {
      return spec.fold(analyzed.view, inputs);
    } catch (error) {
      if (!(error instanceof NotFoldable) && !(error instanceof OpError)) throw error;
    }
  }
  return options.evaluate?.(analyzed, inputs, outputs);
}

/** Every 4-D value computed while running is kept NHWC, whichever order its operator works in. */
function asStored(desc: ValueDesc): ValueDesc {
  return desc.shape?.length === 4 && desc.layout === 'onnx' && !desc.constant ? { ...desc, layout: 'nhwc' } : desc;
}

/** Where inference leaves a shape unknown, the file's own record of it (value_info) fills in. */
function withValueInfo(desc: ValueDesc, info: ValueInfo | undefined): ValueDesc {
  if (desc.shape || !info?.shape) return desc;
  const shape = info.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null));
  if (desc.layout === 'nhwc' && shape.length !== 4) return desc;
  return { ...desc, shape };
}

function uniqueId(base: string, used: Set<string>): string {
  let id = base;
  for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
  used.add(id);
  return id;
}

/**
 * The nodes in an order where each follows the producers of its inputs, keeping the file's order
 * where it already is one (ONNX requires it; a few writers do not comply).
 */
function topologicalOrder(graphNodes: readonly OnnxNode[], known: { has(name: string): boolean }): OnnxNode[] {
  const producerOf = new Map<string, number>();
  graphNodes.forEach((node, index) => {
    for (const output of node.outputs) {
      if (!output) continue;
      if (producerOf.has(output) || known.has(output))
        throw new OnnxFormatError(`more than one node or input defines the tensor "${output}"`);
      producerOf.set(output, index);
    }
  });
  const dependencies = graphNodes.map((node) => {
    const listed = node.inputs
      .filter((name) => name !== '')
      .map((name) => {
        const producer = producerOf.get(name);
        if (producer === undefined && !known.has(name)) {
          throw new OnnxFormatError(`the node "${node.name || node.opType}" reads "${name}", which no node, input or initializer defines`);
        }
        return producer;
      });
    // What its subgraphs read from this graph (a name they read that nothing defines is reported if the branch is taken).
    const implicit = [...outerReads(node)].map((name) => producerOf.get(name));
    return [...listed, ...implicit].filter((producer): producer is number => producer !== undefined);
  });

  // Depth-first, iteratively (graphs can be thousands of nodes deep).
  const state = new Uint8Array(graphNodes.length); // 0 unvisited, 1 in progress, 2 done
  const order: OnnxNode[] = [];
  for (let root = 0; root < graphNodes.length; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [index, next] = top;
      if (next < dependencies[index].length) {
        top[1]++;
        const dependency = dependencies[index][next];
        if (state[dependency] === 1) throw new OnnxFormatError('its graph has a cycle');
        if (state[dependency] === 0) {
          state[dependency] = 1;
          stack.push([dependency, 0]);
        }
      } else {
        state[index] = 2;
        order.push(graphNodes[index]);
        stack.pop();
      }
    }
  }
  return order;
}
