/**
 * ConvLens beside PyTorch on the same machine, in the same run: the same seeded torchvision models
 * exported to ONNX (bench/pytorch/export_models.py), the same input photo, the same methods. PyTorch's side
 * (bench/pytorch/side_by_side.py) computes each method as pytorch-grad-cam and Captum do, with one thread
 * and with all cores; ConvLens's side is the engine as the command line runs it: forward passes and
 * gradients on ONNX Runtime with the same thread count (ShapleyCAM's second-order gradient on the
 * WebAssembly backend, one thread). A ratio is
 * ConvLens's median time over PyTorch's: below 1 ConvLens is faster.
 *
 * Python with torch and torchvision (Debian's python3-torch, python3-torchvision) is installed with apt
 * when missing and possible; otherwise the section says why it was skipped.
 *   CONVLENS_BENCH_TORCH_MODELS=resnet18,mobilenet_v2   the models (default: all four)
 *   CONVLENS_BENCH_TORCH_METHODS=forward,gradcam        the methods (default: all)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { forwardPass } from '../src/cli/timing';
import { explain, type ExplainRequest } from '../src/engine/explain';
import type { Method } from '../src/engine/explain/methods';
import type { RunnableModel } from '../src/engine/graph';
import { parseNpy } from '../src/engine/npy';
import { setNativeRuntime, type NativeRuntime } from '../src/engine/nativeForward';
import { loadOnnxRuntime } from '../src/node/onnxRuntime';
import { loadModel } from '../src/engine/readers';
import { fileModelSource } from '../src/node/fileModelSource';
import { hostPassMsPer16, photoFolder } from './hostPass';
import { medianMs, table } from './timing';

export const PYTHON = process.env.CONVLENS_PYTHON ?? '/usr/bin/python3';
export const SCRIPTS = path.join(__dirname, 'pytorch');
const MODELS = ['resnet18', 'resnet50', 'mobilenet_v2', 'efficientnet_b0'];

/** Methods ONNX Runtime runs, at the thread count compared: all but ShapleyCAM's Hessian-vector product. */
const ON_NATIVE_RUNTIME = new Set(['forward', 'batch16', 'scorecam', 'gradcam', 'gradcampp', 'saliency', 'smoothgrad', 'integrated']);

/** The methods compared, by their name on each side; `batch` is the folder pass's throughput. */
const METHODS: { name: string; torch: string; ours?: Method; layer?: 'cam' | 'scorecam'; repeats: number; hostPass?: true }[] = [
  { name: 'forward', torch: 'forward', repeats: 5 },
  { name: 'batch of 16 (images/s)', torch: 'batch16', repeats: 3 },
  // The Analyze panel's pass on the extension host (bench/hostPass.ts) against PyTorch's batches of 16.
  { name: "Analyze's host pass, 224×224 JPEGs (images/s)", torch: 'batch16', repeats: 3, hostPass: true },
  { name: 'Grad-CAM', torch: 'gradcam', ours: 'gradcam', layer: 'cam', repeats: 5 },
  { name: 'Grad-CAM++', torch: 'gradcampp', ours: 'gradcam++', layer: 'cam', repeats: 5 },
  { name: 'ShapleyCAM', torch: 'shapleycam', ours: 'shapleycam', layer: 'cam', repeats: 5 },
  { name: 'Score-CAM', torch: 'scorecam', ours: 'scorecam', layer: 'scorecam', repeats: 1 },
  { name: 'saliency', torch: 'saliency', ours: 'saliency', repeats: 5 },
  { name: 'SmoothGrad (25)', torch: 'smoothgrad', ours: 'smoothgrad', repeats: 1 },
  { name: 'integrated gradients (32)', torch: 'integrated', ours: 'integrated', repeats: 1 },
];

/**
 * The same samples and steps as side_by_side.py. PyTorch runs all of them in one batch and Score-CAM in
 * batches of 16; ConvLens runs the engine's default batches (on WebAssembly a batch costs what its images
 * cost one by one, and 32 MobileNetV2 images at 224×224 outgrow its memory).
 */
const REQUEST: Partial<ExplainRequest> = { smoothGrad: { samples: 25, seed: 1 }, integrated: { steps: 32 } };

interface TorchRun {
  threads: number;
  torch: string;
  results: Record<string, Record<string, number>>;
  layers: Record<string, { cam_onnx: string; scorecam_onnx: string }>;
}

function hasTorch(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch, torchvision, PIL'], { stdio: 'ignore' }).status === 0;
}

/** Installs Debian's PyTorch where it is missing and this process may (root, apt); true when it is there. */
export function ensureTorch(): boolean {
  if (hasTorch()) return true;
  if (process.getuid?.() !== 0) return false;
  console.error('  installing python3-torch and python3-torchvision with apt-get…');
  spawnSync('apt-get', ['install', '-y', '-q', 'python3-torch', 'python3-torchvision', 'python3-pil'], { stdio: 'ignore' });
  return hasTorch();
}

export function torchRun(modelsDir: string, threads: number, models: string[], methods: string[], repeats: number): TorchRun {
  const args = [
    path.join(SCRIPTS, 'side_by_side.py'),
    '--models',
    modelsDir,
    '--threads',
    String(threads),
    '--model',
    models.join(','),
    '--methods',
    methods.join(','),
    '--repeat',
    String(repeats),
  ];
  return JSON.parse(execFileSync(PYTHON, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 })) as TorchRun;
}

