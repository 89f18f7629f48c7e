/**
 * `convlens_explain`: one explanation of an image for a class, as the overlay picture (a PNG in the
 * extension's storage, and an image part where the editor's API has them) and a short text saying
 * where the map puts the evidence (evidenceRegions.ts), so an agent can answer "why a cat?" in words.
 */
import * as vscode from 'vscode';
import * as tf from '@tensorflow/tfjs-core';
import { singleInput } from '../engine/execute';
import { explain } from '../engine/explain';
import { isLongRequest, isMethod, METHOD_LABELS, METHODS, type Method } from '../engine/explain/methods';
import type { OpenedModel } from '../engine/openModel';
import { rankScores } from '../engine/predictions';
import { imageToInput, type RgbaImage } from '../engine/preprocess';
import { overlay } from '../engine/render/overlay';
import { encodePng } from '../node/pngFile';
import { baseName } from '../panels/common/workspaceModelSource';
import { explainSettings } from '../settings';
import { evidenceRegions, placeName, REGION_THRESHOLD, type EvidenceRegion } from './evidenceRegions';
import { imageResultParts } from './imageResult';
import { asToolError, openWorkspaceModel, progressOf, readWorkspaceImage, ToolInputError, workspacePath, workspaceUri } from './toolInputs';
import { forwardToOutputs } from '../engine/nativeForward';

/** Regions named in the text; the rest are summed up in one line. */
const LISTED_REGIONS = 3;

export interface ExplainInput {
  model: string;
  image: string;
  method?: string;
  /** A class index, or a class name as the model's labels spell it (any comma-separated synonym). */
  class?: number | string;
  layer?: string;
}

export class ExplainTool implements vscode.LanguageModelTool<ExplainInput> {
  constructor(private readonly storage: vscode.Uri) {}

  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<ExplainInput>): vscode.PreparedToolInvocation {
    const method = methodOf(options.input);
    const what = `${METHOD_LABELS[method]} of ${String(options.input.image)} with ${String(options.input.model)}`;
    if (!isLongRequest(method)) return { invocationMessage: `Explaining: ${what}` };
    return {
      invocationMessage: `Explaining: ${what}`,
      confirmationMessages: {
        title: `Run ${METHOD_LABELS[method]}?`,
        message: `${what} runs the network many times and can take minutes.`,
      },
    };
  }

  async invoke(
    options: vscode.LanguageModelToolInvocationOptions<ExplainInput>,
    token: vscode.CancellationToken,
  ): Promise<vscode.LanguageModelToolResult> {
    const method = methodOf(options.input);
    const imageUri = await workspaceUri(options.input.image, 'image');
    const modelUri = await workspaceUri(options.input.model, 'model');
    const opened = await openWorkspaceModel(modelUri);
    try {
      const classIndex = classOf(options.input.class, opened, baseName(modelUri));
      const layer = options.input.layer;
      if (layer !== undefined && !opened.model.nodes.some((node) => node.id === layer)) {
        throw new ToolInputError(`${baseName(modelUri)} has no layer "${layer}" (convlens_describeModel lists its layers).`);
      }
      const image = await readWorkspaceImage(imageUri, opened);
      const x = imageToInput(image, opened.input.preprocessing);
      let explanation;
      try {
        explanation = await explain(opened.model, x, { method, classIndex, layer, progress: progressOf(token) });
      } catch (error) {
        throw asToolError(error, baseName(modelUri));
      } finally {
        x.dispose();
      }
      const [, height, width] = explanation.maps.shape;
      const map = (await explanation.maps.data()) as Float32Array;
      explanation.maps.dispose();
      const explained = explanation.classIndex[0];
      const label = opened.labels?.names[explained] ?? `class ${explained}`;
      const probability = await probabilityOf(opened, image, explained);
      const { colormap, alpha } = explainSettings();
      const png = encodePng(overlay(image, map, width, height, colormap, alpha));
      const name = `${baseName(imageUri).replace(/\.[^.]*$/, '')}-${method}-${explained}.png`;
      const pngUri = vscode.Uri.joinPath(this.storage, 'explanations', name);
      await vscode.workspace.fs.writeFile(pngUri, png);

      const lines = [
        `${METHOD_LABELS[method]} of "${label}" (class ${explained}, probability ${(100 * probability).toFixed(1)}%)` +
          `${explanation.layer ? ` at layer ${explanation.layer}` : ''} for ${workspacePath(imageUri)} (${image.width}×${image.height} pixels).`,
        ...describeRegions(evidenceRegions(map, width, height), width, height, image.width, image.height),
      ];
      return new vscode.LanguageModelToolResult([
        new vscode.LanguageModelTextPart(lines.join('\n')),
        ...imageResultParts(png, pngUri, `The overlay (${colormap} colormap over the photo)`),
      ]);
    } finally {
      opened.model.dispose();
    }
  }
}

