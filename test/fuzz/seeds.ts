/** The model files the fuzzer damages: the repository's own fixtures and the team's real models, by format. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, sampleModel, sharedModels } from '../support/paths';

export interface FuzzSeed {
  format: string;
  /** Where it came from, relative to the repository or the shared folder, for the report. */
  label: string;
  fileName: string;
  main: Uint8Array;
  /** Every other file in the model's folder, by name (weight shards, labels, metadata). */
  siblings: Map<string, Uint8Array>;
}

export type SeedSet = 'fixtures' | 'shared' | 'all';

export function formatOf(file: string): string | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.onnx')) return 'ONNX';
  if (lower.endsWith('.h5') || lower.endsWith('.hdf5')) return 'Keras HDF5';
  if (lower.endsWith('.keras')) return 'Keras zip';
  if (path.basename(lower) !== 'model.json') return undefined;
  return /"graph-model"/.test(readFileSync(file, 'utf8')) ? 'TensorFlow.js graph' : 'TensorFlow.js layers';
}

function seedFrom(file: string, label: string): FuzzSeed {
  const folder = path.dirname(file);
  const siblings = new Map<string, Uint8Array>();
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.isFile() && entry.name !== path.basename(file))
      siblings.set(entry.name, new Uint8Array(readFileSync(path.join(folder, entry.name))));
  }
  return { format: formatOf(file)!, label, fileName: path.basename(file), main: new Uint8Array(readFileSync(file)), siblings };
}

function modelFilesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
    );
  return walk(folder)
    .filter((file) => formatOf(file) !== undefined)
    .sort();
}

/** The seeds, grouped in a stable order (a run is replayable only if the order is). */
export function fuzzSeeds(set: SeedSet): FuzzSeed[] {
  const seeds: FuzzSeed[] = [];
  if (set !== 'shared') {
    seeds.push(seedFrom(sampleModel, path.relative(repoRoot, sampleModel)));
    const fixtures = path.join(repoRoot, 'test', 'fixtures');
    for (const file of modelFilesUnder(fixtures)) seeds.push(seedFrom(file, path.relative(repoRoot, file)));
  }
  if (set !== 'fixtures') {
    for (const file of modelFilesUnder(sharedModels)) seeds.push(seedFrom(file, `shared/${path.relative(sharedModels, file)}`));
  }
  return seeds;
}
