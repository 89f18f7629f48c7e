/**
 * `convlens evaluate <model> <image|folder> [--methods m1,m2,…] [--metrics road,deletion,insertion,confidence,randomisation]
 * [--percentiles 10,20,…] [--road-noise 0.01] [--class N] [--layer NAME] [--json out.json] [--force]`, and
 * `convlens evaluate --map map.json <model> <image>`: how faithful each method's maps are to the model
 * (definitions: docs/explanations.md, "Metrics"), averaged over the images, as a table and as JSON.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, singleInput } from '../engine/execute';
import { explain } from '../engine/explain';
import { isMethod, METHOD_LABELS, type Method } from '../engine/explain/methods';
import { limitsOf, type Limits } from '../engine/limits';
import { cascadingRandomisation, confidenceChange, deletionInsertion, road, type ScoreKind } from '../engine/metrics';
import { scoreNode } from '../engine/explain/scores';
import type { PreprocessingSettings } from '../engine/preprocess';
import { listImages, terminalProgress } from './imageFolder';
import { readOneImage } from './inputs';
import { openModel } from './modelFiles';
import { checkOutput, writeOutput } from './outputFile';
import { textTable } from './textTable';
import { jsonText, oneLine } from './terminalText';
import { InputError } from './usage';

export const METRICS = ['road', 'deletion', 'insertion', 'confidence', 'randomisation'] as const;
export type Metric = (typeof METRICS)[number];
export const DEFAULT_METRICS: readonly Metric[] = ['road', 'deletion', 'insertion', 'confidence'];
export const DEFAULT_EVALUATED_METHODS: readonly Method[] = ['gradcam', 'saliency', 'guided'];

export function isMetric(name: string): name is Metric {
  return (METRICS as readonly string[]).includes(name);
}

export interface EvaluateOptions {
  methods: Method[];
  metrics: Metric[];
  percentiles: number[];
  roadNoise: number;
  /** What the metrics compare: the class probability (default) or its logit. */
  score?: ScoreKind;
  classIndex?: number;
  layer?: string;
  /** A map written by `convlens explain --json`, scored instead of computing maps. */
  map?: string;
  json?: string;
  force?: boolean;
  settings: PreprocessingSettings;
  limits?: Partial<Limits>;
}

interface RandomisationSummary {
  layers: string[];
  spearman: number[];
  ssim: number[];
  top_k_intersection: number[];
}

/** Per method: each metric's values, one per image, averaged at the end. */
interface Accumulator {
  road_morf: number[];
  road_lerf: number[];
  road_combined: number[];
  deletion_auc: number[];
  insertion_auc: number[];
  confidence_change: number[];
  drop: number[];
  increased: number[];
  randomisation?: { layers: string[]; spearman: number[][]; ssim: number[][]; topK: number[][] };
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** A map file as `convlens explain --json` writes it: {method, class, width, height, map: rows}. */
async function readMapFile(
  file: string,
  width: number,
  height: number,
): Promise<{ name: string; classIndex?: number; values: Float32Array }> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new InputError(`${file}: no such file`);
  if (info.size > 64 * 1024 * 1024) throw new InputError(`${file} is larger than the 64 MB a map file may have`);
  let record: { method?: unknown; class?: unknown; width?: unknown; height?: unknown; map?: unknown };
  try {
    record = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new InputError(`${file} is not JSON`);
  }
  const rows = record?.map;
  if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row) && row.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
    throw new InputError(`${file} has no "map": rows of numbers, as convlens explain --json writes`);
  }
  const mapHeight = rows.length;
  const mapWidth = (rows[0] as number[] | undefined)?.length ?? 0;
  if (!rows.every((row: number[]) => row.length === mapWidth)) throw new InputError(`${file}: the rows of "map" differ in length`);
  if (mapWidth !== width || mapHeight !== height) {
    throw new InputError(`${file} holds a ${mapWidth}×${mapHeight} map, but the model's input is ${width}×${height}`);
  }
  const values = Float32Array.from((rows as number[][]).flat());
  if (values.some((v) => v < 0 || v > 1)) throw new InputError(`${file}: map values must be between 0 and 1`);
  const name = typeof record.method === 'string' && record.method.length > 0 ? record.method : path.basename(file);
  const classIndex = Number.isInteger(record.class) && (record.class as number) >= 0 ? (record.class as number) : undefined;
  return { name, classIndex, values };
}

