/**
 * The `convlens` command line: the extension's engine in Node, on TensorFlow.js's WebAssembly backend
 * (the CPU backend where WebAssembly cannot start, said on stderr).
 * Exit codes: 0 ok, 1 a file cannot be read or run, 2 wrong usage. Errors are one line, never a stack.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EMBEDDING_METHODS, isEmbeddingMethod } from '../engine/dataset/embedding';
import { ModelReadError } from '../engine/errors';
import { limitsFromUserUnits, type Limits } from '../engine/limits';
import { METHODS, isMethod } from '../engine/explain/methods';
import { DEFAULT_PERCENTILES, DEFAULT_ROAD_NOISE } from '../engine/metrics';
import { applySettings, type PreprocessingSettings } from '../engine/preprocess';
import { COLORMAPS, isColormap } from '../engine/render/colormaps';
import { embedCommand } from './embedCommand';
import { DEFAULT_EVALUATED_METHODS, DEFAULT_METRICS, type EvaluateOptions, evaluateCommand, isMetric, METRICS } from './evaluateCommand';
import { type ExplainOptions, explainCommand } from './explainCommand';
import { parseTargetOption } from './targetOption';
import { neighboursCommand } from './neighboursCommand';
import { useNodeBackend } from '../node/tfBackend';
import { useImputationThread } from '../node/imputationThread';
import { loadOnnxRuntime } from '../node/onnxRuntime';
import { setNativeRuntime } from '../engine/nativeForward';
import { predictCommand } from './predictCommand';
import { projectCommand } from './projectCommand';
import { segmentCommand } from './segmentCommand';
import { summaryCommand } from './summaryCommand';
import { terminalText, oneLine } from './terminalText';
import { topPatchesCommand } from './topPatchesCommand';
import { InputError, USAGE, UsageError } from './usage';

/** What every command takes: the limits a user may raise for a file they trust (engine/limits.ts). */
const LIMITS = { 'max-model-mb': { type: 'string' }, 'max-image-megapixels': { type: 'string' } } as const;

const PREPROCESSING = {
  ...LIMITS,
  size: { type: 'string' },
  scale: { type: 'string' },
  channels: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Each command's options: `--json` is a switch for tables, a file name for maps. */
const COMMAND_OPTIONS = {
  summary: { json: { type: 'boolean' }, help: PREPROCESSING.help, ...LIMITS },
  predict: { ...PREPROCESSING, json: { type: 'boolean' }, top: { type: 'string' }, timing: { type: 'boolean' } },
  explain: {
    ...PREPROCESSING,
    json: { type: 'string' },
    method: { type: 'string' },
    layer: { type: 'string' },
    class: { type: 'string' },
    target: { type: 'string' },
    out: { type: 'string' },
    colormap: { type: 'string' },
    alpha: { type: 'string' },
    timing: { type: 'boolean' },
    force: { type: 'boolean' },
    'aug-smooth': { type: 'boolean' },
    'eigen-smooth': { type: 'boolean' },
  },
  evaluate: {
    ...PREPROCESSING,
    json: { type: 'string' },
    methods: { type: 'string' },
    metrics: { type: 'string' },
    percentiles: { type: 'string' },
    'road-noise': { type: 'string' },
    score: { type: 'string' },
    class: { type: 'string' },
    layer: { type: 'string' },
    map: { type: 'string' },
    force: { type: 'boolean' },
  },
  embed: { ...PREPROCESSING, json: { type: 'string' }, method: { type: 'string' }, layer: { type: 'string' }, force: { type: 'boolean' } },
  neighbours: { ...PREPROCESSING, json: { type: 'boolean' }, k: { type: 'string' }, layer: { type: 'string' } },
  segment: {
    ...PREPROCESSING,
    method: { type: 'string' },
    layer: { type: 'string' },
    class: { type: 'string' },
    out: { type: 'string' },
    'threshold-only': { type: 'boolean' },
    force: { type: 'boolean' },
  },
  project: {
    ...PREPROCESSING,
    layer: { type: 'string' },
    channel: { type: 'string' },
    unit: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  },
  'top-patches': {
    ...PREPROCESSING,
    json: { type: 'boolean' },
    layer: { type: 'string' },
    channel: { type: 'string' },
    n: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  },
} as const;

/** What a command prints: names in it come from models and folders, so no escape sequence gets through. */
export async function run(argv: string[]): Promise<{ code: number; output: string }> {
  const { code, output } = await outcome(argv);
  return { code, output: terminalText(output) };
}

async function outcome(argv: string[]): Promise<{ code: number; output: string }> {
  try {
    return { code: 0, output: await dispatch(argv) };
  } catch (error) {
    if (error instanceof UsageError) return { code: 2, output: `convlens: ${error.message}\n\n${USAGE}` };
    if (error instanceof ModelReadError || error instanceof InputError) return { code: 1, output: `convlens: ${oneLine(error.message)}` };
    const message = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    return { code: 1, output: `convlens: ${message}` };
  }
}

/** Rejects unknown preprocessing values before any file is read. */
function checkSettings(settings: PreprocessingSettings): void {
  try {
    applySettings({ width: 1, height: 1, scale: '0-1', channels: 'rgb' }, settings, 'option');
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^option: /, '--'));
  }
}

