/**
 * One typed message channel for both ends of a webview: the host (webview.postMessage and
 * onDidReceiveMessage) and the page (acquireVsCodeApi().postMessage and window 'message'). It knows
 * neither: it is given a `post` function and fed what arrives, so it runs (and is tested) anywhere.
 *
 * It carries notifications (a message with a `type`, no answer) and requests answered by id: a
 * request goes out as `{ type, requestId, ...payload }` and comes back as `{ type: 'answer', requestId,
 * answer }`, or `error` where the other side's handler threw, so no side matches answers by hand.
 */

/** A request's payload and what it is answered with. */
export interface Ask<Payload extends object, Answer> {
  payload: Payload;
  answer: Answer;
}

/** The requests one side makes, by type (a type alias, so that it has an index signature). */
export type Asks = Record<string, Ask<object, unknown>>;

/** What one side sends: its notifications (a union, each member with its `type`) and the requests it makes. */
export interface Sends {
  notes: { type: string };
  asks: Asks;
}

/** A request as it crosses. */
export type RequestMessage<A extends Asks> = { [K in keyof A & string]: { type: K; requestId: number } & A[K]['payload'] }[keyof A &
  string];

/** The answer to the request `requestId`: its value, or the message of the error its handler threw. */
export interface AnswerMessage {
  type: 'answer';
  requestId: number;
  answer?: unknown;
  error?: string;
}

/** Everything one side may post. */
export type Wire<S extends Sends> = S['notes'] | RequestMessage<S['asks']> | AnswerMessage;

type Handler<A extends Ask<object, unknown>> = (payload: A['payload']) => A['answer'] | Promise<A['answer']>;

/** One side's end: it sends `Out` and receives `In`. */
export interface Channel<Out extends Sends, In extends Sends> {
  /** Posts a notification. */
  notify(message: Out['notes']): void;
  /** Asks the other side; settles with its answer, or rejects with the error its handler threw. */
  request<K extends keyof Out['asks'] & string>(type: K, payload: Out['asks'][K]['payload']): Promise<Out['asks'][K]['answer']>;
  /** Answers the other side's requests of `type` with what `handler` returns (or the error it throws). */
  answer<K extends keyof In['asks'] & string>(type: K, handler: Handler<In['asks'][K]>): void;
  /** Calls `listener` with each notification from the other side, in the order they arrive. */
  listen(listener: (message: In['notes']) => void): void;
  /** Hands the channel a message that arrived from the other side. */
  receive(message: unknown): void;
}

export function createChannel<Out extends Sends, In extends Sends>(post: (message: Wire<Out>) => void): Channel<Out, In> {
  const pending = new Map<number, { resolve: (answer: unknown) => void; reject: (error: Error) => void }>();
  const handlers = new Map<string, (payload: object) => unknown>();
  const listeners: ((message: In['notes']) => void)[] = [];
  let nextRequest = 1;

  // Posted as soon as the handler's promise settles; a handler that must answer in order (Analyze's
  // image reads) returns a promise that settles after those asked before it.
  const answerRequest = async (type: string, requestId: number, payload: object): Promise<void> => {
    const handler = handlers.get(type);
    try {
      if (!handler) throw new Error(`nothing answers "${type}"`);
      post({ type: 'answer', requestId, answer: await handler(payload) });
    } catch (error) {
      post({ type: 'answer', requestId, error: error instanceof Error ? error.message : String(error) });
    }
  };

  return {
    notify: (message) => post(message),
    request: (type, payload) =>
      new Promise((resolve, reject) => {
        const requestId = nextRequest++;
        pending.set(requestId, { resolve: resolve as (answer: unknown) => void, reject });
        post({ ...payload, type, requestId } as RequestMessage<Out['asks']>);
      }),
    answer: (type, handler) => void handlers.set(type, handler as (payload: object) => unknown),
    listen: (listener) => void listeners.push(listener),
    receive(message) {
      if (typeof message !== 'object' || message === null || typeof (message as { type?: unknown }).type !== 'string') return;
      const { type, requestId, ...rest } = message as { type: string; requestId?: unknown };
      if (type === 'answer') {
        // An id not waited for (answered already, or never asked) is ignored.
        const waiting = typeof requestId === 'number' ? pending.get(requestId) : undefined;
        if (!waiting) return;
        pending.delete(requestId as number);
        const { answer, error } = rest as Omit<AnswerMessage, 'type' | 'requestId'>;
        if (error !== undefined) waiting.reject(new Error(error));
        else waiting.resolve(answer);
      } else if (typeof requestId === 'number') void answerRequest(type, requestId, rest);
      else for (const listener of listeners) listener(message as In['notes']);
    },
  };
}
