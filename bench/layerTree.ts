/**
 * Time to the layer tree: how long reading a model's summary takes, as a ratio to simply reading the
 * file's bytes (the model file and every weight file beside it that the format needs) in the same run.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readModelSummary } from '../src/engine/readers';
import { fileModelSource } from '../src/node/fileModelSource';
import { writeLargeLayersModel } from './largeModel';
import { medianMs, table } from './timing';

function modelFilesIn(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /(\.h5|\.hdf5|\.keras|\.onnx|model\.json)$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Bytes of the model: the file and the files beside it (weight shards live there). */
function folderBytes(file: string): { files: string[]; bytes: number } {
  const folder = path.dirname(file);
  const files = readdirSync(folder)
    .map((n) => path.join(folder, n))
    .filter((f) => statSync(f).isFile());
  return { files, bytes: files.reduce((s, f) => s + statSync(f).size, 0) };
}

export async function benchLayerTree(sharedModels: string, scratch = os.tmpdir()): Promise<string> {
  const candidates = modelFilesIn(sharedModels)
    .map((file) => ({ file, ...folderBytes(file) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 4);
  const large = writeLargeLayersModel(path.join(scratch, 'convlens-bench-large'), 120);
  candidates.unshift({ file: large, ...folderBytes(large) });

  const rows: (string | number)[][] = [];
  for (const { file, files, bytes } of candidates) {
    const readBytes = await medianMs(() => Promise.all(files.map((f) => readFile(f))), 3);
    let summaryMs: number;
    let layers: number | string;
    try {
      let count = 0;
      summaryMs = await medianMs(async () => {
        count = (await readModelSummary(fileModelSource(file))).layers.length;
      }, 3);
      layers = count;
    } catch (error) {
      rows.push([
        path.basename(path.dirname(file)) + '/' + path.basename(file),
        (bytes / 1e6).toFixed(1),
        '-',
        readBytes.toFixed(1),
        '-',
        (error as Error).message.slice(0, 60),
      ]);
      continue;
    }
    rows.push([
      path.basename(path.dirname(file)) + '/' + path.basename(file),
      (bytes / 1e6).toFixed(1),
      summaryMs.toFixed(1),
      readBytes.toFixed(1),
      (summaryMs / readBytes).toFixed(2),
      layers,
    ]);
  }
  return table(['model', 'MB', 'layer tree ms', 'read bytes ms', 'ratio', 'layers'], rows);
}
