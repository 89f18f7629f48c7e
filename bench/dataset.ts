/**
 * Dataset views over a folder: images per second for the feature pass (decoded pixels → features,
 * predictions and channel peaks) and for each 2-D map, on Fashion-MNIST test images through the sample
 * model, and reading the features back from the cache. Baseline: the model's plain forward pass over
 * the same images in the same batches. Then the pass's peak tensor memory against one batch's, and
 * activation maximisation steps against a one-image pass. Also the decision regions of each map (a
 * 64×64 grid through the classifier head) and deep feature factorisation of conv3 over the folder.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  EMBEDDING_LABELS,
  EMBEDDING_METHODS,
  embed,
  TSNE_MAX_POINTS,
  type Embedding,
  type EmbeddingMethod,
} from '../src/engine/dataset/embedding';
import { decodeFeatures, encodeFeatures } from '../src/panels/analyze/featureFile';
import { maximizeActivation } from '../src/engine/dataset/activationMaximization';
import { decisionRegions } from '../src/engine/dataset/decisionRegions';
import { analyseFolder, defaultFeatureLayer } from '../src/engine/dataset/features';
import { factoriseFolder } from '../src/engine/explain/featureFactorisation';
import { predict, singleInput } from '../src/engine/execute';
import { imageToInput, type Preprocessing } from '../src/engine/preprocess';
import { loadModel } from '../src/engine/readers';
import { fileModelSource } from '../src/node/fileModelSource';
import { fashionMnistTest, skipWithoutFashionMnist } from '../test/support/fashionMnist';
import { sampleModel } from '../test/support/paths';
import { table } from './timing';

export async function benchDataset(count = Number(process.env.CONVLENS_BENCH_IMAGES ?? 2000)): Promise<string> {
  if (skipWithoutFashionMnist) return `Skipped: ${skipWithoutFashionMnist}`;
  const model = await loadModel(fileModelSource(sampleModel));
  const { images } = fashionMnistTest(count);
  const preprocessing: Preprocessing = { width: 28, height: 28, channels: 'gray', scale: '0-255' };
  const batchSize = 64;
  const loadBatch = async (start: number, end: number) =>
    tf.tidy(() => tf.concat(images.slice(start, end).map((image) => imageToInput(image, preprocessing))) as tf.Tensor4D);
  /** The baseline: the model's plain forward pass over images [start, end), output read back. */
  const forwardPass = async (start: number, end: number) => {
    const input = await loadBatch(start, end);
    const outputs = predict(model, singleInput(model, input));
    await outputs[0].data();
    tf.dispose([input, ...outputs]);
  };
  const seconds = async (run: () => Promise<unknown>) => {
    const start = performance.now();
    await run();
    return (performance.now() - start) / 1000;
  };
  try {
    await seconds(() =>
      analyseFolder(model, { count: Math.min(count, 128), loadBatch, featureLayer: defaultFeatureLayer(model), batchSize }),
    ); // warm-up
    const forward = await seconds(async () => {
      for (let start = 0; start < images.length; start += batchSize) await forwardPass(start, Math.min(images.length, start + batchSize));
    });
    let features!: Awaited<ReturnType<typeof analyseFolder>>;
    const pass = await seconds(async () => {
      features = await analyseFolder(model, {
        count: images.length,
        loadBatch,
        featureLayer: defaultFeatureLayer(model),
        peakLayer: 'conv3',
        batchSize,
      });
    });
    const rows: (string | number)[][] = [
      ['Forward pass only (baseline)', images.length, (images.length / forward).toFixed(0), '1.00'],
      [
        `Feature pass: ${features.featureLayer} features, predictions, conv3 peaks`,
        images.length,
        (images.length / pass).toFixed(0),
        (pass / forward).toFixed(2),
      ],
    ];
    const maps: { method: EmbeddingMethod; map: Embedding }[] = [];
    for (const method of EMBEDDING_METHODS) {
      const mapped = method === 'tsne' ? Math.min(TSNE_MAX_POINTS, images.length) : images.length;
      let map!: Embedding;
      const time = await seconds(async () => (map = await embed(features.features, features.dim, method, { seed: 1 })));
      maps.push({ method, map });
      rows.push([
        `${EMBEDDING_LABELS[method]} map of the ${features.dim}-D features`,
        mapped,
        (mapped / time).toFixed(0),
        (time / forward).toFixed(2),
      ]);
    }
    // Decision regions: 64×64 cells (the bench's unit) and 256×256 (the view's), each a feature vector
    // from its 8 nearest dots, through the head.
    for (const [gridSize, { method, map }] of [64, 256].flatMap((size) => maps.map((m) => [size, m] as const))) {
      const dim = features.dim;
      const rowsOf = Float32Array.from(
        { length: map.indices.length * dim },
        (_, i) => features.features[map.indices[Math.floor(i / dim)] * dim + (i % dim)],
      );
      let agreement = 0;
      const time = await seconds(async () => {
        const regions = await decisionRegions(model, {
          featureLayer: features.featureLayer,
          features: rowsOf,
          dim,
          points: map.points,
          predicted: Int32Array.from(map.indices, (image) => features.predicted[image]),
          method,
          gridSize,
        });
        agreement = regions.agreement;
      });
      rows.push([
        `Decision regions of the ${EMBEDDING_LABELS[method]} map, ${gridSize}×${gridSize} cells (${(agreement * 100).toFixed(1)}% of dots on their prediction)`,
        map.indices.length,
        (map.indices.length / time).toFixed(0),
        (time / forward).toFixed(2),
      ]);
    }
    const dff = await seconds(() => factoriseFolder(model, { count: images.length, loadBatch, layer: 'conv3', components: 5, batchSize }));
    rows.push([
      'Deep feature factorisation of conv3 (7×7×48), 5 concepts, 200 NMF updates',
      images.length,
      (images.length / dff).toFixed(0),
      (dff / forward).toFixed(2),
    ]);
    // Reopening a folder: the cache file back to arrays (the host's stat of every image is not included).
    const cacheFile = encodeFeatures({
      featureLayer: features.featureLayer,
      dim: features.dim,
      features: features.features.slice().buffer,
      predicted: features.predicted.slice().buffer,
      confidence: features.confidence.slice().buffer,
      problems: [],
    });
    const reread = await seconds(async () => decodeFeatures(Buffer.from(cacheFile)));
    rows.push([
      `Features read back from the cache (${(cacheFile.byteLength / 1024).toFixed(0)} KiB file)`,
      images.length,
      (images.length / reread).toFixed(0),
      (reread / forward).toFixed(3),
    ]);
    const folderTable = table(['Step (CPU backend, batches of 64)', 'images', 'images/s', 'time / forward pass'], rows);

    // Memory: tensors live one batch at a time, so the pass's peak should be one batch's, whatever the
    // folder's size; what stays is the per-image summary.
    const oneBatch = await tf.profile(() => forwardPass(0, batchSize));
    const wholePass = await tf.profile(async () => {
      await analyseFolder(model, {
        count: images.length,
        loadBatch,
        featureLayer: defaultFeatureLayer(model),
        peakLayer: 'conv3',
        batchSize,
      });
    });
    const kept = [features.features, features.predicted, features.confidence, features.peaks?.values, features.peaks?.positions].reduce(
      (sum, array) => sum + (array?.byteLength ?? 0),
      0,
    );
    const megabytes = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    const memoryTable = table(
      ['Memory (CPU backend, batches of 64)', 'images', 'MiB', 'ratio'],
      [
        ['Peak tensor memory: forward pass of one batch (baseline)', batchSize, megabytes(oneBatch.peakBytes), '1.00'],
        [
          'Peak tensor memory: feature pass over the folder',
          images.length,
          megabytes(wholePass.peakBytes),
          (wholePass.peakBytes / oneBatch.peakBytes).toFixed(2),
        ],
        [
          `Kept after the pass (${(kept / images.length).toFixed(0)} bytes per image)`,
          images.length,
          megabytes(kept),
          (kept / oneBatch.peakBytes).toFixed(2),
        ],
      ],
    );

    // Activation maximisation: each step is a forward and a backward pass of one transformed image.
    const steps = 64;
    const single = await seconds(async () => {
      for (let i = 0; i < steps; i++) await forwardPass(i % images.length, (i % images.length) + 1);
    });
    const maximize = await seconds(() =>
      maximizeActivation(model, { target: { kind: 'channel', layer: 'conv3', channel: 5 }, preprocessing, steps, seed: 1 }),
    );
    const stepTable = table(
      ['Step (CPU backend, one image)', 'steps', 'steps/s', 'time / forward pass'],
      [
        ['Forward pass of one image (baseline)', steps, (steps / single).toFixed(0), '1.00'],
        ['Activation maximisation step (conv3 channel 5)', steps, (steps / maximize).toFixed(0), (maximize / single).toFixed(2)],
      ],
    );
    return `${folderTable}\n\n${memoryTable}\n\n${stepTable}`;
  } finally {
    model.dispose();
  }
}
