/**
 * `convlens explain <model> <input> --method <m> [--layer NAME] [--class N | --target T] [--aug-smooth]
 * [--eigen-smooth] [--out overlay.png] [--json out.json]`:
 * one explanation, as an overlay picture and/or the map as JSON (at the model input's resolution, in [0, 1]),
 * with the target layer and why it was chosen.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { singleInput } from '../engine/execute';
import { explain } from '../engine/explain';
import { deconvnetGradient, guidedGradient } from '../engine/explain/inputGradients';
import { isCamMethod, METHOD_LABELS, type Method } from '../engine/explain/methods';
import { suggestTargetLayer } from '../engine/explain/targetLayer';
import type { Target } from '../engine/explain/targets';
import type { PreprocessingSettings, RgbaImage } from '../engine/preprocess';
import type { Colormap } from '../engine/render/colormaps';
import { colorize, gradientImage, overlay } from '../engine/render/overlay';
import { readImageFile } from '../node/imageFile';
import { encodePng } from '../node/pngFile';
import { readInput } from './inputs';
import { forwardPass, medianMs, since, timingLine } from './timing';
import { openModel } from './modelFiles';
import { checkOutput, writeOutput } from './outputFile';
import { jsonText, oneLine } from './terminalText';
import { engineTarget, type TargetOption } from './targetOption';
import { InputError, UsageError } from './usage';
import { limitsOf, type Limits } from '../engine/limits';

export interface ExplainOptions {
  method: Method;
  layer?: string;
  classIndex?: number;
  /** What is explained when not a class (--target). */
  target?: TargetOption;
  out?: string;
  json?: string;
  colormap: Colormap;
  alpha: number;
  settings: PreprocessingSettings;
  limits?: Partial<Limits>;
  /** Also time loading, the forward pass and the explanation (see timing.ts). */
  timing?: boolean;
  /** Replace existing --out and --json files (never the model's files or the input). */
  force?: boolean;
  /** CAM family: average over test-time augmentations (--aug-smooth). */
  augSmooth?: boolean;
  /** CAM family: first principal component of the weighted activations (--eigen-smooth). */
  eigenSmooth?: boolean;
}

/** --aug-smooth and --eigen-smooth belong to the CAM family: refused, before any file is read, for the others. */
export function checkSmoothing(method: Method, augSmooth?: boolean, eigenSmooth?: boolean): void {
  const flags = [augSmooth && '--aug-smooth', eigenSmooth && '--eigen-smooth'].filter(Boolean);
  if (flags.length > 0 && !isCamMethod(method)) {
    const verb = flags.length > 1 ? 'apply' : 'applies';
    throw new UsageError(`${flags.join(' and ')} ${verb} to class activation maps (the CAM family) only, not to ${method}`);
  }
}

