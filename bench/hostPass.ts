/**
 * Analyze's folder pass as the extension host runs it for an ONNX model (src/node/folderPassThread.ts):
 * a worker thread on ONNX Runtime that decodes each batch of files while the last one runs, asked for
 * two batches ahead as the panel asks. The folder is photos at 224×224 as JPEG files, made from the
 * sample's photos; the time is the whole pass, files read to summaries back. Section `torch` times it
 * alone; section `analyze-native` (analyzeNative.ts) times it in the panel.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encode } from 'jpeg-js';
import { defaultFeatureLayer } from '../src/engine/dataset/features';
import { defaultTargetLayer } from '../src/engine/explain/targetLayer';
import type { RunnableModel } from '../src/engine/graph';
import { batchRgb } from '../src/engine/resizePixels';
import { FolderPassThread } from '../src/node/folderPassThread';
import { decodeImageBytes } from '../src/node/imageFile';
import { repoRoot } from '../test/support/paths';

const COPIES = 16;
const BATCH = 16;
const AHEAD = 2;

/** 64 JPEG photos at 224×224 in a fresh folder (removed by the returned function). */
export async function photoFolder(): Promise<{ folder: string; remove(): void }> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'convlens-photos-'));
  await writePhotos(folder, COPIES);
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** `copies` of each of the sample's photos, resized to 224×224 and saved as JPEG (quality 90) in `folder`. */
export async function writePhotos(folder: string, copies: number): Promise<void> {
  mkdirSync(folder, { recursive: true });
  const photos = path.join(repoRoot, 'sample', 'photos');
  const names = readdirSync(photos).filter((name) => /\.(png|jpg)$/.test(name));
  for (const name of names) {
    const image = await decodeImageBytes(name, new Uint8Array(readFileSync(path.join(photos, name))));
    const rgb = batchRgb([image], 224, 224);
    const rgba = Buffer.alloc(224 * 224 * 4, 255);
    for (let i = 0; i < 224 * 224; i++) for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(rgb[i * 3 + c]);
    const jpeg = encode({ data: rgba, width: 224, height: 224 }, 90).data;
    for (let copy = 0; copy < copies; copy++) writeFileSync(path.join(folder, `${copy}-${name.replace(/\.\w+$/, '.jpg')}`), jpeg);
  }
}

/** Milliseconds per 16 images of the host's pass over `folder` with the model at `modelFile`, on `threads` threads. */
export async function hostPassMsPer16(modelFile: string, model: RunnableModel, folder: string, threads: number): Promise<number> {
  const files = readdirSync(folder).sort();
  const thread = await FolderPassThread.open(modelFile, {}, threads);
  try {
    const featureLayer = defaultFeatureLayer(model);
    const peakLayer = defaultTargetLayer(model);
    const preprocessing = { width: 224, height: 224, scale: 'torch', channels: 'rgb' } as const;
    const batch = (start: number) =>
      thread.summarise({
        files: files.slice(start, start + BATCH).map((name) => {
          const bytes = readFileSync(path.join(folder, name));
          return { path: name, bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) };
        }),
        preprocessing,
        featureLayer,
        peakLayer,
      });
    await batch(0); // warm-up
    const started = performance.now();
    const asked = new Map<number, ReturnType<typeof batch>>();
    for (let start = 0; start < files.length; start += BATCH) {
      for (let k = 0; k <= AHEAD; k++) {
        const ahead = start + k * BATCH;
        if (ahead < files.length && !asked.has(ahead)) asked.set(ahead, batch(ahead));
      }
      await asked.get(start);
    }
    return ((performance.now() - started) / files.length) * 16;
  } finally {
    thread.dispose();
  }
}
