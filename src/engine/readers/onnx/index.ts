/**
 * ONNX models (`.onnx`): a protobuf ModelProto whose graph is run on tfjs operators in NHWC.
 *
 * `readOnnxSummary` reads only the structure: shapes come from inference over the graph, parameter
 * counts from the float initializers' dimensions, and no weight is decoded. `loadOnnx` decodes the
 * weights (from the file or from external data files beside it), folds what is constant, and builds
 * the runnable model. Every problem with the file ends in a ModelReadError naming it.
 *
 * Both paths hold the file to its limits (limits.ts) before allocating: node count and subgraph nesting
 * while decoding, then the declared bytes of the weights and of every node output at batch size 1
 * (budget.ts), and, while running, any output whose size only running tells.
 *
 * The runnable model speaks NHWC whatever the file does: an NCHW image input is taken as
 * [batch, height, width, channels], and every 4-D value a node gives (outputs included) is NHWC; an
 * input the graph itself transposes from NHWC (TensorFlow converters) is taken as it is. The batch is
 * always free. `weights(layerId)` gives a node's float initializers in tfjs layouts (HWIO kernels,
 * [h, w, channels, multiplier] depthwise kernels, [in, out] Gemm matrices); the model owns them, so
 * callers must not dispose them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { byteSize, readBeside, RefusedFileError } from '../../confinedPath';
import { asModelReadError, ModelReadError } from '../../errors';
import { LimitExceededError, limitsOf, type Limits } from '../../limits';
import type { RunnableModel } from '../../graph';
import type { ModelSummary } from '../../model';
import type { ModelSource } from '../../modelSource';
import { attachNativeForward, nativeRuntime } from '../../nativeForward';
import { analyzeGraph, type AnalyzedNode, type GraphAnalysis } from './analysis';
import { everyInitializer } from './controlFlow';
import { MemoryBudget, shortName } from './budget';
import { inOnnxOrder } from './layout';
import { decodeModel, OnnxFormatError, OnnxLimitError, type OnnxModel, type OnnxTensor } from './onnxProto';
import { isStandardDomain } from './ops';
import { HOST_FOLD_LIMIT } from './ops/host';
import type { ValueDesc } from './ops/types';
import { isFullyKnown, product } from './ops/shapes';
import { nativeForwardOf } from './nativeSession';
import { buildRunnable, evaluateNode, NodeBuildError } from './runnable';
import { summarizeGraph } from './summary';
import {
  elementCount,
  externalLocation,
  hostTensor,
  intData,
  isExternal,
  storedByteLength,
  TensorDataError,
  type HostTensor,
} from './tensors';

/** Initializers up to this size are decoded for a summary (shape vectors, not weights). */
const SUMMARY_DECODE_LIMIT = 1024;
/** Constants computed with tensors when loading may be at most this large. */
const EVALUATE_LIMIT = 1 << 24;
/**
 * Integer and boolean constants (indices, masks, shape-like values) only up to this size: a larger
 * one can be no operator's parameter and is as cheap to compute while running, whereas computing it
 * here costs a copy out of the backend per node (a damaged size can make one of millions).
 */
const EVALUATE_INT_LIMIT = HOST_FOLD_LIMIT;

export async function readOnnxSummary(source: ModelSource): Promise<ModelSummary> {
  return withFileErrors(source.fileName, async () => {
    const limits = limitsOf(source);
    const model = decode(source.fileName, await source.read(), limits);
    const analysis = analyzeGraph(source.fileName, model, {
      budget: weightsCounted(source.fileName, model, limits),
      foldLarge: false,
      initializerValue: (tensor) => {
        if (isExternal(tensor)) return undefined;
        try {
          return elementCount(tensor.dims, 'a tensor') <= SUMMARY_DECODE_LIMIT ? hostTensor(tensor) : undefined;
        } catch (error) {
          // A damaged weight is reported when loading; the structure can still be shown.
          if (error instanceof TensorDataError) return undefined;
          throw error;
        }
      },
    });
    return withFileNotes(summarizeGraph(analysis), model);
  });
}

export async function loadOnnx(source: ModelSource): Promise<RunnableModel> {
  return withFileErrors(source.fileName, async () => {
    const limits = limitsOf(source);
    const bytes = await source.read();
    const model = decode(source.fileName, bytes, limits);
    // Counted before any weight is read or decoded: their declared sizes are what a file could lie about.
    const budget = weightsCounted(source.fileName, model, limits);
    const values = await readInitializers(source, everyInitializer(model.graph), limits.modelBytes);
    const analysis = analyzeGraph(source.fileName, model, {
      budget,
      foldLarge: true,
      initializerValue: (tensor) => values.get(tensor),
      evaluate: (analyzed, _inputs, outputs) =>
        evaluateConstant(analyzed, outputs, { fileName: source.fileName, modelBytes: limits.modelBytes }),
    });
    // An operator ConvLens cannot run may be what leaves a condition unknown: it is named first.
    rejectUnsupported(analysis);
    rejectControlFlow(analysis);
    // The native runtime's forward pass is prepared while the analysis is at hand (it names the tensors).
    const runtime = nativeRuntime();
    const native = runtime && !everyInitializer(model.graph).some(isExternal) ? nativeForwardOf(runtime, bytes, analysis) : undefined;
    const runnable = buildRunnable(analysis, withFileNotes(summarizeGraph(analysis), model));
    return native ? attachNativeForward(runnable, native) : runnable;
  });
}

