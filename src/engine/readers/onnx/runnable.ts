/**
 * An analysed ONNX graph as a `RunnableModel`: one runnable node per ONNX node (plus one per extra
 * output that something reads), each running its operator on the tensors of the runtime inputs and on
 * constants prepared once. Every tensor made at load time belongs to the model and is freed by
 * `dispose`. One file because loading is one pass that owns every tensor it makes: split, the ownership
 * (who frees what when a later node fails) would cross module boundaries.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ModelReadError } from '../../errors';
import type { GraphInput, GraphNode, RunnableModel, SpatialGeometry } from '../../graph';
import type { ModelSummary } from '../../model';
import type { AnalyzedNode, GraphAnalysis } from './analysis';
import { bytesAtBatchOne, outputTooLarge } from './budget';
import { inOnnxOrder, onnxShape, storedShape, toNchw, toNhwc, type Layout } from './layout';
import { HOST_VALUE_LIMIT, knownHostValues, readHostValues, tensorFromHost } from './runtimeHost';
import type { DType, HostTensor } from './tensors';
import { checkDims, checkSize, HOST_FOLD_LIMIT } from './ops/host';
import { isFullyKnown } from './ops/shapes';
import { OpError, type BuildContext, type Inputs, type Operand, type Run, type ValueDesc } from './ops/types';

/** Thrown while building, for the loader to name the node in its message. */
export class NodeBuildError extends Error {
  override name = 'NodeBuildError';
  constructor(
    readonly node: AnalyzedNode,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

class TensorStore {
  private readonly owned = new Set<tf.Tensor>();

  own<T extends tf.Tensor>(tensor: T): T {
    this.owned.add(tensor);
    return tensor;
  }

  has(tensor: tf.Tensor): boolean {
    return this.owned.has(tensor);
  }

  dispose(): void {
    for (const tensor of this.owned) tensor.dispose();
    this.owned.clear();
  }
}

export function buildRunnable(analysis: GraphAnalysis, summary: ModelSummary): RunnableModel {
  const store = new TensorStore();
  try {
    const model = assemble(analysis, summary, store);
    releaseHostCopies(analysis);
    return model;
  } catch (error) {
    store.dispose();
    throw error;
  }
}

/**
 * Once the weights are tensors, their host copies (and the file's bytes, which tensor attributes view)
 * are not needed: the graph nodes' closures would otherwise keep them alive as long as the model.
 */
function releaseHostCopies(analysis: GraphAnalysis): void {
  const release = (desc: ValueDesc | undefined) => {
    if (desc?.constant?.data && desc.constant.data.length > HOST_VALUE_LIMIT) desc.constant = {};
  };
  for (const analyzed of analysis.nodes) {
    for (const attribute of analyzed.node.attributes.values()) {
      if (attribute.t) attribute.t = { ...attribute.t, rawData: undefined, dataFields: [] };
    }
    [...analyzed.view.inputs, ...analyzed.outputs, ...analyzed.computed].forEach(release);
  }
  [...analysis.values.values()].forEach(release);
  for (const tensor of analysis.initializers.values()) {
    tensor.rawData = undefined;
    tensor.dataFields = [];
  }
}

function assemble(analysis: GraphAnalysis, summary: ModelSummary, store: TensorStore): RunnableModel {
  const constants = new ConstantTensors(store);

  // Which extra outputs (index > 0) anything reads.
  const readOutputs = new Set<string>([...analysis.outputs.map((output) => output.name)]);
  for (const { node } of analysis.nodes) for (const name of node.inputs) if (name) readOutputs.add(name);

  const nodes: GraphNode[] = [];
  const weightsByNode = new Map<string, Map<number, tf.Tensor>>();

  for (const analyzed of analysis.nodes) {
    const weights = new Map<number, tf.Tensor>();
    weightsByNode.set(analyzed.id, weights);
    const built = buildNode(analysis, analyzed, constants, weights);
    const geometry = geometryOf(analyzed);
    analyzed.node.outputs.forEach((name, k) => {
      if (k > 0 && !readOutputs.has(name)) return;
      const outputId = analyzed.outputIds[k];
      if (k >= analyzed.computed.length) {
        if (k === 0) throw new NodeBuildError(analyzed, 'computes no output');
        throw new NodeBuildError(analyzed, `has its output ${k + 1} read, which ConvLens does not compute for ${analyzed.node.opType}`);
      }
      nodes.push({
        id: outputId,
        inputs: built.inputIds,
        run: built.run(k),
        type: analyzed.node.opType,
        ...(endsWithRelu(analyzed) ? { endsWithRelu: true } : {}),
        ...(geometry ? { geometry } : {}),
      });
    });
    // The node's float initializers not already taken as weights, for `weights()`.
    analyzed.node.inputs.forEach((name, i) => {
      const tensor = analysis.initializers.get(name);
      const desc = analysis.values.get(name);
      if (!tensor || weights.has(i) || desc?.dtype !== 'float32' || !desc.constant?.data) return;
      weights.set(i, constants.get(name, { dims: desc.shape as number[], dtype: 'float32', data: desc.constant.data }));
    });
  }

  const inputs: GraphInput[] = analysis.inputs.map((input) => ({
    id: input.id,
    shape: storedShape(input.desc.shape, input.desc.layout) ?? [],
  }));
  const outputs = analysis.outputs.map((output) => {
    const producer = analysis.producers.get(output.name);
    if (!producer?.node) {
      throw new ModelReadError(
        analysis.fileName,
        `passes the input or weight "${output.name}" straight to an output, which ConvLens cannot show.`,
      );
    }
    return producer.node.outputIds[producer.index];
  });

  let disposed = false;
  return {
    summary,
    inputs,
    outputs,
    nodes,
    ...logitsOf(analysis),
    // The model owns these tensors: callers must not dispose them.
    weights: (layerId) => [...(weightsByNode.get(layerId)?.entries() ?? [])].sort(([a], [b]) => a - b).map(([, tensor]) => tensor),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      store.dispose();
    },
  };
}

interface BuiltNode {
  /** Runtime inputs, in ONNX input order: what the graph node's `run` receives. */
  inputIds: string[];
  run(outputIndex: number): GraphNode['run'];
}

/** What building a node needs to know of the rest of the graph, and the limit its outputs are held to. */
type GraphContext = Pick<GraphAnalysis, 'producers' | 'initializers' | 'fileName' | 'modelBytes'>;

/**
 * Runs a node whose inputs are all constant, on its own (for constants only tensor operations can
 * compute, when the model is loaded). Returns its outputs as stored; the caller frees them.
 */
export function evaluateNode(
  analyzed: AnalyzedNode,
  outputs: ValueDesc[],
  limit: Pick<GraphAnalysis, 'fileName' | 'modelBytes'>,
): tf.Tensor[] {
  const store = new TensorStore();
  try {
    const alone: AnalyzedNode = { ...analyzed, outputs, computed: outputs };
    const context = { ...limit, producers: new Map(), initializers: new Map() };
    const built = buildNode(context, alone, new ConstantTensors(store), new Map());
    return outputs.map((_, k) => built.run(k)([]));
  } finally {
    store.dispose();
  }
}

/** Constants as tensors in ONNX order, made once per tensor name and owned by the store, as are their rearrangements. */
class ConstantTensors {
  private readonly made = new Map<string, tf.Tensor>();
  constructor(readonly store: TensorStore) {}

