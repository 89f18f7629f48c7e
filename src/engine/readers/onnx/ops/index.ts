/** Every operator ConvLens runs, by ONNX op_type (the standard `ai.onnx` domain). */
import { CONV_OPS } from './conv';
import { ELEMENTWISE_OPS } from './elementwise';
import { LINEAR_OPS } from './linear';
import { NORMALIZATION_OPS } from './normalization';
import { POOL_OPS } from './pool';
import { CONSTANT_OPS } from './constants';
import { REARRANGE_OPS } from './rearrange';
import { REDUCE_OPS } from './reduce';
import { RESHAPE_OPS } from './reshape';
import { RESIZE_OPS } from './resize';
import { SELECTION_OPS } from './selection';
import type { OpSpec } from './types';

const OPERATORS: ReadonlyMap<string, OpSpec> = new Map(
  Object.entries({
    ...CONV_OPS,
    ...POOL_OPS,
    ...NORMALIZATION_OPS,
    ...LINEAR_OPS,
    ...ELEMENTWISE_OPS,
    ...REDUCE_OPS,
    ...RESHAPE_OPS,
    ...REARRANGE_OPS,
    ...CONSTANT_OPS,
    ...RESIZE_OPS,
    ...SELECTION_OPS,
  }),
);

const STANDARD_DOMAINS = new Set(['', 'ai.onnx']);

export function operator(domain: string, opType: string): OpSpec | undefined {
  return STANDARD_DOMAINS.has(domain) ? OPERATORS.get(opType) : undefined;
}

export function isStandardDomain(domain: string): boolean {
  return STANDARD_DOMAINS.has(domain);
}

/** The operator types ConvLens runs, sorted (for documentation and tests). */
export function supportedOperators(): string[] {
  return [...OPERATORS.keys()].sort();
}
