/** Progress and cancellation for methods that run the network many times. */
export interface Progress {
  /** Called after each batch with the work done and the total, in the method's own units. */
  report?(done: number, total: number): void;
  /** Set `cancelled` to stop at the next batch boundary. */
  readonly token?: { readonly cancelled: boolean };
}

export class ExplanationCancelled extends Error {
  constructor() {
    super('the explanation was cancelled');
    this.name = 'ExplanationCancelled';
  }
}

/** Lets the event loop run (UI, cancel clicks) between batches, then honours a cancellation. */
export async function checkpoint(progress: Progress | undefined, done: number, total: number): Promise<void> {
  progress?.report?.(done, total);
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  if (progress?.token?.cancelled) throw new ExplanationCancelled();
}

/** Splits `count` items into consecutive [start, end) batches of at most `size`. */
export function batches(count: number, size: number): [number, number][] {
  const result: [number, number][] = [];
  for (let start = 0; start < count; start += size) result.push([start, Math.min(count, start + size)]);
  return result;
}
