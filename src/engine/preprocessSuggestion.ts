/**
 * A better preprocessing, found by trying the common ones on the user's image: when the predictions
 * under the current one are near-uniform and another gives a confident prediction, that one is
 * suggested. Each candidate also runs on flat black, grey and white images: a scaling under which a
 * blank picture is confidently some class pushes the network into a corner (raw 0–255 into a 0–1
 * model, say), so its confidence on the photo says nothing about the photo. Candidates run in batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import { singleInput } from './execute';
import type { RunnableModel } from './graph';
import { rankScores, type Prediction } from './predictions';
import { imageToInput, PIXEL_SCALES, type Preprocessing, type RgbaImage } from './preprocess';
import { forwardToOutputs } from './nativeForward';

/**
 * Predictions are near-uniform when the top class has less than this probability (a binary classifier,
 * always at 50% or more, is never judged). Measured on the team's shared models and photos: the caffe2
 * ImageNet SqueezeNet under the eight wrong scalings gives its cat and espresso photos 15–31%
 * ('mosquito net', 'Petri dish'); under the right one 68% ('Egyptian cat') and 99.9% ('espresso').
 */
export const UNCERTAIN_BELOW = 0.4;
/**
 * A candidate is confident when its top class has at least this probability… On a photo with no
 * ImageNet class (an astronaut) the right scaling is unsure too (14%), and the best wrong one reaches
 * 57% ('mosquito net'): no suggestion there.
 */
export const CONFIDENT_FROM = 0.6;
/**
 * …and no flat image under it is this sure of any class. Under the right scaling SqueezeNet gives
 * flat images at most 17%; raw 0–255 pixels into the shared digit models give them 100%, and without
 * this test 10 of 44 model and photo pairs got such a suggestion (with it, none).
 */
export const FLAT_BELOW = 0.5;
/** The flat images: black, mid-grey and white. */
const FLAT_LEVELS = [0, 128, 255];

export interface CandidateOutcome {
  preprocessing: Preprocessing;
  /** The top class for the user's image. */
  top: Prediction;
  /**
   * The top class for each flat image (FLAT_LEVELS) of the same size; only where `top` is confident
   * (CONFIDENT_FROM), the one case where they are judged.
   */
  flat?: Prediction[];
}

export interface PreprocessingSuggestion {
  preprocessing: Preprocessing;
  /** What the suggested preprocessing predicts for the image. */
  top: Prediction;
  /** What the current one predicts. */
  current: Prediction;
}

/** The current preprocessing with the common scalings and channel orders, at the same size; the current first. */
export function candidatePreprocessings(current: Preprocessing): Preprocessing[] {
  const orders = current.channels === 'gray' ? (['gray'] as const) : (['rgb', 'bgr'] as const);
  const all = [current];
  for (const scale of PIXEL_SCALES) {
    // Caffe scaling means BGR: the channel order is part of it (preprocess.ts).
    for (const channels of scale === 'caffe' && current.channels !== 'gray' ? (['bgr'] as const) : orders) {
      const candidate = { ...current, scale, channels };
      if (!all.some((p) => sameEffect(p, candidate))) all.push(candidate);
    }
  }
  return all;
}

/** Whether two preprocessings give the same numbers: caffe reverses the channels whichever order is named. */
function sameEffect(a: Preprocessing, b: Preprocessing): boolean {
  return a.scale === b.scale && a.width === b.width && a.height === b.height && (a.channels === b.channels || a.scale === 'caffe');
}

/**
 * Runs every candidate on the image, and the confident ones on the flat images too; `batchSize` images
 * per forward pass. (Flat images for all of them tripled the cost: 36 forward passes for a colour model.)
 */
