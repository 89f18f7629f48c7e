/**
 * The messages every panel that runs a model in its webview (Explain, Analyze) exchanges with the
 * host the same way: the model's files on request, progress with cancel, and errors.
 */

export type ModelPanelHostMessage =
  /** The answer to `readFile`: the bytes, or why they cannot be read (`refused`: the rule forbids it, see confinedPath.ts). */
  | { type: 'fileContents'; requestId: number; bytes?: ArrayBuffer; error?: string; refused?: string }
  /** The user cancelled the long computation in VS Code's progress notification. */
  | { type: 'cancel' };

export type ModelPanelWebviewMessage =
  /**
   * A file of the model, by its path relative to the model file's folder ('' for the model file itself),
   * of at most `maxBytes` where the model declares its size.
   */
  | { type: 'readFile'; requestId: number; path: string; maxBytes?: number }
  /** A long computation started (show progress), advanced, or ended. */
  | { type: 'progress'; title: string; done: number; total: number }
  | { type: 'progressEnd' }
  /** Something went wrong: `message` names the file and the reason. */
  | { type: 'error'; message: string };

const SHARED_TYPES: ReadonlySet<string> = new Set<ModelPanelWebviewMessage['type']>(['readFile', 'progress', 'progressEnd', 'error']);

export function isModelPanelMessage(message: { type: string }): message is ModelPanelWebviewMessage {
  return SHARED_TYPES.has(message.type);
}