/** The summary with what the file says about itself: the tool that wrote it and its metadata. */
function withFileNotes(summary: ModelSummary, model: OnnxModel): ModelSummary {
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ');
  return {
    ...summary,
    ...(producer ? { producer } : {}),
    ...(model.metadata.size ? { metadata: Object.fromEntries(model.metadata) } : {}),
  };
}

/** A budget holding the model's weights and constants, refusing the model when they alone exceed the limit. */
function weightsCounted(fileName: string, model: OnnxModel, limits: Limits): MemoryBudget {
  const budget = new MemoryBudget(fileName, limits.modelBytes, model.graph.nodes.length);
  // Branches' weights too: which branch is taken is known only once the graph is analysed.
  budget.addWeights(everyInitializer(model.graph));
  return budget;
}

async function withFileErrors<T>(fileName: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    // Its sentence is whole already, and its class tells callers which limit it is.
    if (error instanceof LimitExceededError) throw error;
    if (error instanceof ModelReadError) throw fail(fileName, error.problem, error.cause);
    if (error instanceof NodeBuildError) {
      const { node, id } = error.node;
      throw fail(fileName, `has a ${node.opType} node "${id}" that ${sentenceEnd(error.reason)}`, error.cause ?? error);
    }
    if (error instanceof TensorDataError) throw fail(fileName, `cannot be loaded: ${sentenceEnd(error.message)}`, error);
    if (error instanceof OnnxFormatError) throw fail(fileName, `is not a valid ONNX model: ${sentenceEnd(error.message)}`, error);
    const wrapped = asModelReadError(fileName, error);
    throw fail(fileName, wrapped.problem, wrapped.cause);
  }
}

/**
 * The error for the user. Names inside the message come from the file, so overlong names (from a
 * damaged file, say) are cut to keep it one readable line (ModelReadError replaces control characters).
 */
function fail(fileName: string, problem: string, cause?: unknown): ModelReadError {
  const tamed = problem.replace(/"([^"]{60})[^"]{8,}"/g, '"$1…"');
  const error = new ModelReadError(fileName, tamed);
  if (cause !== undefined) error.cause = cause;
  return error;
}

function sentenceEnd(clause: string): string {
  return /[.!?]$/.test(clause) ? clause : `${clause}.`;
}

function decode(fileName: string, bytes: Uint8Array, limits: Limits): OnnxModel {
  if (bytes.length === 0) throw new ModelReadError(fileName, 'is empty.');
  let model: OnnxModel;
  try {
    model = decodeModel(bytes, limits);
  } catch (error) {
    if (error instanceof OnnxLimitError) throw new LimitExceededError(fileName, error.asks, error.limit, limits[error.limit]);
    const reason =
      error instanceof OnnxFormatError ? error.message : 'its protobuf encoding is broken (the file may be truncated or damaged)';
    throw fail(fileName, `is not a readable ONNX model: ${sentenceEnd(reason)}`, error);
  }
  // A real file has a small IR version; random bytes that happen to parse rarely do.
  if (!(model.irVersion >= 1 && model.irVersion <= 100)) {
    throw new ModelReadError(fileName, `is not an ONNX model: it has the IR version ${model.irVersion}.`);
  }
  return model;
}

/** Every initializer's values (subgraphs may reuse a name: they are told apart by tensor), reading each external data file once. */
async function readInitializers(
  source: ModelSource,
  initializers: readonly OnnxTensor[],
  modelBytes: number,
): Promise<Map<OnnxTensor, HostTensor>> {
  const files = new Map<string, Promise<Uint8Array>>();
  const values = new Map<OnnxTensor, HostTensor>();
  const declaredSizes = externalFileSizes(source.fileName, initializers, modelBytes);
  for (const tensor of initializers) {
    if (!isExternal(tensor)) {
      values.set(tensor, hostTensor(tensor));
      continue;
    }
    const { location, offset, length } = externalLocation(tensor);
    let file = files.get(location);
    if (!file) {
      // Where no size can be told from the model, no file larger than the model limit is read.
      file = readBeside(source, location, 'keeps its weights in', declaredSizes.get(location) ?? modelBytes).catch((error: unknown) => {
        if (error instanceof RefusedFileError) throw error;
        throw fail(source.fileName, `keeps its weights in "${location}", which cannot be read beside it.`, error);
      });
      files.set(location, file);
    }
    const bytes = await file;
    const end = length === undefined ? bytes.length : offset + length;
    if (offset > bytes.length || end > bytes.length) {
      throw new TensorDataError(`the tensor "${tensor.name}" lies past the end of "${location}" (the file may be truncated)`);
    }
    values.set(tensor, hostTensor(tensor, bytes.subarray(offset, end)));
  }
  return values;
}

