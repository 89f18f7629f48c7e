/**
 * The nesting depth of parsed JSON, checked before a reader walks it: `JSON.parse` itself nests without
 * limit, but the walks that follow (config conversion, `JSON.stringify`, tfjs-layers' deserialisation)
 * recurse, and a config nested a million levels deep would end in "Maximum call stack size exceeded".
 */
import { LimitExceededError } from '../limits';

/** The deepest nesting of objects and arrays in `value` (a scalar is 0, `[]` is 1), found without recursion. */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth);
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
  return deepest;
}

/** Refuses JSON nested deeper than `limit`: `what` names it in the sentence ("has a config.json"). */
export function assertNestingWithin(value: unknown, limit: number, fileName: string, what: string): void {
  const depth = nestingDepth(value);
  if (depth > limit)
    throw new LimitExceededError(fileName, `${what} nested ${depth.toLocaleString('en-US')} levels deep`, 'nestingDepth', limit);
}
