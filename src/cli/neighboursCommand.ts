/**
 * `convlens neighbours <model> <folder> <image> [--k K] [--layer NAME] [--json]`: the Neighbours view
 * on the command line: the K images of the folder nearest to <image> by cosine distance between their
 * features. An image of the folder is left out of its own results; one from elsewhere is run through
 * the model with the folder, so an identical copy inside the folder is found at distance 0.
 */
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { nearestNeighbours, unitRows } from '../engine/dataset/neighbours';
import type { PreprocessingSettings } from '../engine/preprocess';
import { analyseFiles, className, featureLayer, listImages, terminalProgress } from './imageFolder';
import { openModel } from './modelFiles';
import { jsonText, oneLine } from './terminalText';
import { textTable } from './textTable';
import { InputError } from './usage';
import type { Limits } from '../engine/limits';

export interface NeighboursOptions {
  k: number;
  layer?: string;
  json: boolean;
  settings: PreprocessingSettings;
  limits?: Partial<Limits>;
}

export interface NeighbourRow {
  rank: number;
  /** Relative to the folder, with '/' separators. */
  file: string;
  /** 1 − cosine similarity of the features: 0 for the same direction, 2 for opposite ones. */
  distance: number;
  /** The class subfolder's name; null for images directly in the folder. */
  label: string | null;
  /** The model's predicted class, by name. */
  predicted: string;
}

export async function neighboursCommand(modelFile: string, folder: string, image: string, options: NeighboursOptions): Promise<string> {
  const images = await listImages(folder);
  if (!existsSync(image)) throw new InputError(`${image}: no such file`);
  // The query's place in the folder's list, when it is one of the folder's images.
  const relative = path
    .relative(await realpath(folder), await realpath(image))
    .split(path.sep)
    .join('/');
  const inside = images.findIndex((entry) => entry.path === relative);
  const opened = await openModel(modelFile, options.settings, options.limits);
  const terminal = terminalProgress();
  try {
    const layer = featureLayer(opened, modelFile, options.layer);
    // An outside query goes first: a file that cannot be decoded is reported before the folder is read.
    const files = images.map((entry) => path.join(folder, entry.path));
    if (inside < 0) files.unshift(image);
    const features = await analyseFiles(opened, modelFile, files, layer, terminal.progress(`Reading ${files.length} images`));
    terminal.done();
    const query = inside < 0 ? 0 : inside;
    const offset = inside < 0 ? 1 : 0;
    const found = nearestNeighbours(unitRows(features.features, features.dim), features.dim, query, options.k);
    if (found.length === 0) throw new InputError(`${folder} has no other image to compare ${path.basename(image)} with`);
    const rows: NeighbourRow[] = found.map((neighbour, i) => {
      const entry = images[neighbour.index - offset];
      return {
        rank: i + 1,
        file: entry.path,
        // 1 − a dot product of unit vectors: rounding can take an identical image a hair below 0.
        distance: Math.max(0, Number(neighbour.distance.toFixed(6))),
        label: entry.label ?? null,
        predicted: className(opened, features.predicted[neighbour.index]),
      };
    });
    if (options.json) {
      const queryPredicted = className(opened, features.predicted[query]);
      return jsonText({ query: image, inFolder: inside >= 0, predicted: queryPredicted, layer, neighbours: rows }, 2);
    }
    return table(image, inside >= 0, className(opened, features.predicted[query]), layer, features.dim, images.length, rows);
  } finally {
    terminal.done();
    opened.model.dispose();
  }
}

function table(image: string, inside: boolean, predicted: string, layer: string, dim: number, count: number, rows: NeighbourRow[]): string {
  const header = ['Rank', 'File', 'Distance', 'Label', 'Predicted'];
  const cells = rows.map((row) => [String(row.rank), row.file, row.distance.toFixed(4), row.label ?? '-', row.predicted]);
  return [
    `${image} (predicted ${oneLine(predicted)}): nearest of ${inside ? `the ${count - 1} other` : `the ${count}`} images by cosine distance at layer ${oneLine(layer)} (${dim} features)`,
    ...textTable(header, cells, new Set([0, 2])),
  ].join('\n');
}