/**
 * How large each external data file can be, from what the model declares: the furthest end of a
 * tensor stored in it. A file is left out (the default limit applies) where a tensor's size cannot be
 * told; reading it then reports that tensor. A tensor whose declared length disagrees with its shape,
 * or that lies further into its file than the model limit, is refused before any file is read.
 */
function externalFileSizes(fileName: string, initializers: readonly OnnxTensor[], modelBytes: number): Map<string, number | undefined> {
  const sizes = new Map<string, number | undefined>();
  for (const tensor of initializers) {
    if (!isExternal(tensor)) continue;
    let place: ReturnType<typeof externalLocation>;
    try {
      place = externalLocation(tensor);
    } catch {
      continue; // reported when the tensor itself is read
    }
    const { location, offset } = place;
    const stored = storedByteLength(tensor);
    if (place.length !== undefined && stored !== undefined && place.length !== stored) {
      throw new TensorDataError(
        `the tensor "${tensor.name}" declares ${place.length} bytes in "${location}" where its shape [${tensor.dims.join(', ')}] needs ${stored}`,
      );
    }
    const length = place.length ?? stored;
    const end = length === undefined ? undefined : offset + length;
    if (end !== undefined && end > modelBytes) {
      throw new LimitExceededError(
        fileName,
        `keeps the tensor "${shortName(tensor.name)}" up to ${byteSize(end)} into "${location}"`,
        'modelBytes',
        modelBytes,
      );
    }
    const known = sizes.has(location) ? sizes.get(location) : 0;
    sizes.set(location, known === undefined || end === undefined ? undefined : Math.max(known, end));
  }
  return sizes;
}

/** An If whose condition only running tells: ConvLens has no branches to run it with. */
function rejectControlFlow(analysis: GraphAnalysis): void {
  const [first] = analysis.unresolved;
  if (!first) return;
  const condition = first.node.inputs[0] ?? '';
  let reason: string;
  if (analysis.values.get(condition)?.constant) reason = 'on a condition ConvLens could not work out';
  else if (readsInputValues(analysis, condition)) reason = "on the input's values";
  else reason = "on the input's size, which the file leaves open (an export with a fixed input size runs)";
  throw new ModelReadError(
    analysis.fileName,
    `has an If node "${first.id}" that branches ${reason}; ConvLens runs graphs without control flow.`,
  );
}

/** Whether a tensor depends on a graph input's values, rather than only on its shape (through Shape or Size). */
function readsInputValues(analysis: GraphAnalysis, name: string): boolean {
  const seen = new Set<string>();
  const pending = [name];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (!next || seen.has(next)) continue;
    seen.add(next);
    const producer = analysis.producers.get(next);
    if (producer?.inputId !== undefined) return true;
    if (!producer?.node || SHAPE_READERS.has(producer.node.node.opType)) continue;
    pending.push(...producer.node.node.inputs);
  }
  return false;
}

/** Operators that read only their input's shape. */
const SHAPE_READERS = new Set(['Shape', 'Size']);

function rejectUnsupported(analysis: GraphAnalysis): void {
  if (!analysis.unsupported.length) return;
  const byOperator = new Map<string, AnalyzedNode>();
  for (const analyzed of analysis.unsupported) {
    const { domain, opType } = analyzed.node;
    const name = isStandardDomain(domain) ? opType : `${domain}.${opType}`;
    if (!byOperator.has(name)) byOperator.set(name, analyzed);
  }
  const listed = [...byOperator].map(([name, analyzed]) => `${name} (node "${analyzed.id}")`);
  const operators =
    listed.length === 1 ? `the operator ${listed[0]}` : `the operators ${listed.slice(0, -1).join(', ')} and ${listed.at(-1)}`;
  throw new ModelReadError(analysis.fileName, `uses ${operators}, which ConvLens cannot run yet.`);
}

/** Computes a node whose inputs are all constant with tensors, once, when the model is loaded. */
function evaluateConstant(
  analyzed: AnalyzedNode,
  outputs: ValueDesc[],
  limit: Pick<GraphAnalysis, 'fileName' | 'modelBytes'>,
): HostTensor[] | undefined {
  if (!analyzed.spec || !outputs.length) return undefined;
  const small = (output: ValueDesc) =>
    isFullyKnown(output.shape) && product(output.shape)! <= (output.dtype === 'float32' ? EVALUATE_LIMIT : EVALUATE_INT_LIMIT);
  if (!outputs.every(small)) return undefined;
  // Only tensors leave the tidy: it walks whatever is returned, a typed array value by value.
  const tensors = tf.tidy(() => evaluateNode(analyzed, outputs, limit).map((tensor, k) => inOnnxOrder(tensor, outputs[k].layout)));
  try {
    return tensors.map((values, k) => {
      const data = values.dataSync();
      return {
        dims: [...values.shape],
        dtype: outputs[k].dtype,
        // Copies: the tensors are freed. Integers as a typed array when large (tensors.ts).
        data: values.dtype === 'float32' ? Float32Array.from(data as Float32Array) : intData(Int32Array.from(data as Int32Array)),
      };
    });
  } finally {
    tensors.forEach((tensor) => tensor.dispose());
  }
}
