/**
 * Faithfulness metrics and sanity checks for explanation maps (definitions: docs/explanations.md,
 * "Metrics"): ROAD, deletion and insertion, confidence change, cascading randomisation and the
 * random-logit test; and their means over a sample of images per method, or over images in memory
 * (a check of one map, a report of several methods).
 */
export { road, keptPixels, DEFAULT_PERCENTILES, DEFAULT_ROAD_NOISE, type RoadOptions, type RoadResult } from './road';
export {
  deletionInsertion,
  trapezoidArea,
  riseBlurKernel,
  baselineOf,
  pixelOrder,
  type Baseline,
  type CurveKind,
  type CurveOptions,
  type CurveResult,
} from './curves';
export { confidenceChange, type ConfidenceOptions, type ConfidenceResult } from './confidence';
export {
  cascadingRandomisation,
  randomLogit,
  layersWithWeights,
  type RandomisationOptions,
  type RandomisationResult,
  type Similarity,
} from './randomisation';
export { spearman, ssim, topKIntersection, ranks } from './similarity';
export { noisyLinearImpute, percentile, NEIGHBOUR_WEIGHTS } from './imputation';
export { setImputationThread } from './perturbations';
export { scoreTensor, scoresOf, type ScoreKind } from './scoring';
export {
  folderFaithfulness,
  estimate,
  bestRows,
  spreadSample,
  FAITHFULNESS_COLUMNS,
  QUICK_PERCENTILES,
  type Estimate,
  type FaithfulnessColumn,
  type FaithfulnessOptions,
  type MethodFaithfulness,
} from './folder';
export {
  checkExplanation,
  methodReport,
  bestReportRows,
  stripSteps,
  REPORT_COLUMNS,
  type CheckOptions,
  type CurveSummary,
  type ExplanationCheck,
  type MapRequest,
  type MethodReport,
  type MethodReportRow,
  type RandomisationStep,
  type ReportColumn,
  type ReportOptions,
} from './explanationCheck';
