/**
 * A graph model as a `RunnableModel`: one node per TensorFlow op, with the op node's name as its id, so
 * the output of any op can be shown and the network cut at any op. Constants are not nodes: each op node
 * holds the constants it reads, and they are its weights.
 *
 * An op with several outputs (Split, say) is one node per output that something reads: `name` computes
 * output 0 and `name:k` output k. Each runs the op again, which costs little for the ops that have them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode, RunnableModel, SpatialGeometry, SpatialPair } from '../../../graph';
import type { ModelSummary, Shape } from '../../../model';
import { smallIntegerValues } from './constantTensors';
import { isWeight, type ConstantInfo } from './constants';
import { attrInts, attrString, attrStrings, type NodeDefJson } from './graphJson';
import { opRunner, type OpNode } from './opExecutor';
import { isConstant, isPlaceholder, tensorId, type OpGraph, type TensorRef } from './opGraph';

export function graphRunnable(
  graph: OpGraph,
  opNodes: Readonly<Record<string, OpNode>>,
  constants: ReadonlyMap<string, ConstantInfo>,
  constantTensors: ReadonlyMap<string, tf.Tensor>,
  summary: ModelSummary,
): RunnableModel {
  const readsConstant = (ref: TensorRef) => isConstant(graph.byName.get(ref.node)!);
  const extraOutputs = outputsReadBeyondTheFirst(graph);
  const nodes: GraphNode[] = [];
  const weightsByNode = new Map<string, tf.Tensor[]>();

  for (const node of graph.ops) {
    const refs = graph.dataInputs.get(node.name)!;
    const tensorRefs = uniqueRefs(refs.filter((ref) => !readsConstant(ref)));
    const constantNames = [...new Set(refs.filter(readsConstant).map((ref) => ref.node))];
    const nodeConstants = Object.fromEntries(constantNames.map((name) => [name, constantTensors.get(name)!]));
    weightsByNode.set(
      node.name,
      constantNames.filter((name) => isWeight(constants.get(name))).map((name) => constantTensors.get(name)!),
    );
    const inputs = tensorRefs.map(tensorId);
    const constantInput = (i: number): ConstantInput | undefined =>
      refs[i] && readsConstant(refs[i])
        ? { shape: constants.get(refs[i].node)?.shape, values: () => smallIntegerValues(constantTensors.get(refs[i].node)) }
        : undefined;
    const geometry = opGeometry(node, constantInput);
    for (const index of [0, ...(extraOutputs.get(node.name) ?? [])]) {
      nodes.push({
        id: tensorId({ node: node.name, index }),
        inputs,
        type: node.op,
        endsWithRelu: endsWithRelu(node),
        ...(geometry ? { geometry } : {}),
        run: opRunner(opNodes[node.name], index, tensorRefs, nodeConstants),
      });
    }
  }
  // A constant that is itself a model output still needs a node to compute it.
  for (const name of new Set(graph.outputs.filter(readsConstant).map((ref) => ref.node))) {
    nodes.push({ id: name, inputs: [], type: 'Const', run: () => constantTensors.get(name)!.clone() });
  }

  const logits = logitsOf(graph);
  let disposed = false;
  return {
    summary,
    inputs: graph.inputs.map((input) => ({ id: input.id, shape: [...input.shape] })),
    outputs: graph.outputs.map(tensorId),
    ...(logits ? { logits } : {}),
    nodes,
    weights: (layerId) => weightsByNode.get(layerId) ?? [],
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([...constantTensors.values()]);
    },
  };
}

const RELUS = new Set(['Relu', 'Relu6']);
const FUSED_ACTIVATIONS = new Set(['_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul']);
const PASS_THROUGH = new Set(['Identity', 'StopGradient', 'Snapshot']);

/** Whether the node's output is a ReLU's, the ReLU being its own op or fused into a convolution. */
function endsWithRelu(node: NodeDefJson): boolean {
  if (RELUS.has(node.op)) return true;
  return FUSED_ACTIVATIONS.has(node.op) && RELUS.has(attrStrings(node, 'fused_ops')?.at(-1) ?? '');
}

interface ConstantInput {
  shape: Shape | undefined;
  /** Its values, for a small integer constant (paddings, axes, a target shape). */
  values(): number[] | undefined;
}