/** --max-model-mb and --max-image-megapixels, each a positive number. */
function limitsOption(values: Record<string, string | boolean | undefined>): Partial<Limits> {
  const units: Record<string, number> = {};
  for (const [flag, unit] of [
    ['max-model-mb', 'modelMegabytes'],
    ['max-image-megapixels', 'imageMegapixels'],
  ] as const) {
    if (values[flag] === undefined) continue;
    const value = Number(values[flag]);
    if (!(value > 0 && Number.isFinite(value))) throw new UsageError(`--${flag} must be a positive number (got "${values[flag]}")`);
    units[unit] = value;
  }
  return limitsFromUserUnits(units);
}

function explainOptions(values: Record<string, string | boolean | undefined>, settings: PreprocessingSettings): ExplainOptions {
  const method = String(values.method ?? '');
  if (!isMethod(method)) throw new UsageError(`--method must be one of ${METHODS.join(' ')}${values.method ? ` (got "${method}")` : ''}`);
  const classIndex = values.class === undefined ? undefined : Number(values.class);
  if (classIndex !== undefined && (!Number.isInteger(classIndex) || classIndex < 0))
    throw new UsageError(`--class must be a class number (got "${values.class}")`);
  if (values.class !== undefined && values.target !== undefined) throw new UsageError('give --class or --target, not both');
  const target = values.target === undefined ? undefined : parseTargetOption(String(values.target));
  const colormap = String(values.colormap ?? 'jet');
  if (!isColormap(colormap)) throw new UsageError(`--colormap must be one of ${COLORMAPS.join(', ')} (got "${colormap}")`);
  const alpha = values.alpha === undefined ? 0.5 : Number(values.alpha);
  if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`--alpha must be between 0 and 1 (got "${values.alpha}")`);
  if (typeof values.out === 'string' && typeof values.json === 'string' && path.resolve(values.out) === path.resolve(values.json)) {
    throw new UsageError('--out and --json name the same file');
  }
  return {
    method,
    layer: values.layer as string | undefined,
    classIndex,
    target,
    out: values.out as string | undefined,
    json: values.json as string | undefined,
    colormap,
    alpha,
    settings,
    timing: values.timing === true,
    force: values.force === true,
    augSmooth: values['aug-smooth'] === true,
    eigenSmooth: values['eigen-smooth'] === true,
  };
}

/** A comma-separated list option: its items, each checked. */
function listOption(value: string | boolean | undefined, flag: string, valid: readonly string[]): string[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  const bad = items.find((item) => !valid.includes(item));
  if (bad !== undefined || items.length === 0)
    throw new UsageError(`--${flag} takes a comma-separated list of ${valid.join(' ')}${bad === undefined ? '' : ` (got "${bad}")`}`);
  return [...new Set(items)];
}