export async function evaluateCommand(modelFile: string, inputPath: string, options: EvaluateOptions): Promise<string> {
  const inputInfo = await stat(inputPath).catch(() => undefined);
  if (!inputInfo) throw new InputError(`${inputPath}: no such file or folder`);
  const files = inputInfo.isDirectory() ? (await listImages(inputPath)).map((image) => path.join(inputPath, image.path)) : [inputPath];
  if (options.map && files.length !== 1) throw new InputError('--map scores one map: give the one image it was made for, not a folder');
  const opened = await openModel(modelFile, options.settings, options.limits);
  const { model } = opened;
  const maxPixels = limitsOf(opened.source).imagePixels;
  const terminal = terminalProgress();
  try {
    const rules = {
      force: options.force === true,
      reads: [
        ...opened.filesRead,
        ...files.map((file) => ({ file, role: 'an input' })),
        ...(options.map ? [{ file: options.map, role: 'the map' }] : []),
      ],
    };
    if (options.json) await checkOutput(options.json, '--json', rules);
    if (options.layer !== undefined && !model.nodes.some((node) => node.id === options.layer)) {
      throw new InputError(
        `${path.basename(modelFile)} has no layer "${options.layer}" (list its layers with: convlens summary ${modelFile})`,
      );
    }
    const fail = (error: Error): never => {
      if (error instanceof InputError || error.name === 'ExplanationCancelled') throw error;
      throw new InputError(`${path.basename(modelFile)}: ${error.message}`);
    };
    const score = options.score ?? 'probability';
    const accumulators = new Map<string, Accumulator>();
    const inputId = model.inputs[0].id;

    for (const [index, file] of files.entries()) {
      const x = await readOneImage(file, model.summary, opened.input.preprocessing, maxPixels, 'evaluation takes');
      try {
        const [, height, width] = x.shape;
        const producers: { name: string; classes: number[]; make: () => Promise<tf.Tensor3D> }[] = [];
        if (options.map) {
          const map = await readMapFile(options.map, width, height);
          const classes = [options.classIndex ?? map.classIndex ?? (await topClass(model, x))];
          producers.push({ name: map.name, classes, make: async () => tf.tensor3d(map.values, [1, height, width]) });
        } else {
          const classes = [options.classIndex ?? (await topClass(model, x))];
          for (const method of options.methods) {
            producers.push({
              name: method,
              classes,
              make: async () => (await explain(model, x, { method, classIndex: classes, layer: options.layer }).catch(fail)).maps,
            });
          }
        }
        for (const producer of producers) {
          const where = `${files.length > 1 ? `image ${index + 1}/${files.length}, ` : ''}${producer.name}`;
          terminal.status(`${where}: map`);
          const acc = accumulators.get(producer.name) ?? emptyAccumulator();
          accumulators.set(producer.name, acc);
          const maps = await producer.make();
          try {
            const { classes } = producer;
            if (options.metrics.includes('road')) {
              const r = await road(model, inputId, x, maps, classes, {
                percentiles: options.percentiles,
                noise: options.roadNoise,
                score,
                progress: terminal.progress(`${where}: ROAD`),
              }).catch(fail);
              acc.road_morf.push(...r.morf);
              acc.road_lerf.push(...r.lerf);
              acc.road_combined.push(...r.combined);
            }
            for (const kind of ['deletion', 'insertion'] as const) {
              if (!options.metrics.includes(kind)) continue;
              const curve = await deletionInsertion(model, inputId, kind, x, maps, classes, {
                score,
                progress: terminal.progress(`${where}: ${kind}`),
              }).catch(fail);
              acc[`${kind}_auc`].push(...curve.auc);
            }
            if (options.metrics.includes('confidence')) {
              const c = await confidenceChange(model, inputId, x, maps, classes, { score }).catch(fail);
              acc.confidence_change.push(...c.change);
              acc.drop.push(...c.drop);
              acc.increased.push(...c.after.map((o, i) => (o > c.before[i] ? 100 : 0)));
            }
          } finally {
            maps.dispose();
          }
          if (options.metrics.includes('randomisation') && !options.map) {
            const method = producer.name as Method;
            const result = await cascadingRandomisation(
              model,
              x,
              {
                [method]: async () =>
                  (await explain(model, x, { method, classIndex: producer.classes, layer: options.layer }).catch(fail)).maps,
              },
              { seed: 0, progress: terminal.progress(`${where}: randomisation`) },
            );
            const steps = result.methods[method].steps;
            acc.randomisation ??= { layers: result.layers, spearman: [], ssim: [], topK: [] };
            acc.randomisation.spearman.push(steps.map((s) => s.spearman[0]));
            acc.randomisation.ssim.push(steps.map((s) => s.ssim[0]));
            acc.randomisation.topK.push(steps.map((s) => s.topK[0]));
          }
        }
      } finally {
        x.dispose();
      }
    }
    terminal.done();

    const methods: Record<string, Record<string, number | RandomisationSummary>> = {};
    for (const [name, acc] of accumulators) methods[name] = summary(acc);
    const written: string[] = [];
    if (options.json) {
      const record = {
        images: files.length,
        score,
        metrics: options.metrics,
        percentiles: options.percentiles,
        road_noise: options.roadNoise,
        methods,
      };
      await writeOutput(options.json, jsonText(record), '--json', options.force === true);
      written.push(options.json);
    }
    return [...report(methods, files.length, score), ...written.map((file) => `wrote ${file}`)].join('\n');
  } finally {
    terminal.done();
    model.dispose();
  }
}

