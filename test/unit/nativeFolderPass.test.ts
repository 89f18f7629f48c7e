/**
 * Analyze's folder pass on the extension host's worker threads (src/node/folderPassThread.ts): the
 * sample's SqueezeNet over its real photos gives, natively, the summary TensorFlow.js gives for the
 * same files in this process; files that cannot be read or decoded are black in the batch and named in
 * order; a model ONNX Runtime cannot run is declined with the reason; a stopped worker rejects.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { summariseBatch, type BatchSummary } from '../../src/engine/dataset/features';
import { defaultFeatureLayer } from '../../src/engine/dataset/features';
import { defaultTargetLayer } from '../../src/engine/explain/targetLayer';
import { setNativeRuntime } from '../../src/engine/nativeForward';
import { openModel, type OpenedModel } from '../../src/engine/openModel';
import { imagesToInput } from '../../src/engine/preprocess';
import { fileModelSource } from '../../src/node/fileModelSource';
import { FolderPassThread } from '../../src/node/folderPassThread';
import { decodeImageBytes } from '../../src/node/imageFile';
import { useNodeBackend } from '../../src/node/tfBackend';
import type { FolderImage } from '../../src/shared/analyzeProtocol';
import { sampleModel, sampleWorkspace } from '../support/paths';
import { pearson } from '../support/statistics';

const SQUEEZENET = path.join(sampleWorkspace, 'squeezenet', 'SqueezeNet_fp16.onnx');
const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];

function photo(name: string): FolderImage {
  const bytes = readFileSync(path.join(sampleWorkspace, 'photos', name));
  return { path: `photos/${name}`, bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) };
}

/** The optional package: without it (a platform it has no build for) the pass runs in the webview. */
function runtimeMissing(): string | false {
  try {
    require.resolve('onnxruntime-node');
    return false;
  } catch {
    return 'onnxruntime-node is not installed';
  }
}

describe('the native folder pass on worker threads', { skip: runtimeMissing(), timeout: 240_000 }, () => {
  let engine: OpenedModel;
  let thread: FolderPassThread;

  before(async () => {
    await useNodeBackend('wasm');
    setNativeRuntime(undefined);
    engine = await openModel(fileModelSource(SQUEEZENET));
    thread = await FolderPassThread.open(SQUEEZENET, {});
  });
  after(() => {
    engine?.model.dispose();
    thread?.dispose();
  });

  test('real photos: the same features, predictions and channel peaks as TensorFlow.js; the unreadable files named in order', async () => {
    const featureLayer = defaultFeatureLayer(engine.model);
    const peakLayer = defaultTargetLayer(engine.model);
    const files = [photo(PHOTOS[0]), { path: 'photos/gone.png', error: 'photos/gone.png cannot be read' }, ...PHOTOS.slice(1).map(photo)];
    files.splice(3, 0, { path: 'photos/notes.png', bytes: new TextEncoder().encode('not a picture').buffer as ArrayBuffer });
    const preprocessing = engine.input.preprocessing;
    const expected = await engineSummary(engine, files, featureLayer, peakLayer);

    const { summary, problems } = await thread.summarise({ files, preprocessing, featureLayer, peakLayer });

    assert.deepEqual(problems, [
      ['photos/gone.png', 'photos/gone.png cannot be read'],
      ['photos/notes.png', 'photos/notes.png is not an image ConvLens can decode (png, jpeg, bmp, tiff or webp)'],
    ]);
    assert.equal(summary.dim, expected.dim);
    assert.equal(summary.classCount, 1000);
    assert.ok(pearson(summary.features, expected.features) > 0.999, `features r = ${pearson(summary.features, expected.features)}`);
    assert.ok(pearson(summary.scores, expected.scores) > 0.999, `scores r = ${pearson(summary.scores, expected.scores)}`);
    assert.deepEqual(topClasses(summary), topClasses(expected));
    // The cat and the espresso, as ImageNet numbers them.
    assert.deepEqual([topClasses(summary)[2], topClasses(summary)[4]], [285, 967]);
    const peaks = summary.peaks!;
    assert.deepEqual(
      [peaks.channels, peaks.height, peaks.width],
      [expected.peaks!.channels, expected.peaks!.height, expected.peaks!.width],
    );
    assert.ok(pearson(peaks.values, expected.peaks!.values) > 0.999);
    const samePlace = peaks.positions.filter((p, i) => p === expected.peaks!.positions[i]).length;
    assert.ok(samePlace / peaks.positions.length > 0.95, `${samePlace} of ${peaks.positions.length} peaks in the same place`);
  });

  test('a model ONNX Runtime cannot run (a TensorFlow.js model) is declined with the reason', async () => {
    await assert.rejects(FolderPassThread.open(sampleModel, {}), { message: 'ONNX Runtime cannot run this model' });
  });

  test('a stopped worker rejects what is asked of it', async () => {
    const stopping = await FolderPassThread.open(SQUEEZENET, {});
    stopping.dispose();
    const preprocessing = engine.input.preprocessing;
    await assert.rejects(
      stopping.summarise({ files: [photo(PHOTOS[1])], preprocessing, featureLayer: defaultFeatureLayer(engine.model) }),
      {
        message: /^the convlens-[a-z-]+ worker stopped$/,
      },
    );
  });
});

/** The batch as the webview's own pass would summarise it, on TensorFlow.js alone (the Node decoders here). */
async function engineSummary(opened: OpenedModel, files: FolderImage[], featureLayer: string, peakLayer: string): Promise<BatchSummary> {
  const { width, height } = opened.input.preprocessing;
  const images = await Promise.all(
    files.map((file) =>
      decodeImageBytes(file.path, new Uint8Array(file.bytes ?? new ArrayBuffer(0))).catch(() => ({
        width,
        height,
        data: new Uint8Array(width * height * 4),
      })),
    ),
  );
  const input = imagesToInput(images, opened.input.preprocessing);
  try {
    return await summariseBatch(opened.model, input, featureLayer, peakLayer);
  } finally {
    input.dispose();
  }
}

function topClasses(summary: BatchSummary): number[] {
  const tops: number[] = [];
  for (let b = 0; b < summary.scores.length / summary.classCount; b++) {
    const row = summary.scores.subarray(b * summary.classCount, (b + 1) * summary.classCount);
    tops.push(row.indexOf(Math.max(...row)));
  }
  return tops;
}
