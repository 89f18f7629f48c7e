/**
 * Writing a model's preprocessing to its `<model>.convlens.json` sidecar, beside the model file. Keys
 * ConvLens does not know are kept, so the file can carry the user's own notes.
 */
import * as vscode from 'vscode';
import { sidecarName } from '../engine/modelInput';
import type { PreprocessingSettings } from '../engine/preprocess';
import { baseName } from './workspaceModelSource';

/** Returns why the file could not be written, or undefined when it was. */
export async function writeSidecar(model: vscode.Uri, settings: PreprocessingSettings): Promise<string | undefined> {
  const name = sidecarName(baseName(model));
  const uri = vscode.Uri.joinPath(model, '..', name);
  let existing: Record<string, unknown> = {};
  const text = await vscode.workspace.fs.readFile(uri).then((bytes) => new TextDecoder().decode(bytes), () => undefined);
  if (text !== undefined) {
    // A sidecar the user broke by hand is theirs to fix: never overwrite it.
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return fail(`${name} is not a JSON object; fix or delete it, then save again.`);
    existing = parsed as Record<string, unknown>;
  }
  try {
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(`${JSON.stringify({ ...existing, ...settings }, null, 2)}\n`));
    return undefined;
  } catch (error) {
    return fail(`${name} cannot be written: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function fail(message: string): string {
  void vscode.window.showErrorMessage(message);
  return message;
}
