/** The Analyze webview's side of the host channel: model files, folder images in batches, the feature cache. */
import type { Limits } from '../../src/engine/limits';
import type { ModelSource } from '../../src/engine/modelSource';
import type { AnalyzeHostMessage, AnalyzeWebviewMessage, CachedFeatures } from '../../src/shared/analyzeProtocol';
import { hostFiles } from '../common/hostFiles';

interface VsCodeApi {
  postMessage(message: AnalyzeWebviewMessage): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
const files = hostFiles((request) => postToHost(request));
const waiting = new Map<number, (message: AnalyzeHostMessage) => void>();
let nextRequest = 1;

export function postToHost(message: AnalyzeWebviewMessage): void {
  api.postMessage(message);
}

export function onHostMessage(handler: (message: AnalyzeHostMessage) => void): void {
  window.addEventListener('message', (event: MessageEvent<AnalyzeHostMessage>) => {
    const message = event.data;
    if (message.type === 'fileContents') files.receive(message);
    else if ((message.type === 'images' || message.type === 'cached') && waiting.has(message.requestId)) {
      waiting.get(message.requestId)!(message);
      waiting.delete(message.requestId);
    } else handler(message);
  });
}

function ask<T extends AnalyzeHostMessage>(request: (requestId: number) => AnalyzeWebviewMessage): Promise<T> {
  const requestId = nextRequest++;
  return new Promise((resolve) => {
    waiting.set(requestId, (message) => resolve(message as T));
    postToHost(request(requestId));
  });
}

export function hostModelSource(fileName: string, limits?: Partial<Limits>): ModelSource {
  return files.modelSource(fileName, limits);
}

/** A folder image as the host sends it: its bytes, or why it cannot be read. */
export type HostImage = Extract<AnalyzeHostMessage, { type: 'images' }>['files'][number];

/** The bytes of folder images (paths relative to the folder), each or why it cannot be read. */
export async function readImages(paths: string[]): Promise<HostImage[]> {
  const answer = await ask<Extract<AnalyzeHostMessage, { type: 'images' }>>((requestId) => ({ type: 'readImages', requestId, paths }));
  return answer.files;
}

/** Cached features for `key` (or none), and the total size of the folder's images. */
export async function lookupCache(key: string): Promise<{ features?: CachedFeatures; imageBytes: number }> {
  return ask<Extract<AnalyzeHostMessage, { type: 'cached' }>>((requestId) => ({ type: 'lookupCache', requestId, key }));
}
