/** The confusion matrix of a labelled folder, and the images the model got wrong. */

export interface Confusion {
  /** classCount × classCount counts: row = true class, column = predicted class. */
  matrix: Int32Array;
  classCount: number;
  /** Classes that occur as a true label, in index order (the matrix rows worth showing). */
  present: number[];
  accuracy: number;
  /** Images whose prediction differs from their label, the most confident mistakes first. */
  mistakes: { index: number; truth: number; predicted: number; confidence: number }[];
}

/** `truth[i]` is image i's class index, or −1 when its folder names no class of the model (left out). */
export function confusionMatrix(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  confidence: ArrayLike<number>,
  classCount: number,
): Confusion {
  const matrix = new Int32Array(classCount * classCount);
  const mistakes: Confusion['mistakes'] = [];
  const present = new Set<number>();
  let labelled = 0;
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = predicted[i];
    if (t < 0 || t >= classCount) continue;
    labelled++;
    present.add(t);
    matrix[t * classCount + p]++;
    if (t === p) correct++;
    else mistakes.push({ index: i, truth: t, predicted: p, confidence: confidence[i] });
  }
  mistakes.sort((a, b) => b.confidence - a.confidence);
  return { matrix, classCount, present: [...present].sort((a, b) => a - b), accuracy: labelled ? correct / labelled : 0, mistakes };
}
