/** The names of ConvLens's language-model tools, as the manifest declares them (`contributes.languageModelTools`). */
export const DESCRIBE_MODEL_TOOL = 'convlens_describeModel';
export const PREDICT_TOOL = 'convlens_predict';
export const EXPLAIN_TOOL = 'convlens_explain';
export const ANALYZE_FOLDER_TOOL = 'convlens_analyzeFolder';

export const TOOL_NAMES = [DESCRIBE_MODEL_TOOL, PREDICT_TOOL, EXPLAIN_TOOL, ANALYZE_FOLDER_TOOL] as const;
