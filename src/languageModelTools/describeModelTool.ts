/**
 * `convlens_describeModel`: a model's layer table (names, types, output shapes, parameters), its
 * inputs and outputs, the preprocessing ConvLens feeds it and where its class names come from.
 */
import * as vscode from 'vscode';
import { summaryTable } from '../cli/summaryCommand';
import { readLabels } from '../engine/labels/readLabels';
import { resolvePreprocessing } from '../engine/modelInput';
import { describePreprocessing } from '../engine/preprocess';
import { readModelSummary } from '../engine/readers';
import { baseName, workspaceModelSource } from '../panels/common/workspaceModelSource';
import { useHostBackend } from '../platform/tfBackend';
import { limitsSetting } from '../settings';
import { asToolError, workspaceUri } from './toolInputs';
import { outputUnits } from '../engine/classCount';

export interface DescribeModelInput {
  model: string;
}

export class DescribeModelTool implements vscode.LanguageModelTool<DescribeModelInput> {
  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<DescribeModelInput>): vscode.PreparedToolInvocation {
    return { invocationMessage: `Reading the layers of ${String(options.input.model)}` };
  }

  async invoke(options: vscode.LanguageModelToolInvocationOptions<DescribeModelInput>): Promise<vscode.LanguageModelToolResult> {
    const uri = await workspaceUri(options.input.model, 'model');
    const source = workspaceModelSource(uri, limitsSetting());
    try {
      // Keras and TensorFlow.js topologies are read with tfjs-layers, which needs a backend.
      await useHostBackend('wasm');
      const summary = await readModelSummary(source);
      const classCount = outputUnits(summary.outputShapes[0] ?? []);
      const [labels, input] = await Promise.all([readLabels(source, classCount), resolvePreprocessing(source, summary)]);
      const lines = [
        summaryTable(summary),
        '',
        `Preprocessing: ${describePreprocessing(input.preprocessing)}${input.sidecar ? ` (from ${input.sidecar})` : ''}`,
        `Classes: ${classCount}${labels ? `, named by ${labels.origin}` : ', unnamed (no label file beside the model)'}`,
      ];
      return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(lines.join('\n'))]);
    } catch (error) {
      throw asToolError(error, baseName(uri));
    }
  }
}