function evaluateOptions(values: Record<string, string | boolean | undefined>, settings: PreprocessingSettings): EvaluateOptions {
  const map = values.map as string | undefined;
  if (map !== undefined && values.methods !== undefined) throw new UsageError('--map scores the map it is given: leave out --methods');
  const methods = (listOption(values.methods, 'methods', METHODS) ?? [...DEFAULT_EVALUATED_METHODS]).filter(isMethod);
  const metrics = (listOption(values.metrics, 'metrics', METRICS) ?? [...DEFAULT_METRICS]).filter(isMetric);
  if (map !== undefined && metrics.includes('randomisation'))
    throw new UsageError('randomisation recomputes the map on a changed model, so it cannot score a --map; leave it out of --metrics');
  let percentiles = [...DEFAULT_PERCENTILES];
  if (values.percentiles !== undefined) {
    percentiles = String(values.percentiles)
      .split(',')
      .map((p) => Number(p.trim()));
    if (percentiles.some((p) => !(p > 0 && p < 100)))
      throw new UsageError(`--percentiles takes numbers between 0 and 100, such as 10,20,30 (got "${values.percentiles}")`);
  }
  const roadNoise = values['road-noise'] === undefined ? DEFAULT_ROAD_NOISE : Number(values['road-noise']);
  if (!(roadNoise >= 0 && Number.isFinite(roadNoise)))
    throw new UsageError(`--road-noise must be a number of 0 or more (got "${values['road-noise']}")`);
  const score = values.score === undefined ? 'probability' : String(values.score);
  if (score !== 'probability' && score !== 'logit') throw new UsageError(`--score must be probability or logit (got "${score}")`);
  const classIndex = values.class === undefined ? undefined : Number(values.class);
  if (classIndex !== undefined && (!Number.isInteger(classIndex) || classIndex < 0))
    throw new UsageError(`--class must be a class number (got "${values.class}")`);
  if (typeof values.json === 'string' && map !== undefined && path.resolve(values.json) === path.resolve(map))
    throw new UsageError('--map and --json name the same file');
  return {
    methods,
    metrics,
    percentiles,
    roadNoise,
    score,
    classIndex,
    layer: values.layer as string | undefined,
    map,
    json: values.json as string | undefined,
    force: values.force === true,
    settings,
  };
}

