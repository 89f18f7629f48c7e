/**
 * Opening the model a command names, with the messages a user needs when that fails, and a record of
 * the files it read (the model and the files beside it), which no output may replace.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelSource } from '../engine/modelSource';
import { openModel as openModelSource, type OpenedModel as EngineOpenedModel } from '../engine/openModel';
import type { PreprocessingSettings } from '../engine/preprocess';
import { fileModelSource } from '../node/fileModelSource';
import type { ReadFile } from './outputFile';
import { InputError } from './usage';
import type { Limits } from '../engine/limits';

export type OpenedModel = EngineOpenedModel & {
  /** The model file and every file read beside it. */
  readonly filesRead: readonly ReadFile[];
};

export function modelSource(file: string, filesRead: ReadFile[] = [], limits?: Partial<Limits>): ModelSource {
  if (!existsSync(file)) throw new InputError(`${file}: no such file`);
  const source = fileModelSource(file);
  filesRead.push({ file, role: 'the model file' });
  return {
    ...source,
    limits,
    async readSibling(relativePath, options) {
      const bytes = await source.readSibling(relativePath, options);
      filesRead.push({ file: path.resolve(path.dirname(file), relativePath), role: "one of the model's files" });
      return bytes;
    },
  };
}

export async function openModel(file: string, settings: PreprocessingSettings, limits?: Partial<Limits>): Promise<OpenedModel> {
  const filesRead: ReadFile[] = [];
  const opened = await openModelSource(modelSource(file, filesRead, limits), settings, (error) => new InputError(error.message));
  return { ...opened, filesRead };
}
