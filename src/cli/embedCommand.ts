/**
 * `convlens embed <model> <folder> --method pca|tsne|umap [--layer NAME] [--json points.json]`: the
 * Embedding view's 2-D map of a folder of images, as JSON points, or a summary of how well the map
 * (and the feature space it comes from) keeps the class folders apart.
 */
import path from 'node:path';
import { EMBEDDING_LABELS, embed, type EmbeddingMethod } from '../engine/dataset/embedding';
import type { FolderFeatures } from '../engine/dataset/features';
import type { FolderImage } from '../engine/dataset/imageFolder';
import { matchLabels } from '../engine/dataset/imageFolder';
import { knnAccuracy } from '../engine/dataset/neighbours';
import { sampleIndices, seededRandom } from '../engine/dataset/random';
import type { PreprocessingSettings } from '../engine/preprocess';
import { analyseFiles, className, featureLayer, listImages, terminalProgress } from './imageFolder';
import { openModel, type OpenedModel } from './modelFiles';
import { checkOutput, writeOutput } from './outputFile';
import { jsonText, oneLine } from './terminalText';
import { InputError } from './usage';
import type { Limits } from '../engine/limits';

export interface EmbedOptions {
  method: EmbeddingMethod;
  layer?: string;
  /** Where to write the points; without it, a summary is printed. */
  json?: string;
  settings: PreprocessingSettings;
  limits?: Partial<Limits>;
  /** Replace an existing --json file (never the model's files or an image). */
  force?: boolean;
}

export interface EmbeddedPoint {
  /** Relative to the folder, with '/' separators. */
  file: string;
  x: number;
  y: number;
  /** The class subfolder's name; null for images directly in the folder. */
  label: string | null;
  /** The predicted class's name. */
  predicted: string;
}

/** Neighbours of each point among all others: k-NN accuracy costs the square of the count, so larger maps are sampled. */
const KNN_K = 5;
const KNN_MAX_POINTS = 2000;

export async function embedCommand(modelFile: string, folder: string, options: EmbedOptions): Promise<string> {
  const images = await listImages(folder);
  if (images.length < 3)
    throw new InputError(`${folder} has ${images.length} image${images.length === 1 ? '' : 's'}; a map needs at least 3`);
  const opened = await openModel(modelFile, options.settings, options.limits);
  const terminal = terminalProgress();
  try {
    const layer = featureLayer(opened, modelFile, options.layer);
    const files = images.map((image) => path.join(folder, image.path));
    // Before the folder is read, so a refused file costs no waiting.
    if (options.json)
      await checkOutput(options.json, '--json', {
        force: options.force === true,
        reads: [...opened.filesRead, ...files.map((file) => ({ file, role: 'an input image' }))],
      });
    const features = await analyseFiles(opened, modelFile, files, layer, terminal.progress(`Reading ${images.length} images`));
    terminal.done();
    const label = EMBEDDING_LABELS[options.method];
    const map = await embed(features.features, features.dim, options.method, { progress: terminal.progress(`${label} map`) });
    terminal.done();

    if (options.json) {
      const points: EmbeddedPoint[] = Array.from(map.indices, (image, i) => ({
        file: images[image].path,
        x: round(map.points[2 * i]),
        y: round(map.points[2 * i + 1]),
        label: images[image].label ?? null,
        predicted: className(opened, features.predicted[image]),
      }));
      const record = { method: options.method, layer, ...(map.note ? { note: map.note } : {}), points };
      await writeOutput(options.json, jsonText(record), '--json', options.force === true);
      return [`wrote ${options.json}: ${points.length} points, ${label} of layer ${oneLine(layer)}`, ...(map.note ? [map.note] : [])].join(
        '\n',
      );
    }
    terminal.status(`Measuring ${KNN_K}-NN accuracy`);
    return summary(opened, images, features, map.indices, map.points, options.method, layer, map.note);
  } finally {
    terminal.done();
    opened.model.dispose();
  }
}

/** Float32 coordinates: their 7 significant digits, without the float64 noise after them. */
function round(value: number): number {
  return Number(value.toPrecision(7));
}

