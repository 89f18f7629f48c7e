/** A model ready for images: loaded, with its class names and the preprocessing its inputs need. */
import type { RunnableModel } from './graph';
import { readLabels, type ClassLabels } from './labels/readLabels';
import { resolvePreprocessing, type ResolvedPreprocessing } from './modelInput';
import type { ModelSource } from './modelSource';
import type { PreprocessingSettings } from './preprocess';
import { loadModel } from './readers';
import { outputUnits } from './classCount';

export interface OpenedModel {
  source: ModelSource;
  model: RunnableModel;
  labels?: ClassLabels;
  input: ResolvedPreprocessing;
  /** Units of the first output per image (1 for a binary classifier with one sigmoid unit). */
  classCount: number;
}

/** Loads the model; a bad preprocessing setting rejects with `settingsError` applied to it. */
export async function openModel(
  source: ModelSource,
  settings: PreprocessingSettings = {},
  settingsError: (error: Error) => Error = (error) => error,
): Promise<OpenedModel> {
  const model = await loadModel(source);
  try {
    const classCount = outputUnits(model.summary.outputShapes[0] ?? []);
    const labels = await readLabels(source, classCount);
    const input = await resolvePreprocessing(source, model.summary, settings).catch((error: Error) => {
      throw settingsError(error);
    });
    return { source, model, labels, input, classCount };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
