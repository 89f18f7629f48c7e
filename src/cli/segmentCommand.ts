/**
 * `convlens segment <model> <image> [--method m] [--layer NAME] [--class N] [--out mask.png] [--threshold-only]`:
 * a mask of the explained object from an explanation map, refined by the image's own colours and edges
 * (engine/segmentation), written as a PNG (white object on black, at the image's size), with a summary:
 * the object's share of the image and its bounding box.
 */
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { explain } from '../engine/explain';
import { METHOD_LABELS, type Method } from '../engine/explain/methods';
import { limitsOf, type Limits } from '../engine/limits';
import type { PreprocessingSettings } from '../engine/preprocess';
import { maskImage, segmentObject, type Segmentation } from '../engine/segmentation';
import { readImageFile } from '../node/imageFile';
import { encodePng } from '../node/pngFile';
import { readInput } from './inputs';
import { openModel } from './modelFiles';
import { checkOutput, writeOutput } from './outputFile';
import { oneLine } from './terminalText';
import { InputError, UsageError } from './usage';

export interface SegmentOptions {
  method: Method;
  layer?: string;
  classIndex?: number;
  out?: string;
  /** The baseline: the map thresholded at its Otsu threshold, without the graph cut. */
  thresholdOnly: boolean;
  settings: PreprocessingSettings;
  limits?: Partial<Limits>;
  /** Replace an existing --out file (never the model's files or the image). */
  force?: boolean;
}

export async function segmentCommand(modelFile: string, imageFile: string, options: SegmentOptions): Promise<string> {
  if (imageFile.toLowerCase().endsWith('.npy')) throw new UsageError('segment takes an image file: a .npy array has no colours to follow');
  const { model, labels, input, filesRead, source } = await openModel(modelFile, options.settings, options.limits);
  const maxPixels = limitsOf(source).imagePixels;
  const tensor = (await readInput(imageFile, model.summary, input.preprocessing, maxPixels)) as tf.Tensor4D;
  try {
    if (options.out) {
      await checkOutput(options.out, '--out', {
        force: options.force === true,
        reads: [...filesRead, { file: imageFile, role: 'the input' }],
      });
    }
    const explanation = await explain(model, tensor, {
      method: options.method,
      layer: options.layer,
      classIndex: options.classIndex,
    }).catch((error: Error) => {
      throw new InputError(`${path.basename(modelFile)}: ${error.message}`);
    });
    const [, height, width] = explanation.maps.shape;
    const map = (await explanation.maps.data()) as Float32Array;
    explanation.maps.dispose();
    const image = await readImageFile(imageFile, maxPixels).catch((error: Error) => {
      throw new InputError(error.message);
    });
    const segmentation = segmentObject(image, { width, height, data: map }, { thresholdOnly: options.thresholdOnly });

    const classIndex = explanation.classIndex[0];
    const label = oneLine(labels?.names[classIndex] ?? `class ${classIndex}`);
    const lines = [
      `${options.thresholdOnly ? 'Threshold-only mask' : 'Object mask'} from ${METHOD_LABELS[options.method]} of ${label} (class ${classIndex}, score ${explanation.score[0].toPrecision(4)})${explanation.layer ? ` at layer ${oneLine(explanation.layer)}` : ''}`,
      summaryLine(segmentation),
    ];
    if (options.out) {
      await writeOutput(options.out, encodePng(maskImage(segmentation.mask, image.width, image.height)), '--out', options.force === true);
      lines.push(`wrote ${options.out}`);
    }
    return lines.join('\n');
  } finally {
    tensor.dispose();
    model.dispose();
  }
}

function summaryLine({ summary, width, height, workingWidth, workingHeight }: Segmentation): string {
  const reduced = workingWidth < width ? ` (segmented at ${workingWidth}×${workingHeight})` : '';
  if (!summary.box) return `object: none found in the ${width}×${height} image${reduced}`;
  const { left, top, right, bottom } = summary.box;
  return `object: ${(summary.share * 100).toFixed(1)}% of the ${width}×${height} image, bounding box x ${left}–${right}, y ${top}–${bottom}${reduced}`;
}
