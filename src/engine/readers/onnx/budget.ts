/**
 * The memory a model asks for, counted before it is spent: its weights and constants, then every node
 * output as shape inference works it out, at batch size 1. A file of a kilobyte can declare outputs of
 * gigabytes (a chain of Tiles, a ConstantOfShape of a huge shape) that no per-tensor cap catches, so
 * the running total is held against the model limit before anything is folded, evaluated or run.
 */
import { byteSize } from '../../confinedPath';
import { LimitExceededError } from '../../limits';
import type { Shape } from '../../model';
import type { OnnxTensor } from './onnxProto';
import type { ValueDesc } from './ops/types';
import { declaredCount, dtypeOf, type DType } from './tensors';

/** Bytes per value as tfjs holds it. */
const BYTES_PER_VALUE: Record<DType, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * Bytes of a value of `shape` at batch size 1: unknown dimensions (the batch, symbolic sizes) count
 * as 1, so this is a lower bound where the file leaves sizes to running. A dimension no tensor can
 * have (negative, not a number) is the operator's to refuse and counts as 1 here too.
 */
export function bytesAtBatchOne(shape: Readonly<Shape> | undefined, dtype: DType): number {
  if (!shape) return 0;
  let count = 1;
  for (const dim of shape) if (dim !== null && dim >= 0) count *= dim;
  return count * BYTES_PER_VALUE[dtype];
}

/** The bytes an initializer takes once decoded, from its declared dimensions (checked to be sane sizes). */
export function declaredBytes(tensor: OnnxTensor): number {
  const count = declaredCount(tensor.dims, `the tensor "${shortName(tensor.name)}"`);
  const dtype = dtypeOf(tensor.dataType);
  // Values of other types (strings) are never decoded.
  return dtype ? count * BYTES_PER_VALUE[dtype] : 0;
}

export class MemoryBudget {
  private total = 0;
  private counted = 0;

  constructor(
    private readonly fileName: string,
    readonly limit: number,
    private readonly nodeCount: number,
  ) {}

  /** Counts the initializers from their declared shapes, before any is decoded. */
  addWeights(initializers: readonly OnnxTensor[]): void {
    for (const tensor of initializers) {
      this.total += declaredBytes(tensor);
      if (this.total > this.limit) {
        throw new LimitExceededError(this.fileName, `declares ${sizeText(this.total)} of weights and constants`, 'modelBytes', this.limit);
      }
    }
  }

  /** Refuses a node whose outputs, alone or on top of what is counted, exceed the limit; counts nothing. */
  check(node: { id: string; opType: string }, outputs: readonly ValueDesc[]): void {
    let sum = 0;
    for (const output of outputs) {
      const bytes = bytesAtBatchOne(output.shape, output.dtype);
      if (bytes > this.limit) throw outputTooLarge(this.fileName, node, bytes, this.limit);
      sum += bytes;
    }
    if (this.total + sum > this.limit) {
      const nodes = this.counted + 1;
      const which = nodes < this.nodeCount ? `its first ${nodes.toLocaleString('en-US')}` : `its ${nodes.toLocaleString('en-US')}`;
      throw new LimitExceededError(
        this.fileName,
        `needs ${sizeText(this.total + sum)} for its weights and the outputs of ${which} nodes`,
        'modelBytes',
        this.limit,
      );
    }
  }

  /** Checks a node's outputs as finally described, then counts them. */
  add(node: { id: string; opType: string }, outputs: readonly ValueDesc[]): void {
    this.check(node, outputs);
    this.total += outputs.reduce((n, output) => n + bytesAtBatchOne(output.shape, output.dtype), 0);
    this.counted++;
  }
}

/** The refusal of one output larger than the model limit, when inferring or when running. */
export function outputTooLarge(fileName: string, node: { id: string; opType: string }, bytes: number, limit: number): LimitExceededError {
  return new LimitExceededError(
    fileName,
    `needs ${sizeText(bytes)} for the output of node "${shortName(node.id)}" (${shortName(node.opType)})`,
    'modelBytes',
    limit,
  );
}

function sizeText(bytes: number): string {
  return Number.isFinite(bytes) ? byteSize(bytes) : 'more memory than any machine has';
}

/** Names come from the file: a damaged one must not make the message a page long. */
export function shortName(name: string): string {
  return name.length > 60 ? `${name.slice(0, 60)}…` : name;
}