export async function tryPreprocessings(
  model: RunnableModel,
  image: RgbaImage,
  candidates: readonly Preprocessing[],
  labels?: readonly string[],
  batchSize = 8,
): Promise<CandidateOutcome[]> {
  const tops = await topsOf(
    model,
    candidates.map((p) => ({ image, p })),
    labels,
    batchSize,
  );
  const flats = FLAT_LEVELS.map((level) => ({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(level) }));
  const confident = candidates.flatMap((_, i) => (tops[i].probability >= CONFIDENT_FROM ? [i] : []));
  const flatTops = await topsOf(
    model,
    confident.flatMap((i) => flats.map((flat) => ({ image: flat, p: candidates[i] }))),
    labels,
    batchSize,
  );
  return candidates.map((preprocessing, i) => {
    const at = confident.indexOf(i);
    return { preprocessing, top: tops[i], flat: at < 0 ? undefined : flatTops.slice(at * flats.length, (at + 1) * flats.length) };
  });
}

/** The top class of each image under its preprocessing, `batchSize` images per forward pass. */
async function topsOf(
  model: RunnableModel,
  inputs: readonly { image: RgbaImage; p: Preprocessing }[],
  labels: readonly string[] | undefined,
  batchSize: number,
): Promise<Prediction[]> {
  const tops: Prediction[] = [];
  for (let start = 0; start < inputs.length; start += batchSize) {
    const chunk = inputs.slice(start, start + batchSize);
    const batch = tf.tidy(() => tf.concat(chunk.map(({ image, p }) => imageToInput(image, p))));
    let scores: Float32Array;
    try {
      const outputs = await forwardToOutputs(model, singleInput(model, batch));
      try {
        scores = (await outputs[0].data()) as Float32Array;
      } finally {
        tf.dispose(outputs);
      }
    } finally {
      batch.dispose();
    }
    const perImage = scores.length / chunk.length;
    for (let i = 0; i < chunk.length; i++) tops.push(rankScores(scores.subarray(i * perImage, (i + 1) * perImage), 1, labels)[0]);
  }
  return tops;
}

/**
 * The suggestion from the outcomes (the current preprocessing's first): none when the current one is
 * sure enough, else among the candidates confident about the image (not just about the scaling) the
 * model's own default where it is one of them (what its files say beats a lucky guess), else the most
 * confident.
 */
export function chooseSuggestion(outcomes: readonly CandidateOutcome[], detected?: Preprocessing): PreprocessingSuggestion | undefined {
  const [current, ...others] = outcomes;
  if (!current || current.top.probability >= UNCERTAIN_BELOW) return undefined;
  const confident = others
    .filter((o) => o.top.probability >= CONFIDENT_FROM && fromTheImage(o))
    .sort((a, b) => b.top.probability - a.top.probability);
  const best = confident.find((o) => detected && sameEffect(o.preprocessing, detected)) ?? confident[0];
  return best && { preprocessing: best.preprocessing, top: best.top, current: current.top };
}

function fromTheImage(outcome: CandidateOutcome): boolean {
  return (outcome.flat ?? []).every((blank) => blank.probability < FLAT_BELOW);
}

export interface SuggestionOptions {
  labels?: readonly string[];
  /** The model's default (modelInput.ts), preferred among confident candidates. */
  detected?: Preprocessing;
  /** The top class under `current` where the caller has it already (it predicted the image): saves a pass. */
  currentTop?: Prediction;
}

/**
 * Tries the common preprocessings on the image and returns a better one, or undefined when none is
 * needed or found.
 */
export async function suggestPreprocessing(
  model: RunnableModel,
  image: RgbaImage,
  current: Preprocessing,
  { labels, detected, currentTop }: SuggestionOptions = {},
): Promise<PreprocessingSuggestion | undefined> {
  // The current one alone first: a sure prediction needs none of the others.
  const [first, ...others] = candidatePreprocessings(current);
  const top = currentTop ?? (await tryPreprocessings(model, image, [first], labels))[0].top;
  if (top.probability >= UNCERTAIN_BELOW) return undefined;
  return chooseSuggestion([{ preprocessing: first, top }, ...(await tryPreprocessings(model, image, others, labels))], detected);
}