async function topClass(model: Parameters<typeof singleInput>[0], x: tf.Tensor4D): Promise<number> {
  const [output] = runGraph(model, singleInput(model, x), [scoreNode(model)]);
  try {
    const flat = tf.tidy(() => {
      const rows = tf.reshape(output, [1, -1]);
      return rows.shape[1] === 1 ? tf.concat([tf.neg(rows), rows], 1) : rows;
    });
    const top = tf.argMax(flat, 1);
    const value = (await top.data())[0];
    tf.dispose([flat, top]);
    return value;
  } finally {
    output.dispose();
  }
}

function emptyAccumulator(): Accumulator {
  return {
    road_morf: [],
    road_lerf: [],
    road_combined: [],
    deletion_auc: [],
    insertion_auc: [],
    confidence_change: [],
    drop: [],
    increased: [],
  };
}

/** The JSON of one method: each metric averaged over the images. */
function summary(acc: Accumulator): Record<string, number | RandomisationSummary> {
  const out: Record<string, number | RandomisationSummary> = {};
  const put = (key: string, values: number[]) => {
    if (values.length) out[key] = Number(mean(values).toPrecision(6));
  };
  put('road_morf', acc.road_morf);
  put('road_lerf', acc.road_lerf);
  put('road_combined', acc.road_combined);
  put('deletion_auc', acc.deletion_auc);
  put('insertion_auc', acc.insertion_auc);
  put('confidence_change', acc.confidence_change);
  put('average_drop', acc.drop);
  put('increase_in_confidence', acc.increased);
  if (acc.randomisation) {
    const r = acc.randomisation;
    const column = (rows: number[][]) => r.layers.map((_, i) => Number(mean(rows.map((row) => row[i])).toPrecision(6)));
    out.randomisation = { layers: r.layers, spearman: column(r.spearman), ssim: column(r.ssim), top_k_intersection: column(r.topK) };
  }
  return out;
}

const COLUMNS: [string, string][] = [
  ['road_morf', 'ROAD MoRF'],
  ['road_lerf', 'ROAD LeRF'],
  ['road_combined', 'ROAD combined'],
  ['deletion_auc', 'deletion AUC'],
  ['insertion_auc', 'insertion AUC'],
  ['average_drop', 'avg drop %'],
  ['increase_in_confidence', 'increase %'],
];

function report(methods: Record<string, Record<string, number | RandomisationSummary>>, images: number, score: ScoreKind): string[] {
  const names = Object.keys(methods);
  const label = (name: string) => (isMethod(name) ? METHOD_LABELS[name] : oneLine(name));
  const columns = COLUMNS.filter(([key]) => names.some((name) => typeof methods[name][key] === 'number'));
  const lines = [
    `${images} image${images === 1 ? '' : 's'}; scores are class ${score === 'logit' ? 'logits' : 'probabilities'} (docs/explanations.md, "Metrics")`,
  ];
  if (columns.length) {
    const rows = names.map((name) => [
      label(name),
      ...columns.map(([key]) => {
        const value = methods[name][key];
        return typeof value === 'number' ? value.toFixed(key === 'average_drop' || key === 'increase_in_confidence' ? 1 : 4) : '—';
      }),
    ]);
    lines.push('', ...textTable(['method', ...columns.map(([, title]) => title)], rows, new Set(columns.map((_, i) => i + 1))));
  }
  const randomised = names.filter((name) => methods[name].randomisation);
  if (randomised.length) {
    const layers = (methods[randomised[0]].randomisation as RandomisationSummary).layers;
    lines.push('', 'Cascading randomisation, Spearman rank correlation with the original map (layers randomised from the output down):');
    const rows = randomised.map((name) => [
      label(name),
      ...(methods[name].randomisation as RandomisationSummary).spearman.map((v) => v.toFixed(3)),
    ]);
    lines.push(...textTable(['method', ...layers.map((layer) => `+${layer}`)], rows, new Set(layers.map((_, i) => i + 1))));
  }
  return lines;
}
