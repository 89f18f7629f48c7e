/**
 * `convlens_analyzeFolder`: a folder of images through the model. With one subfolder per class (named
 * as the model's classes, or by class number) it reports the accuracy, the confusions and the most
 * confident mistakes; without, what the model predicts across the folder.
 */
import * as vscode from 'vscode';
import * as tf from '@tensorflow/tfjs-core';
import { confusionMatrix } from '../engine/dataset/confusion';
import { askingAhead } from '../engine/dataset/askingAhead';
import { analyseFolder, folderBatchSize } from '../engine/dataset/features';
import { matchLabels } from '../engine/dataset/imageFolder';
import type { OpenedModel } from '../engine/openModel';
import { imagesToInput, type RgbaImage } from '../engine/preprocess';
import { imageUri, listFolderImages } from '../panels/analyze/folderImages';
import { NativePass } from '../panels/analyze/nativePass';
import { baseName } from '../panels/common/workspaceModelSource';
import type { FolderEntry } from '../shared/analyzeProtocol';
import { asToolError, openWorkspaceModel, progressOf, readWorkspaceImage, ToolInputError, workspacePath, workspaceUri } from './toolInputs';

const DEFAULT_MISTAKES = 5;
const MAX_MISTAKES = 50;
/** Confusions (true → predicted pairs) listed, most frequent first. */
const LISTED_CONFUSIONS = 10;

export interface AnalyzeFolderInput {
  model: string;
  folder: string;
  mistakes?: number;
}

export class AnalyzeFolderTool implements vscode.LanguageModelTool<AnalyzeFolderInput> {
  async prepareInvocation(
    options: vscode.LanguageModelToolInvocationPrepareOptions<AnalyzeFolderInput>,
  ): Promise<vscode.PreparedToolInvocation> {
    const { model, folder } = options.input;
    // The count is what makes the question worth asking; a folder that cannot be listed is reported by invoke.
    const uri = await workspaceUri(folder, 'folder').catch(() => undefined);
    const images = uri ? await listFolderImages(uri).catch(() => undefined) : undefined;
    const what = images
      ? `${images.length} image${images.length === 1 ? '' : 's'} in ${String(folder)}`
      : `the images in ${String(folder)}`;
    return {
      invocationMessage: `Analysing ${what} with ${String(model)}`,
      confirmationMessages: {
        title: 'Analyse a folder of images?',
        message: `ConvLens will run ${String(model)} over ${what}; a large folder can take minutes.`,
      },
    };
  }

  async invoke(
    options: vscode.LanguageModelToolInvocationOptions<AnalyzeFolderInput>,
    token: vscode.CancellationToken,
  ): Promise<vscode.LanguageModelToolResult> {
    const { mistakes: shown = DEFAULT_MISTAKES } = options.input;
    if (!Number.isInteger(shown) || shown < 0 || shown > MAX_MISTAKES)
      throw new ToolInputError(`mistakes must be a whole number from 0 to ${MAX_MISTAKES}.`);
    const folder = await workspaceUri(options.input.folder, 'folder');
    if (!((await vscode.workspace.fs.stat(folder)).type & vscode.FileType.Directory)) {
      throw new ToolInputError(`${options.input.folder} is not a folder.`);
    }
    const images = await listFolderImages(folder);
    if (images.length === 0) throw new ToolInputError(`${options.input.folder} has no images (png, jpeg, bmp, gif or webp).`);
    const modelUri = await workspaceUri(options.input.model, 'model');
    const opened = await openWorkspaceModel(modelUri);
    try {
      const features = await runFolder(opened, modelUri, folder, images, token).catch((error: unknown) => {
        throw asToolError(error, baseName(modelUri));
      });
      return new vscode.LanguageModelToolResult([
        new vscode.LanguageModelTextPart(
          report(opened, workspacePath(folder), images, features.predicted, features.confidence, shown).join('\n'),
        ),
      ]);
    } finally {
      opened.model.dispose();
    }
  }
}

/**
 * Predictions for every image, in batches decoded only when needed; cancellable between batches. An ONNX
 * model on the host's disk runs on ONNX Runtime in worker threads (the Analyze panel's native pass), the
 * extension host's own thread staying free; other models on TensorFlow.js here.
 */