async function dispatch(argv: string[]): Promise<string> {
  const command = argv.find((arg) => !arg.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h') || command === 'help') return USAGE;
  if (!command) throw new UsageError('no command given');
  if (!(command in COMMAND_OPTIONS)) throw new UsageError(`unknown command "${command}"`);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: COMMAND_OPTIONS[command as keyof typeof COMMAND_OPTIONS],
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const rest = parsed.positionals.slice(1);
  const settings: PreprocessingSettings = {};
  for (const key of ['size', 'scale', 'channels'] as const) if (typeof values[key] === 'string') settings[key] = values[key] as string;
  checkSettings(settings);
  const limits = limitsOption(values);

  const { fallbackReason } = await useNodeBackend();
  if (fallbackReason) process.stderr.write(`convlens: ${fallbackReason}; running on the slower CPU backend\n`);
  useImputationThread();
  // Forward passes of ONNX models on ONNX Runtime's native kernels where it loads (CONVLENS_NATIVE=off: TensorFlow.js alone).
  if (process.env.CONVLENS_NATIVE !== 'off' && process.env.CONVLENS_BACKEND !== 'cpu') setNativeRuntime(await loadOnnxRuntime());
  switch (command) {
    case 'summary':
      if (rest.length !== 1) throw new UsageError('summary takes one model file');
      return summaryCommand(rest[0], values.json === true, limits);
    case 'predict': {
      if (rest.length < 2) throw new UsageError('predict takes a model file and at least one input');
      const top = values.top === undefined ? 5 : Number(values.top);
      if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a positive whole number (got "${values.top}")`);
      return predictCommand(rest[0], rest.slice(1), top, values.json === true, settings, values.timing === true, limits);
    }
    case 'evaluate': {
      if (rest.length !== 2) throw new UsageError('evaluate takes a model file and an image or a folder of images');
      return evaluateCommand(rest[0], rest[1], { ...evaluateOptions(values, settings), limits });
    }
    case 'embed': {
      if (rest.length !== 2) throw new UsageError('embed takes a model file and a folder of images');
      const method = String(values.method ?? '');
      if (!isEmbeddingMethod(method))
        throw new UsageError(`--method must be one of ${EMBEDDING_METHODS.join(' ')}${values.method ? ` (got "${method}")` : ''}`);
      return embedCommand(rest[0], rest[1], {
        method,
        layer: values.layer as string | undefined,
        json: values.json as string | undefined,
        settings,
        force: values.force === true,
        limits,
      });
    }
    case 'neighbours': {
      if (rest.length !== 3) throw new UsageError('neighbours takes a model file, a folder of images and one image');
      const k = values.k === undefined ? 5 : Number(values.k);
      if (!Number.isInteger(k) || k < 1) throw new UsageError(`--k must be a positive whole number (got "${values.k}")`);
      return neighboursCommand(rest[0], rest[1], rest[2], {
        k,
        layer: values.layer as string | undefined,
        json: values.json === true,
        settings,
        limits,
      });
    }
    case 'segment': {
      if (rest.length !== 2) throw new UsageError('segment takes a model file and one image');
      const method = String(values.method ?? 'gradcam');
      if (!isMethod(method)) throw new UsageError(`--method must be one of ${METHODS.join(' ')} (got "${method}")`);
      const classIndex = values.class === undefined ? undefined : Number(values.class);
      if (classIndex !== undefined && (!Number.isInteger(classIndex) || classIndex < 0))
        throw new UsageError(`--class must be a class number (got "${values.class}")`);
      return segmentCommand(rest[0], rest[1], {
        method,
        layer: values.layer as string | undefined,
        classIndex,
        out: values.out as string | undefined,
        thresholdOnly: values['threshold-only'] === true,
        settings,
        force: values.force === true,
        limits,
      });
    }
    case 'project': {
      if (rest.length !== 2) throw new UsageError('project takes a model file and one image');
      if (typeof values.layer !== 'string') throw new UsageError('project needs --layer NAME (a layer with height, width and channels)');
      const channel = Number(values.channel);
      if (values.channel === undefined || !Number.isInteger(channel) || channel < 0)
        throw new UsageError(`--channel must be a channel number${values.channel === undefined ? '' : ` (got "${values.channel}")`}`);
      const unit = String(values.unit ?? 'max');
      if (unit !== 'max' && unit !== 'sum') throw new UsageError(`--unit must be max or sum (got "${unit}")`);
      return projectCommand(rest[0], rest[1], {
        layer: values.layer,
        channel,
        unit,
        out: values.out as string | undefined,
        settings,
        force: values.force === true,
        limits,
      });
    }
    case 'top-patches': {
      if (rest.length !== 2) throw new UsageError('top-patches takes a model file and a folder of images');
      if (typeof values.layer !== 'string')
        throw new UsageError('top-patches needs --layer NAME (a layer with height, width and channels)');
      const channel = Number(values.channel);
      if (values.channel === undefined || !Number.isInteger(channel) || channel < 0)
        throw new UsageError(`--channel must be a channel number${values.channel === undefined ? '' : ` (got "${values.channel}")`}`);
      const n = values.n === undefined ? 16 : Number(values.n);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--n must be a positive whole number (got "${values.n}")`);
      return topPatchesCommand(rest[0], rest[1], {
        layer: values.layer,
        channel,
        n,
        out: values.out as string | undefined,
        json: values.json === true,
        settings,
        force: values.force === true,
        limits,
      });
    }
    default: {
      if (rest.length !== 2) throw new UsageError('explain takes a model file and one input');
      return explainCommand(rest[0], rest[1], { ...explainOptions(values, settings), limits });
    }
  }
}
