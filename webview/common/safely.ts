/** The value, or undefined where computing it throws (optional defaults such as a model's target layer). */
export function safely<T>(compute: () => T): T | undefined {
  try {
    return compute();
  } catch {
    return undefined;
  }
}
