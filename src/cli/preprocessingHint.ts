/**
 * The line `predict` prints under an image whose predictions look uncertain, when another common
 * preprocessing gives a confident one: the options that select it (preprocessSuggestion.ts decides).
 */
import path from 'node:path';
import type { RunnableModel } from '../engine/graph';
import { sidecarName, type ResolvedPreprocessing } from '../engine/modelInput';
import type { Prediction } from '../engine/predictions';
import type { Preprocessing } from '../engine/preprocess';
import { suggestPreprocessing, UNCERTAIN_BELOW, type PreprocessingSuggestion } from '../engine/preprocessSuggestion';
import { readImageFile } from '../node/imageFile';
import { oneLine } from './terminalText';

/** A suggestion for an image file whose top prediction is below the uncertainty threshold; undefined otherwise. */
export async function suggestionFor(
  model: RunnableModel,
  file: string,
  top: Prediction,
  input: Pick<ResolvedPreprocessing, 'preprocessing' | 'detected'>,
  labels: readonly string[] | undefined,
  maxPixels: number,
): Promise<PreprocessingSuggestion | undefined> {
  if (top.probability >= UNCERTAIN_BELOW || file.toLowerCase().endsWith('.npy')) return undefined;
  return suggestPreprocessing(model, await readImageFile(file, maxPixels), input.preprocessing, {
    labels,
    detected: input.detected,
    currentTop: top,
  });
}

/** `--scale caffe --channels bgr`: the options that select the preprocessing's scaling and channel order. */
export function preprocessingOptions(p: Pick<Preprocessing, 'scale' | 'channels'>): string {
  return `--scale ${p.scale} --channels ${p.channels}`;
}

export function hintLine(suggestion: PreprocessingSuggestion, modelFile: string): string {
  const { top, preprocessing } = suggestion;
  return (
    `  hint: these predictions look uncertain; ${preprocessingOptions(preprocessing)} gives "${oneLine(top.label)}" ` +
    `(${(100 * top.probability).toFixed(1)}%); to keep it, write those settings to ${sidecarName(path.basename(modelFile))}`
  );
}
