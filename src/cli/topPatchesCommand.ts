/**
 * `convlens top-patches <model> <folder> --layer NAME --channel C [--n N] [--out grid.png] [--json]`:
 * the Top patches view on the command line. The N images of the folder where the channel fires
 * hardest, each cut to the receptive field of the unit that fired, listed strongest first and, with
 * --out, laid out as a PNG grid in the same order (left to right, top to bottom).
 */
import path from 'node:path';
import { receptiveField } from '../engine/dataset/receptiveField';
import { cropToTile, fieldInImage, tileGrid, topActivations, type PixelRect } from '../engine/dataset/topPatches';
import { outputShapes } from '../engine/explain/targetLayer';
import type { PreprocessingSettings } from '../engine/preprocess';
import { encodePng } from '../node/pngFile';
import { analyseFiles, className, decode, listImages, requireLayer, terminalProgress } from './imageFolder';
import { openModel, type OpenedModel } from './modelFiles';
import { checkOutput, writeOutput } from './outputFile';
import { jsonText } from './terminalText';
import { textTable } from './textTable';
import { InputError } from './usage';
import { limitsOf, type Limits } from '../engine/limits';

export interface TopPatchesOptions {
  layer: string;
  channel: number;
  n: number;
  out?: string;
  json: boolean;
  settings: PreprocessingSettings;
  limits?: Partial<Limits>;
  /** Replace an existing --out file (never the model's files or an image). */
  force?: boolean;
}

export interface PatchRow {
  rank: number;
  /** Relative to the folder, with '/' separators. */
  file: string;
  /** The channel's activation at its strongest unit in this image. */
  value: number;
  /** That unit's position in the layer's output. */
  unit: { x: number; y: number };
  /** The unit's receptive field in the image's own pixels; right and bottom exclusive. */
  patch: PixelRect;
  label: string | null;
  predicted: string;
}

/** Grid tiles are this many pixels square (patches are scaled to fit, nearest pixel). */
const TILE = 64;

export async function topPatchesCommand(modelFile: string, folder: string, options: TopPatchesOptions): Promise<string> {
  const images = await listImages(folder);
  const opened = await openModel(modelFile, options.settings, options.limits);
  const terminal = terminalProgress();
  try {
    checkLayer(opened, modelFile, options.layer, options.channel);
    const files = images.map((entry) => path.join(folder, entry.path));
    // Before the folder is read, so a refused file costs no waiting.
    if (options.out)
      await checkOutput(options.out, '--out', {
        force: options.force === true,
        reads: [...opened.filesRead, ...files.map((file) => ({ file, role: 'an input image' }))],
      });
    const { peaks, predicted } = await analyseFiles(
      opened,
      modelFile,
      files,
      options.layer,
      terminal.progress(`Reading ${files.length} images`),
      options.layer,
    );
    terminal.done();
    const { width, height } = opened.input.preprocessing;
    const field = receptiveField(opened.model, options.layer, [height, width]);
    const top = topActivations(peaks!, options.channel, options.n);
    const rows: PatchRow[] = [];
    const tiles = [];
    for (const [i, unit] of top.entries()) {
      const image = await decode(files[unit.image], limitsOf(opened.source).imagePixels);
      const patch = fieldInImage(field, unit.y, unit.x, image);
      tiles.push(cropToTile(image, patch, TILE));
      const entry = images[unit.image];
      rows.push({
        rank: i + 1,
        file: entry.path,
        value: unit.value,
        unit: { x: unit.x, y: unit.y },
        patch,
        label: entry.label ?? null,
        predicted: className(opened, predicted[unit.image]),
      });
    }
    if (options.out)
      await writeOutput(options.out, encodePng(tileGrid(tiles, Math.ceil(Math.sqrt(tiles.length)))), '--out', options.force === true);
    const fieldText =
      field.kind === 'local' ? `${field.rows.size}×${field.columns.size} input pixels` : `the whole image (${field.reason})`;
    if (options.json)
      return jsonText(
        { layer: options.layer, channel: options.channel, receptiveField: fieldText, grid: options.out ?? null, patches: rows },
        2,
      );
    return [
      `${options.layer} channel ${options.channel}: the ${rows.length} strongest of ${images.length} images; each unit sees ${fieldText}`,
      ...table(rows),
      ...(options.out ? [`Grid (${rows.length} patches, strongest first, left to right): ${options.out}`] : []),
    ].join('\n');
  } finally {
    terminal.done();
    opened.model.dispose();
  }
}

/** The layer must exist and have height, width and channels; the channel must be one of them. */
function checkLayer(opened: OpenedModel, modelFile: string, layer: string, channel: number): void {
  requireLayer(opened, modelFile, layer);
  const name = path.basename(modelFile);
  const shape = outputShapes(opened.model).get(layer);
  if (shape && shape.length !== 4) {
    throw new InputError(
      `${name}: layer "${layer}" has output shape (${shape.map((d) => d ?? 'None').join(', ')}); top patches need a layer with height, width and channels`,
    );
  }
  const channels = shape?.[3];
  if (channels && channel >= channels)
    throw new InputError(`${name}: layer "${layer}" has channels 0 to ${channels - 1}; there is no channel ${channel}`);
}

function table(rows: PatchRow[]): string[] {
  const header = ['Rank', 'File', 'Value', 'Patch (x, y)', 'Label', 'Predicted'];
  const cells = rows.map((row) => [
    String(row.rank),
    row.file,
    row.value.toPrecision(4),
    `${row.patch.left}–${row.patch.right}, ${row.patch.top}–${row.patch.bottom}`,
    row.label ?? '-',
    row.predicted,
  ]);
  return textTable(header, cells, new Set([0, 2]));
}