async function runFolder(
  opened: OpenedModel,
  modelUri: vscode.Uri,
  folder: vscode.Uri,
  images: readonly FolderEntry[],
  token: vscode.CancellationToken,
) {
  const { preprocessing } = opened.input;
  // Only the predictions are reported: the output itself serves as the (tiny) feature.
  const featureLayer = opened.model.outputs[0];
  const pass = { count: images.length, featureLayer, progress: progressOf(token) };
  const native = new NativePass(modelUri, folder);
  try {
    if (native.offered(images) && (await native.open()) === undefined) {
      const batches = askingAhead(images.length, 2, (start, end) =>
        native.summarise(images.slice(start, end), { preprocessing, featureLayer }),
      );
      return await analyseFolder(opened.model, {
        ...pass,
        summarise: async (start, end) => {
          const { summary, problems } = await batches(start, end);
          if (problems.length) throw new ToolInputError(problems[0][1]);
          return summary;
        },
        batchSize: folderBatchSize('native', preprocessing.width * preprocessing.height),
      });
    }
  } finally {
    native.dispose();
  }
  const loadBatch = async (start: number, end: number): Promise<tf.Tensor4D> => {
    const pixels: RgbaImage[] = [];
    for (const image of images.slice(start, end)) pixels.push(await readWorkspaceImage(imageUri(folder, image.path), opened));
    return imagesToInput(pixels, preprocessing);
  };
  return analyseFolder(opened.model, {
    ...pass,
    loadBatch,
    batchSize: folderBatchSize(tf.getBackend(), preprocessing.width * preprocessing.height),
  });
}

function report(
  opened: OpenedModel,
  folderName: string,
  images: readonly FolderEntry[],
  predicted: Int32Array,
  confidence: Float32Array,
  shown: number,
): string[] {
  const names = opened.labels?.names;
  const count = Math.max(opened.classCount, ...predicted) + 1;
  const nameOf = (index: number) => names?.[index] ?? `class ${index}`;
  const percent = (v: number) => `${(100 * v).toFixed(1)}%`;
  const lines = [`${images.length} image${images.length === 1 ? '' : 's'} in ${folderName}.`];

  const folderLabels = images.map((image) => image.label).filter((label): label is string => label !== undefined);
  const matched = matchLabels(folderLabels, names, opened.classCount);
  const truth = images.map((image) => (image.label === undefined ? -1 : (matched.get(image.label) ?? -1)));
  const labelled = truth.filter((t) => t >= 0).length;
  const unmatched = [...matched].filter(([, index]) => index === undefined).map(([label]) => label);
  if (unmatched.length)
    lines.push(`Subfolders that name no class of the model (their images are left out of the accuracy): ${unmatched.join(', ')}.`);

  if (labelled === 0) {
    lines.push('No subfolder names a class of the model, so there is no accuracy; what the model predicts:');
    const counts = new Map<number, number>();
    for (const p of predicted) counts.set(p, (counts.get(p) ?? 0) + 1);
    for (const [index, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, LISTED_CONFUSIONS)) {
      lines.push(`  ${nameOf(index)} (class ${index}): ${n} image${n === 1 ? '' : 's'}`);
    }
    lines.push('Each image:');
    images.forEach((image, i) => lines.push(`  ${image.path}: ${nameOf(predicted[i])} (class ${predicted[i]}), ${percent(confidence[i])}`));
    return lines;
  }

  const confusion = confusionMatrix(truth, predicted, confidence, count);
  lines.push(
    `Accuracy: ${percent(confusion.accuracy)} (${Math.round(confusion.accuracy * labelled)} of ${labelled} labelled images right).`,
  );
  const pairs: { truth: number; predicted: number; n: number }[] = [];
  for (const t of confusion.present) {
    for (let p = 0; p < count; p++) {
      const n = confusion.matrix[t * count + p];
      if (n > 0 && p !== t) pairs.push({ truth: t, predicted: p, n });
    }
  }
  if (pairs.length) {
    lines.push('Confusions (true class → predicted class: images), most frequent first:');
    for (const pair of pairs.sort((a, b) => b.n - a.n).slice(0, LISTED_CONFUSIONS)) {
      lines.push(`  ${nameOf(pair.truth)} → ${nameOf(pair.predicted)}: ${pair.n}`);
    }
  }
  lines.push('Per class (right of labelled):');
  for (const t of confusion.present) {
    let total = 0;
    for (let p = 0; p < count; p++) total += confusion.matrix[t * count + p];
    lines.push(`  ${nameOf(t)}: ${confusion.matrix[t * count + t]} of ${total}`);
  }
  if (shown > 0 && confusion.mistakes.length) {
    lines.push(`Most confident mistakes (${Math.min(shown, confusion.mistakes.length)} of ${confusion.mistakes.length}):`);
    for (const m of confusion.mistakes.slice(0, shown)) {
      lines.push(`  ${images[m.index].path}: labelled ${nameOf(m.truth)}, predicted ${nameOf(m.predicted)} with ${percent(m.confidence)}`);
    }
  } else if (confusion.mistakes.length === 0) {
    lines.push('No mistakes.');
  }
  return lines;
}