/** The input photo, NCHW as exported, as the NHWC tensor ConvLens's engine takes. */
function readInput(modelsDir: string): tf.Tensor4D {
  const { shape, data } = parseNpy(new Uint8Array(readFileSync(path.join(modelsDir, 'input.npy'))));
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** The last node of the module whose ONNX names start with `prefix` (its output). */
function layerNode(model: RunnableModel, prefix: string): string {
  const node = model.nodes.filter((n) => n.id.startsWith(prefix)).pop();
  if (!node) throw new Error(`no node of ${prefix} in the exported model`);
  return node.id;
}

async function oursMs(
  model: RunnableModel,
  input: tf.Tensor4D,
  method: (typeof METHODS)[number],
  layer: string | undefined,
): Promise<number> {
  if (method.torch === 'forward') return medianMs(() => forwardPass(model, input), method.repeats);
  if (method.torch === 'batch16') {
    const batch = tf.tidy(() => tf.tile(input, [16, 1, 1, 1]));
    const ms = await medianMs(() => forwardPass(model, batch), method.repeats);
    batch.dispose();
    return ms;
  }
  const ours = method.ours!;
  return medianMs(async () => {
    const { maps } = await explain(model, input, { ...REQUEST, method: ours, layer });
    await maps.data();
    maps.dispose();
  }, method.repeats);
}

export async function benchSideBySide(modelsDir: string): Promise<string> {
  if (!ensureTorch()) return `Skipped: ${PYTHON} has no torch and torchvision, and apt-get could not install them here.`;
  const models = process.env.CONVLENS_BENCH_TORCH_MODELS?.split(',') ?? MODELS;
  const wanted = process.env.CONVLENS_BENCH_TORCH_METHODS?.split(',');
  const methods = METHODS.filter((m) => !wanted || wanted.includes(m.torch));
  console.error(execFileSync(PYTHON, [path.join(SCRIPTS, 'export_models.py'), '--out', modelsDir], { encoding: 'utf8' }).trim());

  const cores = os.availableParallelism();
  const threadCounts = cores > 1 ? [1, cores] : [1];
  // PyTorch times: [threads][model][method], one script run per repeat count (Score-CAM and the summed
  // gradients take a minute each, so they are run once after the warm-up).
  const torch = new Map<number, TorchRun['results']>();
  let layers: TorchRun['layers'] = {};
  let version = '';
  for (const threads of threadCounts) {
    const results: TorchRun['results'] = {};
    for (const repeats of new Set(methods.map((m) => m.repeats))) {
      const run = torchRun(
        modelsDir,
        threads,
        models,
        methods.filter((m) => m.repeats === repeats).map((m) => m.torch),
        repeats,
      );
      for (const [model, times] of Object.entries(run.results)) results[model] = { ...results[model], ...times };
      layers = run.layers;
      version = run.torch;
    }
    torch.set(threads, results);
  }

  const input = readInput(modelsDir);
  const photos = methods.some((m) => m.hostPass) ? await photoFolder() : undefined;
  const rows: (string | number)[][] = [];
  const nativeRuntimes = new Map<number, NativeRuntime | undefined>();
  for (const threads of threadCounts) nativeRuntimes.set(threads, await loadOnnxRuntime(threads));
  try {
    for (const name of models) {
      // ConvLens at each thread count: ONNX Runtime on that many threads (ShapleyCAM runs on WebAssembly,
      // one thread, either way, so it is timed once).
      const times = new Map<string, number[]>();
      for (const [t, threads] of threadCounts.entries()) {
        setNativeRuntime(nativeRuntimes.get(threads));
        const model = await loadModel(fileModelSource(path.join(modelsDir, `${name}.onnx`)));
        setNativeRuntime(undefined);
        try {
          for (const method of methods) {
            if (t > 0 && !ON_NATIVE_RUNTIME.has(method.torch)) {
              times.get(method.name)!.push(times.get(method.name)![0]);
              continue;
            }
            const layer = method.layer && layerNode(model, layers[name][`${method.layer}_onnx`]);
            const ms = method.hostPass
              ? await hostPassMsPer16(path.join(modelsDir, `${name}.onnx`), model, photos!.folder, threads)
              : await oursMs(model, input, method, layer);
            times.set(method.name, [...(times.get(method.name) ?? []), ms]);
          }
        } finally {
          model.dispose();
        }
      }
      for (const method of methods) {
        const cells = threadCounts.flatMap((threads, t) => {
          const ms = times.get(method.name)![t];
          const theirs = torch.get(threads)![name][method.torch];
          return method.torch === 'batch16'
            ? [(16000 / ms).toFixed(1), (16000 / theirs).toFixed(1), (theirs / ms).toFixed(2)]
            : [ms.toFixed(0), theirs.toFixed(0), (ms / theirs).toFixed(2)];
        });
        const row = [name, method.name, ...cells];
        console.error(`  ${row.join('  ')}`);
        rows.push(row);
      }
    }
  } finally {
    input.dispose();
    photos?.remove();
  }
  const header = [
    'model',
    'method',
    ...threadCounts.flatMap((t) => {
      const count = `${t} thread${t > 1 ? 's' : ''}`;
      return [`ConvLens ${count}`, `PyTorch ${count}`, `ratio at ${t}`];
    }),
  ];
  return [
    `PyTorch ${version} (${PYTHON}), ConvLens on ${tf.getBackend()} and, for forward passes and gradients, ONNX Runtime${nativeRuntimes.get(1) ? '' : ' (not loaded here: TensorFlow.js only)'}; ${os.cpus()[0]?.model ?? 'CPU'}, ${cores} cores. Ratio = ConvLens's time / PyTorch's: below 1, ConvLens is faster; for images/s, ConvLens's images/s / PyTorch's: above 1, ConvLens is faster.`,
    '',
    table(header, rows),
  ].join('\n');
}
