/**
 * How far the weights moved between two checkpoints of a model: layers are matched by name, else by
 * position and shape (a retrained model may number its layers anew), and for each matched layer the
 * relative L2 change ‖W_b − W_a‖ / ‖W_a‖ of every weight tensor and of the layer as a whole, with a
 * histogram of the element-wise changes W_b − W_a. Every histogram has the same bins over the same
 * range, so layers can be compared at a glance.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunnableModel } from '../graph';

/** A model's weights, layer by layer in graph order; the tensors belong to the model and stay alive. */
export interface LayerWeights {
  layer: string;
  tensors: tf.Tensor[];
}

/** Bins of every histogram; odd, so that "unchanged" is the middle bin. */
export const HISTOGRAM_BINS = 41;

export interface ChangeHistogram {
  /** Elements per bin; bin i covers [range[0] + i·w, range[0] + (i+1)·w) with w = (range[1] − range[0]) / bins. */
  counts: number[];
}

export interface TensorChange {
  /** The tensor's position among its layer's weights. */
  index: number;
  shape: number[];
  /** ‖W_b − W_a‖ / ‖W_a‖; 0 for two zero tensors, Infinity when only W_a is zero. */
  relativeChange: number;
  /** ‖W_b − W_a‖. */
  change: number;
  histogram: ChangeHistogram;
}

export interface LayerChange {
  /** The layer in model A, and its match in model B (the same name unless matched by position). */
  layer: string;
  layerB: string;
  /** Over all the layer's tensors together: √(Σ‖ΔW‖²) / √(Σ‖W_a‖²). */
  relativeChange: number;
  change: number;
  histogram: ChangeHistogram;
  tensors: TensorChange[];
}

export interface WeightComparison {
  /** Matched layers, in model A's graph order. */
  layers: LayerChange[];
  /** The range every histogram covers: [−m, m], m the largest element-wise change anywhere. */
  range: [number, number];
  /** Layers with weights that have no counterpart of the same shapes in the other model. */
  unmatchedA: string[];
  unmatchedB: string[];
}

/** The layers of a runnable model that have weights, in graph order. */
export function modelWeights(model: RunnableModel): LayerWeights[] {
  return model.nodes
    .map((node) => ({ layer: node.id, tensors: model.weights(node.id).filter((t) => t.dtype === 'float32') }))
    .filter((entry) => entry.tensors.length > 0);
}

export async function weightChanges(a: RunnableModel | LayerWeights[], b: RunnableModel | LayerWeights[]): Promise<WeightComparison> {
  const weightsA = Array.isArray(a) ? a : modelWeights(a);
  const weightsB = Array.isArray(b) ? b : modelWeights(b);
  const { pairs, unmatchedA, unmatchedB } = matchLayers(weightsA, weightsB);

  // First the norms and the largest change of every tensor pair (a few numbers each), which fix the shared range.
  const norms = await Promise.all(pairs.map(([la, lb]) => Promise.all(la.tensors.map((t, i) => tensorNorms(t, lb.tensors[i])))));
  const largest = Math.max(0, ...norms.flat().map((n) => n.maxAbs));
  const range: [number, number] = [-largest, largest];

  const layers: LayerChange[] = [];
  for (const [p, [la, lb]] of pairs.entries()) {
    const tensors: TensorChange[] = [];
    for (const [index, tensorA] of la.tensors.entries()) {
      const { change, normA } = norms[p][index];
      tensors.push({
        index,
        shape: tensorA.shape,
        relativeChange: relative(change, normA),
        change,
        histogram: await histogramOfChange(tensorA, lb.tensors[index], range),
      });
    }
    const change = Math.hypot(...norms[p].map((n) => n.change));
    const normA = Math.hypot(...norms[p].map((n) => n.normA));
    const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
    for (const tensor of tensors) tensor.histogram.counts.forEach((c, i) => (counts[i] += c));
    layers.push({ layer: la.layer, layerB: lb.layer, relativeChange: relative(change, normA), change, histogram: { counts }, tensors });
  }
  return { layers, range, unmatchedA, unmatchedB };
}

/** The layers, those whose weights moved most (relatively) first; ties keep graph order. */
export function layersByChange(layers: readonly LayerChange[]): LayerChange[] {
  // Two infinite changes compare as equal (∞ − ∞ is NaN).
  return [...layers].sort((x, y) => y.relativeChange - x.relativeChange || 0);
}

function relative(change: number, norm: number): number {
  if (norm > 0) return change / norm;
  return change === 0 ? 0 : Infinity;
}

/**
 * Pairs the layers of A with those of B: by name where the name exists in both with the same tensor
 * shapes, then the rest in order, each with the next unpaired layer of B of the same shapes.
 */
export function matchLayers(
  a: readonly LayerWeights[],
  b: readonly LayerWeights[],
): { pairs: [LayerWeights, LayerWeights][]; unmatchedA: string[]; unmatchedB: string[] } {
  const byName = new Map(b.map((entry) => [entry.layer, entry]));
  const taken = new Set<LayerWeights>();
  const partner = new Map<LayerWeights, LayerWeights>();
  for (const entry of a) {
    const same = byName.get(entry.layer);
    if (same && sameShapes(entry, same)) {
      partner.set(entry, same);
      taken.add(same);
    }
  }
  let next = 0;
  for (const entry of a) {
    if (partner.has(entry)) {
      next = Math.max(next, b.indexOf(partner.get(entry)!) + 1);
      continue;
    }
    const found = b.findIndex((candidate, i) => i >= next && !taken.has(candidate) && sameShapes(entry, candidate));
    if (found < 0) continue;
    partner.set(entry, b[found]);
    taken.add(b[found]);
    next = found + 1;
  }
  return {
    pairs: a.filter((entry) => partner.has(entry)).map((entry) => [entry, partner.get(entry)!]),
    unmatchedA: a.filter((entry) => !partner.has(entry)).map((entry) => entry.layer),
    unmatchedB: b.filter((entry) => !taken.has(entry)).map((entry) => entry.layer),
  };
}

function sameShapes(a: LayerWeights, b: LayerWeights): boolean {
  return a.tensors.length === b.tensors.length && a.tensors.every((t, i) => tf.util.arraysEqual(t.shape, b.tensors[i].shape));
}

async function tensorNorms(a: tf.Tensor, b: tf.Tensor): Promise<{ change: number; normA: number; maxAbs: number }> {
  const summary = tf.tidy(() => {
    const difference = tf.sub(b, a);
    return tf.stack([tf.norm(difference), tf.norm(a), tf.max(tf.abs(difference))]);
  });
  const [change, normA, maxAbs] = await summary.data();
  summary.dispose();
  return { change, normA, maxAbs };
}

async function histogramOfChange(a: tf.Tensor, b: tf.Tensor, [low, high]: [number, number]): Promise<ChangeHistogram> {
  const difference = tf.sub(b, a);
  const values = await difference.data();
  difference.dispose();
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  const width = (high - low) / HISTOGRAM_BINS;
  const middle = (HISTOGRAM_BINS - 1) / 2;
  for (const value of values) {
    // With no change anywhere the range is empty: everything is "unchanged", the middle bin.
    const bin = width > 0 ? Math.floor((value - low) / width) : middle;
    counts[Math.min(HISTOGRAM_BINS - 1, Math.max(0, bin))]++;
  }
  return { counts };
}
