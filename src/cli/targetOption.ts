/**
 * `--target` for `convlens explain`: what is explained, as `class:N`, `seg:CLASS`, `box:I` (the I-th
 * strongest detection, 0 first), `output:NAME[INDEX]` or `like:IMAGE`, parsed here and made an engine
 * target once the model and the image are open.
 */
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../engine/execute';
import type { RunnableModel } from '../engine/graph';
import { detections } from '../engine/explain/detections';
import type { Target } from '../engine/explain/targets';
import { scoreNode } from '../engine/explain/scores';
import { UsageError } from './usage';

export type TargetOption =
  | { kind: 'class'; index: number }
  | { kind: 'seg'; classIndex: number }
  | { kind: 'box'; rank: number }
  | { kind: 'output'; output?: string; index: number | number[] }
  | { kind: 'like'; image: string };

const FORMS = 'class:N, seg:CLASS, box:I, output:NAME[INDEX] or like:IMAGE';

/** The `--target` value, checked for its form only (a usage error names what is wrong). */
export function parseTargetOption(value: string): TargetOption {
  const colon = value.indexOf(':');
  const kind = colon < 0 ? value : value.slice(0, colon);
  const rest = colon < 0 ? '' : value.slice(colon + 1);
  const count = (what: string) => {
    if (!/^\d+$/.test(rest)) throw new UsageError(`--target ${kind}: takes ${what} (got "${value}")`);
    return Number(rest);
  };
  switch (kind) {
    case 'class':
      return { kind: 'class', index: count('a class number, as class:3') };
    case 'seg':
      return { kind: 'seg', classIndex: count('a segmentation class number, as seg:15') };
    case 'box':
      return { kind: 'box', rank: count('the rank of a detection, 0 for the strongest, as box:0') };
    case 'output': {
      const match = /^([^[\]]*)\[(\d+(?:\s*,\s*\d+)*)\]$/.exec(rest);
      if (!match) throw new UsageError(`--target output: takes an output name and an index, as output:cls_logits[120,3] (got "${value}")`);
      const index = match[2].split(',').map((v) => Number(v.trim()));
      return { kind: 'output', ...(match[1] ? { output: match[1] } : {}), index: index.length === 1 ? index[0] : index };
    }
    case 'like':
      if (!rest) throw new UsageError(`--target like: takes a reference image, as like:other.png (got "${value}")`);
      return { kind: 'like', image: rest };
    default:
      throw new UsageError(`--target must be one of ${FORMS} (got "${value}")`);
  }
}

/**
 * The engine's target for the open model and image: `box:I` looks the detection up among the strongest
 * ones, `like:IMAGE` runs the model on the reference image (read by `readReference`, preprocessed as the
 * input) and takes its output as the embedding.
 */
export async function engineTarget(
  option: TargetOption,
  model: RunnableModel,
  x: tf.Tensor4D,
  readReference: (file: string) => Promise<tf.Tensor>,
): Promise<{ target: Target; description: string }> {
  switch (option.kind) {
    case 'class':
      return { target: { kind: 'class', index: option.index }, description: `class ${option.index}` };
    case 'seg':
      return {
        target: { kind: 'segmentation', classIndex: option.classIndex },
        description: `segmentation class ${option.classIndex} over its predicted pixels`,
      };
    case 'box': {
      const [found] = await detections(model, x, option.rank + 1);
      const detection = found[option.rank];
      if (!detection) throw new Error(`there is no detection ${option.rank}: the head has ${found.length} (anchor, class) pairs`);
      return {
        target: { kind: 'detection', anchor: detection.anchor, classIndex: detection.classIndex, withBox: true },
        description: `detection ${option.rank} (anchor ${detection.anchor}, class ${detection.classIndex}, logit ${detection.score.toPrecision(4)}) with its box regression`,
      };
    }
    case 'output': {
      const { output, index } = option;
      return {
        target: { kind: 'output', ...(output !== undefined ? { output } : {}), index },
        description: `output ${output ?? ''}[${Array.isArray(index) ? index.join(', ') : index}]`,
      };
    }
    case 'like': {
      const reference = await readReference(option.image);
      try {
        if (reference.shape.length !== 4 || reference.shape[0] !== 1) throw new Error(`${path.basename(option.image)} must be one image`);
        const [embedding] = runGraph(model, singleInput(model, reference), [scoreNode(model)]);
        const values = (await embedding.data()) as Float32Array;
        embedding.dispose();
        return { target: { kind: 'like', embedding: values }, description: `likeness to ${path.basename(option.image)}` };
      } finally {
        reference.dispose();
      }
    }
  }
}
