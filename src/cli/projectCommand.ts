/**
 * `convlens project <model> <image> --layer NAME --channel C [--unit max|sum] [--out projection.png]`:
 * feature projection on the command line (Zeiler & Fergus's deconvnet, engine/explain/featureProjection):
 * what in the image drives one channel of a layer, from its strongest position (the paper's picture) or
 * from the whole channel, written as a PNG the size of the model's input.
 */
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { projectFeature, type ProjectedUnit } from '../engine/explain/featureProjection';
import { outputShapes } from '../engine/explain/targetLayer';
import { limitsOf, type Limits } from '../engine/limits';
import type { PreprocessingSettings } from '../engine/preprocess';
import { gradientImage } from '../engine/render/overlay';
import { encodePng } from '../node/pngFile';
import { requireLayer } from './imageFolder';
import { readInput } from './inputs';
import { openModel } from './modelFiles';
import { checkOutput, writeOutput } from './outputFile';
import { oneLine } from './terminalText';
import { InputError } from './usage';

export interface ProjectOptions {
  layer: string;
  channel: number;
  unit: ProjectedUnit;
  out?: string;
  settings: PreprocessingSettings;
  limits?: Partial<Limits>;
  /** Replace an existing --out file (never the model's files or the image). */
  force?: boolean;
}

export async function projectCommand(modelFile: string, imageFile: string, options: ProjectOptions): Promise<string> {
  const opened = await openModel(modelFile, options.settings, options.limits);
  const { model, input, filesRead, source } = opened;
  let tensor: tf.Tensor4D | undefined;
  try {
    requireLayer(opened, modelFile, options.layer);
    const shape = outputShapes(model).get(options.layer);
    const name = path.basename(modelFile);
    if (shape && shape.length !== 4) {
      throw new InputError(
        `${name}: layer "${options.layer}" has output shape (${shape.map((d) => d ?? 'None').join(', ')}); a projection needs a layer with height, width and channels`,
      );
    }
    if (options.out) {
      await checkOutput(options.out, '--out', {
        force: options.force === true,
        reads: [...filesRead, { file: imageFile, role: 'the input' }],
      });
    }
    tensor = (await readInput(imageFile, model.summary, input.preprocessing, limitsOf(source).imagePixels)) as tf.Tensor4D;
    const projection = await projectFeature(model, tensor, options.layer, options.channel, { unit: options.unit }).catch((error: Error) => {
      throw new InputError(`${name}: ${error.message}`);
    });
    const [, height, width, channels] = projection.signal.shape;
    const signal = await projection.signal.data().finally(() => {
      projection.signal.dispose();
      projection.maps.dispose();
    });
    const from = projection.positions
      ? `its strongest position (row ${projection.positions[0][0]}, column ${projection.positions[0][1]})`
      : 'the whole channel';
    const lines = [`Deconvnet projection of channel ${options.channel} of ${oneLine(options.layer)} from ${from}, ${width}×${height}`];
    if (options.out) {
      await writeOutput(options.out, encodePng(gradientImage(signal, width, height, channels)), '--out', options.force === true);
      lines.push(`wrote ${options.out}`);
    }
    return lines.join('\n');
  } finally {
    tensor?.dispose();
    model.dispose();
  }
}
