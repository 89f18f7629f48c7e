/**
 * The preprocessing in use for a model: detected from the model, then the `<model>.convlens.json`
 * sidecar beside it, then explicit options (command line, webview), each overriding the one before.
 */
import { readOptionalBeside } from './confinedPath';
import type { ModelSummary } from './model';
import type { ModelSource } from './modelSource';
import { applySettings, detectPreprocessing, parseSidecar, type Preprocessing, type PreprocessingSettings } from './preprocess';

export interface ResolvedPreprocessing {
  preprocessing: Preprocessing;
  /** The sidecar file's name when one was applied. */
  sidecar?: string;
}

export function sidecarName(modelFileName: string): string {
  return `${modelFileName}.convlens.json`;
}

export async function resolvePreprocessing(
  source: ModelSource,
  summary: ModelSummary,
  options: PreprocessingSettings = {},
): Promise<ResolvedPreprocessing> {
  let preprocessing = detectPreprocessing(summary);
  // Teachable Machine image models are MobileNets fed pixels scaled to [-1, 1].
  const metadata = await readOptionalBeside(source, 'metadata.json', 'has the metadata file');
  if (metadata && /"tmVersion"/.test(new TextDecoder().decode(metadata))) preprocessing = { ...preprocessing, scale: '-1-1' };

  const name = sidecarName(source.fileName);
  const sidecarBytes = await readOptionalBeside(source, name, 'has the settings file');
  if (sidecarBytes) preprocessing = applySettings(preprocessing, parseSidecar(new TextDecoder().decode(sidecarBytes), name), name);
  preprocessing = applySettings(preprocessing, options, 'option');
  return { preprocessing, ...(sidecarBytes ? { sidecar: name } : {}) };
}