const CONVOLUTIONS = new Set(['Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);
const REDUCTIONS = new Set(['Mean', 'Max', 'Min', 'Sum', 'Prod']);

/** How the op moves positions along H and W of its NHWC input (see `SpatialGeometry`). */
function opGeometry(node: NodeDefJson, constantInput: (index: number) => ConstantInput | undefined): SpatialGeometry | undefined {
  const isConvolution = CONVOLUTIONS.has(node.op);
  if (isConvolution || node.op === 'MaxPool' || node.op === 'AvgPool') {
    if ((attrString(node, 'data_format') ?? 'NHWC') !== 'NHWC') return { kind: 'untraceable', why: 'works on NCHW tensors' };
    // A convolution's kernel size is its filter's (HWIO, or HW·channels·multiplier); a pool's is its ksize.
    const filter = isConvolution ? constantInput(1)?.shape : undefined;
    const kernel = isConvolution ? filter?.slice(0, 2) : attrInts(node, 'ksize')?.slice(1, 3);
    if (kernel?.length !== 2 || kernel.some((k) => typeof k !== 'number'))
      return { kind: 'untraceable', why: 'has a kernel of unknown size' };
    const padding = attrString(node, 'padding') ?? 'VALID';
    const explicit = attrInts(node, 'explicit_paddings') ?? [];
    return {
      kind: 'window',
      kernel: kernel as SpatialPair,
      strides: middlePair(attrInts(node, 'strides')),
      dilations: middlePair(attrInts(node, 'dilations')),
      padding:
        padding === 'SAME'
          ? 'same'
          : padding === 'EXPLICIT' && explicit.length === 8
            ? { top: explicit[2], bottom: explicit[3], left: explicit[4], right: explicit[5] }
            : 'valid',
    };
  }
  if (node.op === 'Pad' || node.op === 'PadV2' || node.op === 'MirrorPad') {
    // [[before, after] per NHWC axis], flattened.
    const amounts = constantInput(1)?.values();
    return amounts?.length === 8 ? { kind: 'pad', top: amounts[2], bottom: amounts[3], left: amounts[4], right: amounts[5] } : undefined;
  }
  if (REDUCTIONS.has(node.op)) {
    const axes = constantInput(1)?.values();
    return axes?.some((axis) => [1, 2, -3, -2].includes(axis)) ? { kind: 'global' } : undefined;
  }
  // A transposed convolution keeps the size with stride 1 and SAME padding, yet mixes positions.
  if (node.op === 'Conv2DBackpropInput') return { kind: 'untraceable', why: 'spreads each position over a window of its output' };
  if (node.op === 'Reshape') {
    // The converter's Flatten: a target of lower rank merges H and W with the rest.
    const target = constantInput(1)?.values();
    return target && target.length < 4 ? { kind: 'global' } : undefined;
  }
  return undefined;
}

/** H and W of an NHWC attribute list (`strides`, `dilations`); 1 where absent. */
function middlePair(values: number[] | undefined): SpatialPair {
  return values?.length === 4 ? [values[1], values[2]] : [1, 1];
}

/**
 * When the first output is a softmax's or sigmoid's (behind any Identity the converter adds), the
 * tensor that activation reads: the scores before it.
 */
function logitsOf(graph: OpGraph): string | undefined {
  let ref: TensorRef | undefined = graph.outputs[0];
  let node = ref && graph.byName.get(ref.node);
  while (node && PASS_THROUGH.has(node.op)) {
    ref = graph.dataInputs.get(node.name)![0];
    node = ref && graph.byName.get(ref.node);
  }
  if (!node || !['Softmax', 'Sigmoid'].includes(node.op)) return undefined;
  const scores = graph.dataInputs.get(node.name)![0];
  const producer = scores && graph.byName.get(scores.node);
  return producer && !isConstant(producer) && !isPlaceholder(producer) ? tensorId(scores) : undefined;
}

/** For each node, its outputs other than the first that another node or the model's output reads. */
function outputsReadBeyondTheFirst(graph: OpGraph): Map<string, number[]> {
  const read = new Map<string, Set<number>>();
  for (const ref of [...[...graph.dataInputs.values()].flat(), ...graph.outputs]) {
    if (ref.index === 0) continue;
    if (!read.has(ref.node)) read.set(ref.node, new Set());
    read.get(ref.node)!.add(ref.index);
  }
  return new Map([...read].map(([node, indices]) => [node, [...indices].sort((a, b) => a - b)]));
}

function uniqueRefs(refs: TensorRef[]): TensorRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => !seen.has(tensorId(ref)) && seen.add(tensorId(ref)));
}
