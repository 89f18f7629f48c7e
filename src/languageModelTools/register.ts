/**
 * ConvLens's tools for the editor's language-model agents (`contributes.languageModelTools`): describe
 * a model, predict, explain, analyse a folder, each over workspace paths with the engine the panels use.
 */
import * as vscode from 'vscode';
import { AnalyzeFolderTool } from './analyzeFolderTool';
import { DescribeModelTool } from './describeModelTool';
import { ExplainTool } from './explainTool';
import { PredictTool } from './predictTool';
import { ANALYZE_FOLDER_TOOL, DESCRIBE_MODEL_TOOL, EXPLAIN_TOOL, PREDICT_TOOL } from './toolNames';

export function registerLanguageModelTools(context: vscode.ExtensionContext): vscode.Disposable[] {
  // The language-model API came in VS Code 1.95; an older editor simply has no tools.
  if (typeof vscode.lm?.registerTool !== 'function') return [];
  return [
    vscode.lm.registerTool(DESCRIBE_MODEL_TOOL, new DescribeModelTool()),
    vscode.lm.registerTool(PREDICT_TOOL, new PredictTool()),
    vscode.lm.registerTool(EXPLAIN_TOOL, new ExplainTool(context.globalStorageUri)),
    vscode.lm.registerTool(ANALYZE_FOLDER_TOOL, new AnalyzeFolderTool()),
  ];
}