function summary(
  opened: OpenedModel,
  images: readonly FolderImage[],
  features: FolderFeatures,
  indices: Int32Array,
  points: Float32Array,
  method: EmbeddingMethod,
  layer: string,
  note: string | undefined,
): string {
  const folders = [...new Set(images.flatMap((image) => (image.label === undefined ? [] : [image.label])))];
  const loose = images.filter((image) => image.label === undefined).length;
  let organisation: string;
  if (folders.length === 0) organisation = 'no class folders';
  else organisation = `${plural(folders.length, 'class folder')}${loose ? `, ${loose} loose` : ''}`;
  const rows: [string, string][] = [
    ['Images', `${images.length} (${organisation})`],
    ['Method', `${EMBEDDING_LABELS[method]}${indices.length < images.length ? `, of ${indices.length} images` : ''}`],
    ['Layer', `${oneLine(layer)} (${plural(features.dim, 'feature')})`],
  ];
  if (folders.length >= 2) {
    const { flat, full, sampled } = knnAccuracies(images, features, indices, points, folders);
    rows.push([
      `${KNN_K}-NN accuracy`,
      `${percent(flat)} in 2-D, ${percent(full)} in feature space (leave-one-out, by class folder${sampled ? `, on a sample of ${sampled}` : ''})`,
    ]);
  }
  const accuracy = modelAccuracy(opened, images, features, folders);
  if (accuracy)
    rows.push(['Model accuracy', `${percent(accuracy.accuracy)} (${plural(accuracy.count, 'image')} in folders named after its classes)`]);
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return [...rows.map(([name, value]) => `${name.padEnd(width)}${value}`), ...(note ? [`Note: ${note}`] : [])].join('\n');
}

/**
 * Leave-one-out k-NN accuracy by class folder, on the mapped images with a class folder: in 2-D
 * (Euclidean, as the eye reads the map) and in the full feature space (cosine, as the map was made).
 */
function knnAccuracies(
  images: readonly FolderImage[],
  features: FolderFeatures,
  indices: Int32Array,
  points: Float32Array,
  folders: string[],
) {
  const classOf = new Map(folders.map((folder, i) => [folder, i]));
  const labelled = Array.from(indices.keys()).filter((i) => images[indices[i]].label !== undefined);
  const chosen = sampleIndices(labelled.length, KNN_MAX_POINTS, seededRandom(42)).map((i) => labelled[i]);
  const { dim } = features;
  const flatRows = new Float32Array(chosen.length * 2);
  const fullRows = new Float32Array(chosen.length * dim);
  const labels = new Int32Array(chosen.length);
  chosen.forEach((at, row) => {
    const image = indices[at];
    flatRows.set(points.subarray(2 * at, 2 * at + 2), 2 * row);
    fullRows.set(features.features.subarray(image * dim, (image + 1) * dim), row * dim);
    labels[row] = classOf.get(images[image].label!)!;
  });
  return {
    flat: knnAccuracy(flatRows, 2, labels, KNN_K, 'euclidean'),
    full: knnAccuracy(fullRows, dim, labels, KNN_K, 'cosine'),
    sampled: chosen.length < labelled.length ? chosen.length : 0,
  };
}

/** The model's accuracy on the images whose class folder names one of its classes, if any. */
function modelAccuracy(opened: OpenedModel, images: readonly FolderImage[], features: FolderFeatures, folders: string[]) {
  const outputShape = opened.model.summary.outputShapes[0] ?? [];
  const classCount = Math.max(
    2,
    outputShape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1),
  );
  const matched = matchLabels(folders, opened.labels?.names, classCount);
  let count = 0;
  let correct = 0;
  images.forEach((image, i) => {
    const expected = image.label === undefined ? undefined : matched.get(image.label);
    if (expected === undefined) return;
    count++;
    if (features.predicted[i] === expected) correct++;
  });
  return count ? { accuracy: correct / count, count } : undefined;
}

function percent(value: number): string {
  return `${(100 * value).toFixed(1)}%`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
