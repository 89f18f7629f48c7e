/**
 * Writing a model's preprocessing to its `<model>.convlens.json` sidecar, beside the model file. Keys
 * ConvLens does not know are kept, so the file can carry the user's own notes. The sidecar is read under
 * the rule for files beside a model (confinedPath.ts), and one the rule refuses is not written.
 */
import * as vscode from 'vscode';
import { RefusedFileError, TEXT_FILE_MAX_BYTES } from '../../engine/confinedPath';
import { sidecarName } from '../../engine/modelInput';
import { localDisk } from '../../platform/localDisk';
import type { PreprocessingSettings } from '../../engine/preprocess';
import { baseName, readSiblingFile } from './workspaceModelSource';

/** Returns why the file could not be written, or undefined when it was. */
export async function writeSidecar(model: vscode.Uri, settings: PreprocessingSettings): Promise<string | undefined> {
  const name = sidecarName(baseName(model));
  const uri = vscode.Uri.joinPath(model, '..', name);
  let existing: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = new TextDecoder().decode(await readSiblingFile(model, name, TEXT_FILE_MAX_BYTES));
  } catch (error) {
    // A sidecar that is a link out of the folder (or a FIFO…) is not written through: the write would land elsewhere.
    if (error instanceof RefusedFileError) return fail(error.as('has the settings file').message);
    // Nor one that is there but unreadable: a link to nowhere, say, which a write would follow to create its target.
    if (!(await isAbsent(uri))) return fail(`${name} cannot be read, so ConvLens does not write over it.`);
  }
  if (text !== undefined) {
    // A sidecar the user broke by hand is theirs to fix: never overwrite it.
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      return fail(`${name} is not a JSON object; fix or delete it, then save again.`);
    existing = parsed as Record<string, unknown>;
  }
  try {
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(`${JSON.stringify({ ...existing, ...settings }, null, 2)}\n`));
    return undefined;
  } catch (error) {
    return fail(`${name} cannot be written: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Whether nothing at all is at `uri`, a link to nowhere (which `stat` does not see) counting as something. */
async function isAbsent(uri: vscode.Uri): Promise<boolean> {
  if (uri.scheme === 'file' && localDisk) return !(await localDisk.exists(uri.fsPath));
  return vscode.workspace.fs.stat(uri).then(
    () => false,
    () => true,
  );
}

function fail(message: string): string {
  void vscode.window.showErrorMessage(message);
  return message;
}
