/** Opening the model a command names, with the messages a user needs when that fails. */
import { existsSync } from 'node:fs';
import type { ModelSource } from '../engine/modelSource';
import { openModel as openModelSource, type OpenedModel } from '../engine/openModel';
import type { PreprocessingSettings } from '../engine/preprocess';
import { fileModelSource } from '../node/fileModelSource';
import { InputError } from './usage';

export type { OpenedModel };

export function modelSource(file: string): ModelSource {
  if (!existsSync(file)) throw new InputError(`${file}: no such file`);
  return fileModelSource(file);
}

export function openModel(file: string, settings: PreprocessingSettings): Promise<OpenedModel> {
  return openModelSource(modelSource(file), settings, (error) => new InputError(error.message));
}
