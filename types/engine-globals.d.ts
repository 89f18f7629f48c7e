/**
 * The few globals the engine uses beyond ECMAScript that browsers and Node both provide. The engine's
 * project (tsconfig.engine.json) has neither the DOM's nor Node's types, so that nothing else from
 * either can be used there by accident.
 */
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare function atob(data: string): string;

declare function setTimeout(handler: () => void, timeout?: number): unknown;

declare namespace WebAssembly {
  class RuntimeError extends Error {}
}
