/**
 * The Analyze webview's channel to the host (webview/common/channel.ts) and its own requests: folder
 * images in batches, the feature cache, the host's native pass.
 */
import type { Preprocessing } from '../../src/engine/preprocess';
import type { AnalyzeProtocol, CachedFeatures, FolderImage, HostBatch } from '../../src/shared/analyzeProtocol';
import { connectToHost } from '../common/channel';

const host = connectToHost<AnalyzeProtocol>();
export const { postToHost, onHostMessage, hostModelSource } = host;

/** A folder image as the host sends it: its bytes, or why it cannot be read. */
export type HostImage = FolderImage;

/** The bytes of folder images (paths relative to the folder), each or why it cannot be read. */
export function readImages(paths: string[]): Promise<HostImage[]> {
  return host.request('readImages', { paths });
}

/** Cached features for `key` (or none), and the total size of the folder's images. */
export function lookupCache(key: string): Promise<{ features?: CachedFeatures; imageBytes: number }> {
  return host.request('lookupCache', { key });
}

/** Starts the host's native pass; `declined` says why it cannot run this model. */
export function openNativePass(): Promise<{ declined?: string }> {
  return host.request('openNativePass', {});
}

/** The summary of the folder's images [start, end) from the host's native pass. */
export function summariseNatively(request: {
  start: number;
  end: number;
  preprocessing: Preprocessing;
  featureLayer: string;
  peakLayer?: string;
}): Promise<HostBatch> {
  return host.request('summariseNatively', request);
}