  get(name: string, value: HostTensor): tf.Tensor {
    let tensor = this.made.get(name);
    if (!tensor) {
      tensor = this.store.own(tensorFromHost(value));
      this.made.set(name, tensor);
    }
    return tensor;
  }
}

function buildNode(analysis: GraphContext, analyzed: AnalyzedNode, constants: ConstantTensors, weights: Map<number, tf.Tensor>): BuiltNode {
  const { node, view, spec } = analyzed;
  if (!spec) throw new NodeBuildError(analyzed, `uses the operator ${node.opType}, which ConvLens cannot run yet`);
  // A node whose outputs are all known is a constant: it hands out copies of the values.
  if (analyzed.computed.length > 0 && analyzed.computed.every((output) => output.constant?.data)) {
    const tensors = analyzed.outputs.map((output, k) =>
      output.constant?.data
        ? constants.get(`${analyzed.outputIds[k]}#value`, {
            dims: output.shape as number[],
            dtype: output.dtype,
            data: output.constant.data,
          })
        : undefined,
    );
    return { inputIds: [], run: (k) => () => tensors[k]!.clone() };
  }

  const runtimeIndices: number[] = [];
  const inputIds: string[] = [];
  node.inputs.forEach((name, i) => {
    const desc = view.inputs[i];
    if (!name || !desc || desc.constant?.data) return;
    const producer = analysis.producers.get(name);
    const id = producer?.inputId ?? (producer?.node ? producer.node.outputIds[producer.index] : undefined);
    if (id === undefined) throw new NodeBuildError(analyzed, `reads "${name}", whose value ConvLens could not work out`);
    runtimeIndices.push(i);
    inputIds.push(id);
  });

  const ctx = buildContext(analysis, analyzed, constants, weights);
  let run: Run;
  try {
    run = spec.build(ctx);
  } catch (error) {
    if (error instanceof OpError) throw new NodeBuildError(analyzed, error.message);
    throw new NodeBuildError(analyzed, `cannot be prepared (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  // Shape arithmetic may run on the host: values in ONNX order only.
  const inOnnxOrderOnly = [...view.inputs, ...analyzed.outputs].every((desc) => !desc || desc.layout === 'onnx');
  const fold = inOnnxOrderOnly ? spec.fold : undefined;
  const guard = sizeGuard(analysis, analyzed);

  return {
    inputIds,
    run: (k) => (runtime) => {
      const inputs: (tf.Tensor | undefined)[] = new Array(node.inputs.length).fill(undefined);
      runtimeIndices.forEach((i, position) => (inputs[i] = runtime[position]));
      try {
        return tf.tidy(() => {
          const onHost = fold ? foldOnHost(analyzed, inputs, fold) : undefined;
          if (onHost?.[k]) return tensorFromHost(onHost[k]);
          guard?.(inputs);
          const result = run(inputs);
          let output = Array.isArray(result) ? result[k] : k === 0 ? result : undefined;
          if (!output) throw new OpError(`gives no output ${k + 1}`);
          const from = analyzed.computed[k]?.layout ?? 'onnx';
          const to = analyzed.outputs[k].layout;
          if (from !== to) {
            if (output.rank !== 4) throw new OpError(`gives an output of rank ${output.rank} where rank 4 was worked out`);
            output = to === 'nhwc' ? toNhwc(output) : toNchw(output);
          }
          // The runner frees each output once read: never hand out an input or a model-owned tensor.
          return runtime.includes(output) || constants.store.has(output) ? output.clone() : output;
        });
      } catch (error) {
        if (error instanceof OpError) throw new Error(`${node.opType} node "${analyzed.id}" ${error.message}`);
        throw error;
      }
    },
  };
}

/**
 * For a node whose output sizes analysis could not tell (beyond the batch): works them out again from
 * the tensors at hand before the operator runs, and refuses an output larger than the model limit.
 * Operators whose sizes come from values read while running check them too (`checkOutput`).
 */
function sizeGuard(analysis: GraphContext, analyzed: AnalyzedNode): ((inputs: Inputs) => void) | undefined {
  const { view, spec } = analyzed;
  if (!spec || !needsSizeGuard(analyzed)) return undefined;
  return (inputs) => {
    const runtimeView = { ...view, inputs: view.inputs.map((desc, i) => (desc && inputs[i] ? runtimeDesc(desc, inputs[i]!) : desc)) };
    let outputs: ValueDesc[];
    try {
      outputs = spec.infer(runtimeView);
    } catch {
      return; // the operator itself says what is wrong
    }
    for (const output of outputs) {
      if (!isFullyKnown(output.shape)) continue;
      const bytes = bytesAtBatchOne(output.shape, output.dtype);
      if (bytes > analysis.modelBytes) throw outputTooLarge(analysis.fileName, view, bytes, analysis.modelBytes);
    }
  };
}

/** Whether an output's size is open beyond a batch axis that flows in from an input. */
function needsSizeGuard(analyzed: AnalyzedNode): boolean {
  const batchFlows = analyzed.view.inputs.some((input) => input?.shape?.[0] === null);
  return analyzed.computed.some((output) => !output.shape || output.shape.some((d, axis) => d === null && !(axis === 0 && batchFlows)));
}

/** An input as it is while running: its real shape, and its values where they are kept on the host. */
function runtimeDesc(desc: ValueDesc, tensor: tf.Tensor): ValueDesc {
  const values = knownHostValues(tensor);
  return { ...desc, shape: onnxShape(tensor.shape, desc.layout), ...(values ? { constant: { data: values.data } } : {}) };
}

/**
 * Shape arithmetic while running: when every input's values are on the host, and they are few (a
 * large constant beside a runtime shape is left to the tensor backend, not copied on every run),
 * compute there.
 */
function foldOnHost(analyzed: AnalyzedNode, inputs: Inputs, fold: NonNullable<AnalyzedNode['spec']>['fold']): HostTensor[] | undefined {
  const values: (HostTensor | undefined)[] = [];
  let size = 0;
  for (let i = 0; i < analyzed.node.inputs.length; i++) {
    const desc = analyzed.view.inputs[i];
    if (!desc) continue;
    const data = desc.constant?.data;
    const value = data ? { dims: desc.shape as number[], dtype: desc.dtype, data } : inputs[i] && knownHostValues(inputs[i]!);
    if (!value) return undefined;
    size += value.data.length;
    if (size > HOST_FOLD_LIMIT) return undefined;
    values[i] = value;
  }
  try {
    return fold!(analyzed.view, values as HostTensor[]);
  } catch {
    return undefined;
  }
}

function buildContext(
  analysis: GraphContext,
  analyzed: AnalyzedNode,
  constants: ConstantTensors,
  weights: Map<number, tf.Tensor>,
): BuildContext {
  const { node, view } = analyzed;
  const { store } = constants;
  const describe = (index: number): ValueDesc => {
    const desc = view.inputs[index];
    if (!desc || !node.inputs[index]) throw new OpError(`is missing its input ${index + 1}`);
    return desc;
  };
  const constantOf = (index: number): HostTensor | undefined => {
    const desc = view.inputs[index];
    const data = desc?.constant?.data;
    return data && desc.shape ? { dims: desc.shape as number[], dtype: desc.dtype, data } : undefined;
  };
  const isInitializer = (index: number) => analysis.initializers.has(node.inputs[index]);

  /** A constant input prepared by `arrange` once, kept by the model (and as the node's weight). */
  const prepared = (index: number, value: HostTensor, arrange?: (t: tf.Tensor) => tf.Tensor): Operand => {
    const base = constants.get(node.inputs[index], value);
    const tensor = arrange ? store.own(tf.tidy(() => arrange(base))) : base;
    if (isInitializer(index) && !weights.has(index) && value.dtype === 'float32') weights.set(index, tensor);
    return () => tensor;
  };

  const operand = (
    index: number,
    constantArrange: ((t: tf.Tensor) => tf.Tensor) | undefined,
    runtime: (x: tf.Tensor, layout: Layout) => tf.Tensor,
  ): Operand => {
    const desc = describe(index);
    const value = constantOf(index);
    if (value) return prepared(index, value, constantArrange);
    return (inputs) => {
      const x = inputs[index];
      if (!x) throw new OpError(`is missing its input ${index + 1}`);
      return runtime(x, desc.layout);
    };
  };

  const requireRank4 = (x: tf.Tensor) => {
    if (x.rank !== 4) throw new OpError(`takes a 4-D input, not one of rank ${x.rank}`);
    return x;
  };

  const checkOutput = (dims: readonly number[], dtype: DType): number[] => {
    checkDims(dims);
    const bytes = bytesAtBatchOne(dims, dtype);
    if (bytes > analysis.modelBytes) throw outputTooLarge(analysis.fileName, view, bytes, analysis.modelBytes);
    return checkSize(dims);
  };

  return {
    node: view,
    outputs: analyzed.computed,
    checkOutput,
    stored: (index) => operand(index, undefined, (x) => x),
    onnx: (index) => operand(index, undefined, (x, layout) => inOnnxOrder(x, layout)),
    nhwc: (index) =>
      operand(
        index,
        (t) => toNhwc(requireRank4(t)),
        (x, layout) => (layout === 'nhwc' ? x : toNhwc(requireRank4(x))),
      ),
    broadcastable: (index, layout, rank) => {
      if (layout === 'onnx') return operand(index, undefined, (x, from) => inOnnxOrder(x, from));
      const lineUp = (x: tf.Tensor) => {
        if (x.rank > rank) throw new OpError(`cannot broadcast a tensor of rank ${x.rank} against rank ${rank}`);
        return toNhwc(tf.reshape(x, [...new Array(rank - x.rank).fill(1), ...x.shape]));
      };
      return operand(index, lineUp, (x, from) => (from === 'nhwc' ? x : lineUp(x)));
    },
    host: (index, maxValues = HOST_FOLD_LIMIT) => {
      const value = constantOf(index);
      if (value) {
        if (value.data.length > maxValues) throw new OpError(`reads a parameter of ${value.data.length} values`);
        return () => value;
      }
      const desc = describe(index);
      return (inputs) => {
        const x = inputs[index];
        if (!x) throw new OpError(`is missing its input ${index + 1}`);
        // Before the values are read back.
        if (x.size > maxValues) throw new OpError(`reads a parameter of ${x.size} values`);
        if (desc.layout !== 'nhwc') return readHostValues(x);
        const ordered = toNchw(x);
        try {
          return readHostValues(ordered);
        } finally {
          ordered.dispose();
        }
      };
    },
    constant: constantOf,
    own: (tensor, weightOf) => {
      store.own(tensor);
      if (weightOf !== undefined) weights.set(weightOf, tensor);
      return tensor;
    },
  };
}

/** How the node moves positions along H and W of its stored (NHWC) input, for receptive fields (its op's spec says). */
function geometryOf(analyzed: AnalyzedNode): SpatialGeometry | undefined {
  try {
    return analyzed.spec?.geometry?.(analyzed.view, analyzed.outputs);
  } catch (error) {
    // Never a reason not to load the model: the node ran (or was folded) all the same.
    if (error instanceof OpError) return { kind: 'untraceable', why: `has a window ConvLens cannot read (${error.message})` };
    throw error;
  }
}

function endsWithRelu(analyzed: AnalyzedNode): boolean {
  return analyzed.spec?.endsWithRelu?.(analyzed.view) ?? false;
}

/** When the first output is a Softmax's or Sigmoid's (an op that normalises scores), the node feeding it gives the logits. */
function logitsOf(analysis: GraphAnalysis): { logits?: string } {
  const first = analysis.outputs[0];
  const producer = first && analysis.producers.get(first.name)?.node;
  if (!producer?.spec?.normalizesScores) return {};
  const feeding = analysis.producers.get(producer.node.inputs[0]);
  if (!feeding?.node || feeding.node.outputs[feeding.index]?.constant) return {};
  return { logits: feeding.node.outputIds[feeding.index] };
}
