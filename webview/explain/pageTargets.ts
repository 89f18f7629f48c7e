/**
 * What the Explain page offers to explain in each image when the model is not a classifier: a
 * segmentation model's predicted classes (with their pixel shares and the class map), or a detection
 * head's strongest detections (with the model's boxes, or their anchors' cells); and the engine target a
 * choice explains, with the words its caption uses.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { detections, segmentationClasses, type Detection, type SegmentationClasses } from '../../src/engine/explain/detections';
import { detectionOutputs, targetKindOf, type Target } from '../../src/engine/explain/targets';
import { readLabels, type ClassLabels } from '../../src/engine/labels/readLabels';
import type { RunnableModel } from '../../src/engine/graph';
import type { OpenedModel } from '../../src/engine/openModel';
import { className, legendEntries, type LegendEntry } from './targetPictures';

/** How many detections each image lists. */
export const DETECTIONS_LISTED = 8;

export type PageTargets =
  | { kind: 'segmentation'; labels?: ClassLabels; images: { segmentation: SegmentationClasses; legend: LegendEntry[] }[] }
  | {
      kind: 'detection';
      labels?: ClassLabels;
      images: Detection[][];
      /** Where detections are drawn: the model's boxes, their anchors' cells, or nowhere (listed only). */
      placed: 'box' | 'cell' | 'none';
    };

/** An image's choice: a segmentation class, or the rank of a detection in its list. */
export type TargetChoice = { kind: 'segmentation'; classIndex: number } | { kind: 'detection'; rank: number };

/** The page's targets for a segmentation or detection model; undefined for a classifier (the class buttons). */
export async function findPageTargets({ model, source }: OpenedModel, input: tf.Tensor4D): Promise<PageTargets | undefined> {
  const kind = targetKindOf(model);
  if (kind === 'segmentation') {
    const labels = await readLabels(source, segmentationClassCount(model));
    const found = await segmentationClasses(model, input);
    return { kind, labels, images: found.map((segmentation) => ({ segmentation, legend: legendEntries(segmentation, labels?.names) })) };
  }
  if (kind === 'detection') {
    const { classAt } = detectionOutputs(model);
    const labels = await readLabels(source, model.summary.outputShapes[classAt][2] ?? 0);
    const images = await detections(model, input, DETECTIONS_LISTED);
    const all = images.flat();
    const placed = all.length && all.every((d) => d.box) ? 'box' : all.length && all.every((d) => d.cell) ? 'cell' : 'none';
    return { kind, labels, images, placed };
  }
  return undefined;
}

/** The choice an image starts with: its largest class, or its strongest detection. */
export function firstChoice(targets: PageTargets, imageIndex: number): TargetChoice {
  return targets.kind === 'segmentation'
    ? { kind: 'segmentation', classIndex: targets.images[imageIndex].legend[0].classIndex }
    : { kind: 'detection', rank: 0 };
}

/** The engine's target for an image's choice: a class over its predicted pixels, or one detection with its box. */
export function targetOf(targets: PageTargets, imageIndex: number, choice: TargetChoice): Target {
  if (choice.kind === 'segmentation') return { kind: 'segmentation', classIndex: choice.classIndex, region: 'predicted' };
  const detection = detectionOf(targets, imageIndex, choice);
  // As `--target box:I`: the class logit and the box regressions, what makes the class and what moves the box.
  return { kind: 'detection', anchor: detection.anchor, classIndex: detection.classIndex, withBox: true };
}

/** "“road” (segmentation, class 2)", "detection 1, “car” (class 3, anchor 58)": what a caption says is explained. */
export function describeChoice(targets: PageTargets, imageIndex: number, choice: TargetChoice): string {
  const names = targets.labels?.names;
  if (choice.kind === 'segmentation') return `“${className(choice.classIndex, names)}” (segmentation, class ${choice.classIndex})`;
  const detection = detectionOf(targets, imageIndex, choice);
  return `detection ${choice.rank + 1}, “${className(detection.classIndex, names)}” (class ${detection.classIndex}, anchor ${detection.anchor})`;
}

function detectionOf(targets: PageTargets, imageIndex: number, choice: { rank: number }): Detection {
  if (targets.kind !== 'detection') throw new Error('internal: a detection chosen on a segmentation page');
  return targets.images[imageIndex][choice.rank];
}

/** A segmentation output's class count, on the axis `segmentationLayout` reads it from. */
function segmentationClassCount(model: RunnableModel): number {
  const held = model.summary.outputShapes[0];
  const nhwc = model.summary.format !== 'onnx' || model.summary.declaredOutputShapes?.[0]?.length === 4;
  return (nhwc ? held[3] : held[1]) ?? 0;
}
