/** The first steps of reading any TensorFlow.js `model.json`: valid JSON, an object, a topology. */
import { ModelReadError } from '../../errors';
import type { Limits } from '../../limits';
import { assertNestingWithin } from '../jsonNesting';

/**
 * The file's JSON object, which has a `modelTopology` object and is nested no deeper than the limit
 * (the readers walk it recursively); one clear sentence otherwise.
 */
export function parseTfjsModelJson(
  fileName: string,
  bytes: Uint8Array,
  limits: Pick<Limits, 'nestingDepth'>,
): Record<string, unknown> & { modelTopology: Record<string, unknown> } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ModelReadError(fileName, 'is not valid JSON, so it cannot be a TensorFlow.js model.');
  }
  assertNestingWithin(json, limits.nestingDepth, fileName, 'is');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelReadError(fileName, 'is not a TensorFlow.js model: it holds no JSON object.');
  }
  const topology = (json as { modelTopology?: unknown }).modelTopology;
  if (typeof topology !== 'object' || topology === null) {
    throw new ModelReadError(fileName, 'is not a TensorFlow.js model: it has no "modelTopology".');
  }
  return json as Record<string, unknown> & { modelTopology: Record<string, unknown> };
}
