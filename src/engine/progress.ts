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
  await nextTurn();
  if (progress?.token?.cancelled) throw new ExplanationCancelled();
}

// Node's and the browser's, where they are (the engine's types know neither).
const { setImmediate, MessageChannel } = globalThis as {
  setImmediate?: (callback: () => void) => unknown;
  MessageChannel?: new () => { port1: { onmessage: (() => void) | null; close(): void }; port2: { postMessage(message: unknown): void } };
};

/**
 * One turn of the event loop: what was queued before it (messages, clicks) runs first. Not
 * `setTimeout(0)`: browsers hold a timer for 4 ms once timers nest five deep, as a loop of batches
 * does, and Node for 1 ms; nor `scheduler.yield()`, whose continuation goes ahead of queued messages.
 */
export function nextTurn(): Promise<void> {
  if (setImmediate) return new Promise((resolve) => setImmediate(resolve));
  if (!MessageChannel) return new Promise((resolve) => setTimeout(resolve, 0));
  const channel = new MessageChannel();
  return new Promise((resolve) => {
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

/** Splits `count` items into consecutive [start, end) batches of at most `size`. */
export function batches(count: number, size: number): [number, number][] {
  const result: [number, number][] = [];
  for (let start = 0; start < count; start += size) result.push([start, Math.min(count, start + size)]);
  return result;
}
