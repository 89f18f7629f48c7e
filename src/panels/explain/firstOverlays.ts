/**
 * The Explain panel's first overlays, computed by the extension host while the page starts. A large
 * model's file takes seconds to reach a webview (VS Code carries it in messages: a 47 MB ResNet-18 took
 * 3.4 s in code-server), and the page's start takes as long; the host reads the file from disk and
 * explains the first images in about a second meanwhile, on the same engine. The page shows these
 * overlays until its own model is loaded, then computes its own. Only what is quick and needs no
 * choice: a classifier, a method that runs the network about once, the first few images; and only where
 * the host runs models as fast as a page (Node, not vscode.dev's browser host).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as vscode from 'vscode';
import { singleInput } from '../../engine/execute';
import { explain } from '../../engine/explain';
import { isLongRequest } from '../../engine/explain/methods';
import { targetKindOf } from '../../engine/explain/targets';
import { openModel } from '../../engine/openModel';
import { topPredictions } from '../../engine/predictions';
import { imageToInput } from '../../engine/preprocess';
import { limitsOf } from '../../engine/limits';
import { decodeImageBytes, HOST_RUNS_MODELS } from '../../platform/hostImages';
import { useHostBackend } from '../../platform/tfBackend';
import type { ExplainSettings, FirstOverlays } from '../../shared/explainProtocol';
import { limitsSetting } from '../../settings';
import { readFileBytes, statFile } from '../common/diskFiles';
import { baseName, workspaceModelSource } from '../common/workspaceModelSource';
import { forwardToOutputs } from '../../engine/nativeForward';

/** The images explained ahead: the cards a panel shows first. */
const FIRST_IMAGES = 4;

/**
 * Models up to this size only: the host's thread is busy while the network runs (about a second for a
 * ResNet-50, 100 MB), and a second copy of a larger model's weights is not worth the head start.
 */
const FIRST_MODEL_MAX_BYTES = 128 * 1024 * 1024;

/** The first images' overlays, or undefined where the page is better left to do it (or anything fails: the page says why). */
export async function firstOverlays(
  model: vscode.Uri,
  images: vscode.Uri[],
  settings: ExplainSettings,
): Promise<FirstOverlays | undefined> {
  if (!HOST_RUNS_MODELS || isLongRequest(settings.method)) return undefined;
  try {
    if ((await statFile(model)).size > FIRST_MODEL_MAX_BYTES) return undefined;
    await useHostBackend('wasm');
    const opened = await openModel(workspaceModelSource(model, limitsSetting()));
    try {
      // Segmentation and detection pages show targets to choose from first.
      if (targetKindOf(opened.model) !== 'class') return undefined;
      const maxPixels = limitsOf(opened.source).imagePixels;
      const first = images.slice(0, FIRST_IMAGES);
      const pixels = await Promise.all(first.map(async (uri) => decodeImageBytes(baseName(uri), await readFileBytes(uri), maxPixels)));
      const x = tf.tidy(() => tf.concat(pixels.map((image) => imageToInput(image, opened.input.preprocessing))) as tf.Tensor4D);
      try {
        // As the page ranks them (loadImages.ts).
        const outputs = await forwardToOutputs(opened.model, singleInput(opened.model, x));
        const tops = (await topPredictions(outputs[0], 1, opened.labels?.names).finally(() => tf.dispose(outputs))).map(([top]) => top);
        const explanation = await explain(opened.model, x, { method: settings.method, classIndex: tops.map((top) => top.index) });
        const [, height, width] = explanation.maps.shape;
        const maps = (await explanation.maps.data()) as Float32Array;
        explanation.maps.dispose();
        return {
          method: settings.method,
          layer: explanation.layer,
          overlays: first.map((uri, b) => ({
            name: baseName(uri),
            classIndex: tops[b].index,
            label: tops[b].label,
            probability: tops[b].probability,
            score: explanation.score[b],
            map: maps.slice(b * height * width, (b + 1) * height * width).buffer,
            width,
            height,
          })),
        };
      } finally {
        x.dispose();
      }
    } finally {
      opened.model.dispose();
    }
  } catch {
    return undefined;
  }
}