export async function explainCommand(modelFile: string, inputFile: string, options: ExplainOptions): Promise<string> {
  checkSmoothing(options.method, options.augSmooth, options.eigenSmooth);
  const loadStart = performance.now();
  const { model, labels, input, filesRead, source } = await openModel(modelFile, options.settings, options.limits);
  const maxPixels = limitsOf(source).imagePixels;
  const loadMs = since(loadStart);
  const tensor = await readInput(inputFile, model.summary, input.preprocessing, maxPixels);
  try {
    // Before the explanation is computed, so a refused file costs no waiting.
    const rules = { force: options.force === true, reads: [...filesRead, { file: inputFile, role: 'the input' }] };
    if (options.json) await checkOutput(options.json, '--json', rules);
    if (options.out) await checkOutput(options.out, '--out', rules);
    if (tensor.shape.length !== 4 || tensor.shape[0] !== 1) {
      throw new InputError(`${path.basename(inputFile)} must be one image; explanations take inputs of shape (1, height, width, channels)`);
    }
    const x = tensor as tf.Tensor4D;
    const failed = (error: Error) => {
      throw new InputError(`${path.basename(modelFile)}: ${error.message}`);
    };
    let target: { target: Target; description: string } | undefined;
    if (options.target) {
      const readReference = (file: string) => readInput(file, model.summary, input.preprocessing, maxPixels);
      target = await engineTarget(options.target, model, x, readReference).catch(failed);
    }
    const explainsClass = !target || target.target.kind === 'class';
    const run = () =>
      explain(model, x, {
        method: options.method,
        layer: options.layer,
        classIndex: options.classIndex,
        target: target?.target,
        augSmooth: options.augSmooth,
        eigenSmooth: options.eigenSmooth,
      }).catch(failed);
    const explanation = await run();
    const [, height, width] = x.shape;
    const map = (await explanation.maps.data()) as Float32Array;
    explanation.maps.dispose();
    const classIndex = explanation.classIndex[0];
    const written: string[] = [];

    if (options.json) {
      const rows = Array.from({ length: height }, (_, r) =>
        Array.from(map.subarray(r * width, (r + 1) * width), (v) => Math.round(v * 1e6) / 1e6),
      );
      const record = {
        method: options.method,
        layer: explanation.layer ?? null,
        class: classIndex,
        score: explanation.score[0],
        ...(target && !explainsClass ? { target: target.description } : {}),
        width,
        height,
        map: rows,
      };
      await writeOutput(options.json, jsonText(record), '--json', options.force === true);
      written.push(options.json);
    }
    if (options.out) {
      await writeOutput(
        options.out,
        encodePng(await picture(model, x, inputFile, map, width, height, explainsClass ? classIndex : undefined, options)),
        '--out',
        options.force === true,
      );
      written.push(options.out);
    }
    const label = oneLine(labels?.names[classIndex] ?? `class ${classIndex}`);
    const explained = explainsClass
      ? `${label} (class ${classIndex}, score ${explanation.score[0].toPrecision(4)})`
      : `${oneLine(target!.description)} (score ${explanation.score[0].toPrecision(4)})`;
    const lines = [
      `${METHOD_LABELS[options.method]} of ${explained}${explanation.layer ? ` at layer ${oneLine(explanation.layer)}` : ''}`,
      ...(explanation.layer ? [targetLayerLine(model, explanation.layer, options.layer !== undefined)] : []),
      ...written.map((file) => `wrote ${file}`),
    ];
    if (options.timing) {
      const forwardMs = await medianMs(() => forwardPass(model, x));
      const explainMs = await medianMs(async () => (await run()).maps.dispose());
      lines.push(
        timingLine([
          ['load', loadMs],
          ['forward', forwardMs],
          ['explain', explainMs],
        ]),
      );
    }
    return lines.join('\n');
  } finally {
    tensor.dispose();
    model.dispose();
  }
}

/** "Target layer: X — why", the reason the suggestion's ("Which layer?" in docs/explanations.md). */
function targetLayerLine(model: Parameters<typeof suggestTargetLayer>[0], layer: string, given: boolean): string {
  if (given) return `Target layer: ${oneLine(layer)} — given with --layer`;
  return `Target layer: ${oneLine(layer)} — ${suggestTargetLayer(model).reason}`;
}

/**
 * The overlay on the input image (or, for guided backprop and deconvnet of a class, the gradient image);
 * a bare heatmap for .npy inputs.
 */
async function picture(
  model: Parameters<typeof singleInput>[0],
  x: tf.Tensor4D,
  inputFile: string,
  map: Float32Array,
  width: number,
  height: number,
  classIndex: number | undefined,
  options: ExplainOptions,
): Promise<RgbaImage> {
  if ((options.method === 'guided' || options.method === 'deconvnet') && classIndex !== undefined) {
    const gradient = (options.method === 'guided' ? guidedGradient : deconvnetGradient)(model, singleInput(model, x), x, [classIndex]);
    const values = await gradient.data();
    gradient.dispose();
    return gradientImage(values, width, height, x.shape[3]);
  }
  if (inputFile.toLowerCase().endsWith('.npy')) return colorize(map, width, height, options.colormap);
  return overlay(
    await readImageFile(inputFile, limitsOf({ limits: options.limits }).imagePixels),
    map,
    width,
    height,
    options.colormap,
    options.alpha,
  );
}
