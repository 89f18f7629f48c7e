/** `convlens_predict`: the model's top classes for each of one or more images. */
import * as vscode from 'vscode';
import { singleInput } from '../engine/execute';
import { imageToInput, describePreprocessing } from '../engine/preprocess';
import { topPredictions } from '../engine/predictions';
import { asToolError, openWorkspaceModel, readWorkspaceImage, ToolInputError, workspacePath, workspaceUri } from './toolInputs';
import { baseName } from '../panels/common/workspaceModelSource';
import { forwardToOutputs } from '../engine/nativeForward';

export const MAX_TOP = 20;
const MAX_IMAGES = 50;

export interface PredictInput {
  model: string;
  images: string[];
  top?: number;
}

export class PredictTool implements vscode.LanguageModelTool<PredictInput> {
  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<PredictInput>): vscode.PreparedToolInvocation {
    const count = Array.isArray(options.input.images) ? options.input.images.length : 0;
    return { invocationMessage: `Running ${String(options.input.model)} on ${count === 1 ? options.input.images[0] : `${count} images`}` };
  }

  async invoke(
    options: vscode.LanguageModelToolInvocationOptions<PredictInput>,
    token: vscode.CancellationToken,
  ): Promise<vscode.LanguageModelToolResult> {
    const { images, top = 5 } = options.input;
    if (!Array.isArray(images) || images.length === 0) throw new ToolInputError('No images were given to predict.');
    if (images.length > MAX_IMAGES)
      throw new ToolInputError(
        `${images.length} images were given; convlens_predict takes at most ${MAX_IMAGES} (use convlens_analyzeFolder for a folder).`,
      );
    if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) throw new ToolInputError(`top must be a whole number from 1 to ${MAX_TOP}.`);
    const imageUris = await Promise.all(images.map((image) => workspaceUri(image, 'image')));
    const modelUri = await workspaceUri(options.input.model, 'model');
    const opened = await openWorkspaceModel(modelUri);
    const lines = [
      `Preprocessing: ${describePreprocessing(opened.input.preprocessing)}${opened.input.sidecar ? ` (from ${opened.input.sidecar})` : ''}`,
    ];
    try {
      for (const uri of imageUris) {
        if (token.isCancellationRequested) throw new vscode.CancellationError();
        const x = imageToInput(await readWorkspaceImage(uri, opened), opened.input.preprocessing);
        try {
          const [output] = await forwardToOutputs(opened.model, singleInput(opened.model, x));
          const [ranked] = await topPredictions(output, top, opened.labels?.names);
          output.dispose();
          lines.push('', `${workspacePath(uri)}:`);
          for (const p of ranked) lines.push(`  ${(100 * p.probability).toFixed(2)}%  ${p.label}  (class ${p.index})`);
        } catch (error) {
          throw asToolError(error, baseName(modelUri));
        } finally {
          x.dispose();
        }
      }
    } finally {
      opened.model.dispose();
    }
    return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(lines.join('\n'))]);
  }
}
