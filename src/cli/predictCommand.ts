/** `convlens predict <model> <input...> [--top K] [--json]`: ranked classes for each input. */
import { singleInput } from '../engine/execute';
import { describePreprocessing, type PreprocessingSettings } from '../engine/preprocess';
import { topPredictions, type Prediction } from '../engine/predictions';
import { readInput } from './inputs';
import { openModel } from './modelFiles';
import { jsonText, oneLine } from './terminalText';
import { forwardPass, medianMs, since, timingLine } from './timing';
import { limitsOf, type Limits } from '../engine/limits';
import type { PreprocessingSuggestion } from '../engine/preprocessSuggestion';
import { hintLine, suggestionFor } from './preprocessingHint';
import { forwardToOutputs } from '../engine/nativeForward';

export interface PredictResult {
  input: string;
  predictions: Prediction[];
  /** A common preprocessing that gives a confident prediction where this one looks uncertain. */
  suggestion?: PreprocessingSuggestion;
}

/** With `timing`, the text ends with a timing line for the first input (see timing.ts). */
export async function predictCommand(
  file: string,
  inputs: string[],
  top: number,
  json: boolean,
  settings: PreprocessingSettings,
  timing = false,
  limits?: Partial<Limits>,
): Promise<string> {
  const loadStart = performance.now();
  const { model, labels, input, source } = await openModel(file, settings, limits);
  const loadMs = since(loadStart);
  const results: PredictResult[] = [];
  let timed: string | undefined;
  try {
    for (const inputFile of inputs) {
      const tensor = await readInput(inputFile, model.summary, input.preprocessing, limitsOf(source).imagePixels);
      try {
        const [output] = await forwardToOutputs(model, singleInput(model, tensor));
        const ranked = await topPredictions(output, top, labels?.names);
        output.dispose();
        ranked.forEach((predictions, i) => results.push({ input: ranked.length > 1 ? `${inputFile}[${i}]` : inputFile, predictions }));
        if (ranked.length === 1) {
          const suggestion = await suggestionFor(model, inputFile, ranked[0][0], input, labels?.names, limitsOf(source).imagePixels);
          if (suggestion) results[results.length - 1].suggestion = suggestion;
        }
        if (timing && !timed)
          timed = timingLine([
            ['load', loadMs],
            ['forward', await medianMs(() => forwardPass(model, tensor))],
          ]);
      } finally {
        tensor.dispose();
      }
    }
  } finally {
    model.dispose();
  }
  if (json) {
    const record = jsonText(
      { model: file, preprocessing: input.preprocessing, preprocessingReason: input.reason, labels: labels?.origin ?? null, results },
      2,
    );
    return timed ? `${record}\n${timed}` : record;
  }
  const given = Object.values(settings).some((value) => value !== undefined);
  const origin = given ? 'as the options set it' : input.sidecar ? `from ${input.sidecar}` : input.reason;
  const lines = [`Preprocessing: ${describePreprocessing(input.preprocessing)} — ${origin}`];
  for (const result of results) {
    lines.push('', result.input);
    for (const p of result.predictions) {
      lines.push(
        `  ${(100 * p.probability).toFixed(2).padStart(6)}%  ${oneLine(p.label)}  (class ${p.index}, score ${p.score.toPrecision(4)})`,
      );
    }
    if (result.suggestion) lines.push(hintLine(result.suggestion, file));
  }
  if (timed) lines.push('', timed);
  return lines.join('\n');
}