function methodOf(input: ExplainInput): Method {
  const method = input.method ?? explainSettings().method;
  if (!isMethod(method)) throw new ToolInputError(`"${method}" is no explanation method; choose one of ${METHODS.join(', ')}.`);
  return method;
}

/** The class to explain: an index, a label (whole, or one of its comma-separated names), or the top prediction. */
function classOf(wanted: number | string | undefined, opened: OpenedModel, modelName: string): number | undefined {
  if (wanted === undefined || wanted === '') return undefined;
  const names = opened.labels?.names ?? [];
  const count = opened.model.summary.outputShapes[0]?.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1) ?? 0;
  if (typeof wanted === 'number' || /^\d+$/.test(wanted)) {
    const index = Number(wanted);
    if (Number.isInteger(index) && index >= 0 && index < count) return index;
    throw new ToolInputError(`${modelName} has classes 0 to ${count - 1}; there is no class ${wanted}.`);
  }
  const key = wanted.trim().toLowerCase();
  const exact = names.findIndex((name) => name.toLowerCase() === key);
  if (exact >= 0) return exact;
  const synonym = names.findIndex((name) => name.split(',').some((part) => part.trim().toLowerCase() === key));
  if (synonym >= 0) return synonym;
  throw new ToolInputError(`${modelName} has no class named "${wanted}".`);
}

/** The class's probability for the image (the softmax of the output unless it already is one). */
async function probabilityOf(opened: OpenedModel, image: RgbaImage, classIndex: number): Promise<number> {
  const x = imageToInput(image, opened.input.preprocessing);
  const [output] = await forwardToOutputs(opened.model, singleInput(opened.model, x));
  const scores = await output.data();
  tf.dispose([x, output]);
  return rankScores(scores, scores.length).find((p) => p.index === classIndex)?.probability ?? 0;
}

/** The text of the regions, in the photo's own pixels (the map covers the whole photo, resized). */
function describeRegions(regions: EvidenceRegion[], width: number, height: number, imageWidth: number, imageHeight: number): string[] {
  if (regions.length === 0) return ['The map is zero everywhere: this method found no evidence for the class in this image.'];
  const sx = imageWidth / width;
  const sy = imageHeight / height;
  const px = (x: number) => Math.round(x * sx);
  const py = (y: number) => Math.round(y * sy);
  const percent = (v: number) => `${(100 * v).toFixed(0)}%`;
  const lines = [
    `Evidence: ${regions.length} region${regions.length === 1 ? '' : 's'} where the map is at least ${percent(REGION_THRESHOLD)} of its maximum, strongest first` +
      ` (boxes are x0,y0–x1,y1 in the photo's pixels; share = the region's part of the whole map's sum):`,
  ];
  regions.slice(0, LISTED_REGIONS).forEach((r, i) => {
    const centreX = ((r.x0 + r.x1 + 1) / 2) * sx;
    const centreY = ((r.y0 + r.y1 + 1) / 2) * sy;
    lines.push(
      `${i + 1}. ${placeName(centreX, centreY, imageWidth, imageHeight)}: box ${px(r.x0)},${py(r.y0)}–${px(r.x1 + 1)},${py(r.y1 + 1)}, ` +
        `peak ${r.peak.toFixed(2)} at ${px(r.peakX + 0.5)},${py(r.peakY + 0.5)}, ${percent(r.share)} of the map on ${percent(r.area)} of the image`,
    );
  });
  const listed = regions.slice(0, LISTED_REGIONS).reduce((s, r) => s + r.share, 0);
  const others = regions.slice(LISTED_REGIONS);
  if (others.length)
    lines.push(
      `${others.length} weaker region${others.length === 1 ? '' : 's'} hold ${percent(others.reduce((s, r) => s + r.share, 0))} of the map.`,
    );
  lines.push(
    `Outside the regions: ${percent(Math.max(0, 1 - listed - others.reduce((s, r) => s + r.share, 0)))} of the map, below half its maximum.`,
  );
  return lines;
}
