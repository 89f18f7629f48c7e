/** The Explain panel's images: decoded, made into one input batch for the model, and ranked. */
import * as tf from '@tensorflow/tfjs-core';
import { predict, singleInput } from '../../src/engine/execute';
import type { OpenedModel } from '../../src/engine/openModel';
import { topPredictions, type Prediction } from '../../src/engine/predictions';
import { imageToInput, type RgbaImage } from '../../src/engine/preprocess';
import type { ExplainImage } from '../../src/shared/explainProtocol';

export interface LoadedImage {
  name: string;
  pixels: RgbaImage;
  predictions: Prediction[];
  /** The class explained: the top prediction until the user picks another. */
  classIndex: number;
}

/**
 * Decodes (with `decode`) and ranks the images; one that cannot be decoded is left out and named in `problems`. The
 * caller owns `input`, the batch of the images that could be decoded.
 */
export async function loadImages(
  files: ExplainImage[],
  { model, input: resolved, labels }: OpenedModel,
  decode: (file: ExplainImage) => Promise<RgbaImage>,
): Promise<{ loaded: LoadedImage[]; problems: string[]; input: tf.Tensor4D }> {
  const decoded = await Promise.allSettled(files.map(decode));
  const problems = decoded.flatMap((d) =>
    d.status === 'rejected' ? [d.reason instanceof Error ? d.reason.message : String(d.reason)] : [],
  );
  const good = files.flatMap((file, i) => {
    const result = decoded[i];
    return result.status === 'fulfilled' ? [{ name: file.name, pixels: result.value }] : [];
  });
  if (good.length === 0) throw new Error(problems.join(' '));
  const input = tf.tidy(() => tf.concat(good.map((g) => imageToInput(g.pixels, resolved.preprocessing))) as tf.Tensor4D);
  try {
    const outputs = predict(model, singleInput(model, input));
    const ranked = await topPredictions(outputs[0], 5, labels?.names).finally(() => tf.dispose(outputs));
    return { loaded: good.map((g, i) => ({ ...g, predictions: ranked[i], classIndex: ranked[i][0].index })), problems, input };
  } catch (error) {
    input.dispose();
    throw error;
  }
}
