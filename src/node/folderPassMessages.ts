/**
 * What the extension host and its folder-pass workers say to each other: the image worker
 * (imageDecodeWorker.ts) decodes a batch of files to the model's pixels while the pass worker
 * (folderPassWorker.ts), which opened one ONNX model on ONNX Runtime, summarises the batch before.
 */
import type { BatchPixels, ImageFileBytes } from '../engine/dataset/batchPixels';
import type { BatchSummary } from '../engine/dataset/features';
import type { Limits } from '../engine/limits';
import type { Preprocessing } from '../engine/preprocess';

/** A batch of folder images for the native folder pass: the files as read, and what to compute. */
export interface BatchToSummarise {
  files: ImageFileBytes[];
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
export const IMAGE_DECODE_WORKER = 'convlens-image-decode';

export type FolderPassRequest =
  | { type: 'open'; id: number; modelFile: string; limits: Partial<Limits>; threads: number }
  | {
      type: 'summarise';
      id: number;
      /** [count, height, width, 3] as `batchPixels` makes it. */
      rgb: Float32Array;
      count: number;
      preprocessing: Preprocessing;
      featureLayer: string;
      peakLayer?: string;
    };

export type FolderPassReply = { type: 'opened'; id: number } | { type: 'summarised'; id: number; summary: BatchSummary };

export interface DecodeRequest {
  type: 'decode';
  id: number;
  files: ImageFileBytes[];
  width: number;
  height: number;
  maxPixels: number;
}

export interface DecodeReply {
  type: 'decoded';
  id: number;
  pixels: BatchPixels;
}
