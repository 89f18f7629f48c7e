/**
 * The preprocessing in use for a model: detected from the model, then the `<model>.convlens.json`
 * sidecar beside it, then explicit options (command line, webview), each overriding the one before.
 */
import { readOptionalBeside } from './confinedPath';
import type { ModelSummary } from './model';
import type { ModelSource } from './modelSource';
import { applySettings, parseSidecar, type Preprocessing, type PreprocessingSettings } from './preprocess';
import { preprocessingDefault } from './preprocessDefaults';

export interface ResolvedPreprocessing {
  preprocessing: Preprocessing;
  /** The model's default, before the sidecar and options (preprocessDefaults.ts). */
  detected: Preprocessing;
  /** Why the default is what it is, whatever the sidecar or options then change. */
  reason: string;
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
  const metadata = await readOptionalBeside(source, 'metadata.json', 'has the metadata file');
  const detected = preprocessingDefault(summary, metadata ? { metadataJson: new TextDecoder().decode(metadata) } : {});
  let preprocessing = detected.preprocessing;

  const name = sidecarName(source.fileName);
  const sidecarBytes = await readOptionalBeside(source, name, 'has the settings file');
  if (sidecarBytes) preprocessing = applySettings(preprocessing, parseSidecar(new TextDecoder().decode(sidecarBytes), name), name);
  preprocessing = applySettings(preprocessing, options, 'option');
  return { preprocessing, detected: detected.preprocessing, reason: detected.reason, ...(sidecarBytes ? { sidecar: name } : {}) };
}
