/** Opening the model a command names, with the messages a user needs when that fails. */
import { existsSync } from 'node:fs';
import type { RunnableModel } from '../engine/graph';
import { readLabels, type ClassLabels } from '../engine/labels/readLabels';
import { resolvePreprocessing, type ResolvedPreprocessing } from '../engine/modelInput';
import type { ModelSource } from '../engine/modelSource';
import type { PreprocessingSettings } from '../engine/preprocess';
import { loadModel } from '../engine/readers';
import { fileModelSource } from '../node/fileModelSource';
import { InputError } from './usage';

export function modelSource(file: string): ModelSource {
  if (!existsSync(file)) throw new InputError(`${file}: no such file`);
  return fileModelSource(file);
}

export interface OpenedModel {
  source: ModelSource;
  model: RunnableModel;
  labels?: ClassLabels;
  input: ResolvedPreprocessing;
}

export async function openModel(file: string, settings: PreprocessingSettings): Promise<OpenedModel> {
  const source = modelSource(file);
  const model = await loadModel(source);
  try {
    const outputShape = model.summary.outputShapes[0] ?? [];
    const classCount = outputShape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
    const labels = await readLabels(source, classCount);
    const input = await resolvePreprocessing(source, model.summary, settings).catch((error: Error) => {
      throw new InputError(error.message);
    });
    return { source, model, labels, input };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
