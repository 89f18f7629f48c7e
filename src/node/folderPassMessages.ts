/**
 * What the extension host and its folder-pass worker (folderPassWorker.ts) say to each other: the worker
 * opens one ONNX model on ONNX Runtime, then summarises batches of image files the host has read.
 */
import type { Limits } from '../engine/limits';
import type { Preprocessing } from '../engine/preprocess';
import type { BatchSummary } from '../engine/dataset/features';
import type { FolderImage } from '../shared/analyzeProtocol';

/** A batch of folder images for the native folder pass: the files as read, and what to compute. */
export interface BatchToSummarise {
  files: FolderImage[];
  preprocessing: Preprocessing;
  featureLayer: string;
  peakLayer?: string;
}

/** A batch summarised: the model's summary, and each file left out (black in the batch) with the reason. */
export interface SummarisedBatch {
  summary: BatchSummary;
  problems: [string, string][];
}

/** Analyze's folder pass on the extension host's native runtime (an ONNX model opened once). */
export interface NativeFolderPass {
  summarise(batch: BatchToSummarise): Promise<SummarisedBatch>;
  dispose(): void;
}

export const FOLDER_PASS_WORKER = 'convlens-folder-pass';

export type FolderPassRequest =
  | { type: 'open'; id: number; modelFile: string; limits: Partial<Limits>; threads: number }
  | ({ type: 'summarise'; id: number } & BatchToSummarise);

export type FolderPassReply =
  | { type: 'ready' }
  | { type: 'opened'; id: number }
  | { type: 'summarised'; id: number; batch: SummarisedBatch }
  /** `message` is one sentence for the user (the request could not be served). */
  | { type: 'failed'; id: number; message: string };
