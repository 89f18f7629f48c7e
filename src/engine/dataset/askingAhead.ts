/**
 * A folder pass's batches fetched ahead: each batch asked for starts the next ones (of the same size)
 * too, so that whoever makes them (the extension host's native pass) works on the next while the caller
 * uses this one. A batch fetched ahead and never asked for (a cancelled pass) is dropped.
 */
export function askingAhead<T>(
  count: number,
  ahead: number,
  fetch: (start: number, end: number) => Promise<T>,
): (start: number, end: number) => Promise<T> {
  const fetched = new Map<string, Promise<T>>();
  const start = (from: number, to: number) => {
    const key = `${from}-${to}`;
    if (from >= count || fetched.has(key)) return;
    const batch = fetch(from, to);
    batch.catch(() => undefined); // rejected to the caller when it asks for it
    fetched.set(key, batch);
  };
  return async (from, to) => {
    const size = to - from;
    for (let k = 0; k <= ahead; k++) start(from + k * size, Math.min(count, to + k * size));
    const key = `${from}-${to}`;
    const batch = fetched.get(key)!;
    fetched.delete(key);
    return batch;
  };
}
