/**
 * The browser build's language-model tools: the same names, each answering that it needs the desktop
 * or a remote extension host. The tools run models in the extension host, which in a web worker has
 * neither the WebAssembly backend's files nor a disk to check links on.
 */
import * as vscode from 'vscode';
import { TOOL_NAMES } from './toolNames';

const UNAVAILABLE =
  "ConvLens's language-model tools run in the desktop or a remote extension host, not in the browser; use the ConvLens commands in the Explorer instead.";

export function registerLanguageModelTools(_context: vscode.ExtensionContext): vscode.Disposable[] {
  if (typeof vscode.lm?.registerTool !== 'function') return [];
  return TOOL_NAMES.map((name) =>
    vscode.lm.registerTool(name, {
      invoke() {
        throw new Error(UNAVAILABLE);
      },
    }),
  );
}
