// Trains the sample model shipped in sample/fashion-mnist-cnn: a small CNN on Fashion-MNIST,
// with TensorFlow.js on its CPU backend, saved as a TensorFlow.js layers model.
//
//   apt-get install dataset-fashion-mnist
//   node sample/training/train-fashion-mnist.mjs [--train-count 20000] [--epochs 3]
//
// It also writes labels.txt beside the model and a few test images (PNG) into sample/images.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const datasetDir = '/usr/share/datasets/fashion-mnist';
const modelDir = path.join(here, '..', 'fashion-mnist-cnn');
const imagesDir = path.join(here, '..', 'images');
const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
const trainCount = Number(args['train-count'] ?? 20000);
const epochs = Number(args.epochs ?? 3);

/** Reads an IDX file (the MNIST family's format): big-endian dims after a magic number. */
function readIdx(file) {
  const bytes = zlib.gunzipSync(fs.readFileSync(path.join(datasetDir, file)));
  const rank = bytes[3];
  const dims = Array.from({ length: rank }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  return { dims, data: bytes.subarray(4 + 4 * rank) };
}

function loadSplit(prefix, count) {
  const images = readIdx(`${prefix}-images-idx3-ubyte.gz`);
  const labels = readIdx(`${prefix}-labels-idx1-ubyte.gz`);
  const n = Math.min(count, images.dims[0]);
  const [h, w] = images.dims.slice(1);
  return {
    n, h, w,
    pixels: images.data.subarray(0, n * h * w),
    labels: labels.data.subarray(0, n),
  };
}

/**
 * TensorFlow.js's CPU kernel for the filter gradient of a convolution is very slow (about 50 s for one
 * batch of 64 here). For the stride-1 'same' convolutions of this model, the filter gradient is a sum
 * over the kernel's offsets of (shifted input)^T x (output gradient): kh*kw matrix products instead.
 */
function useFastConvFilterGradient() {
  const original = tf.getGradient('Conv2D');
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const grads = original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved;
      const [kh, kw, inChannels, outChannels] = filter.shape;
      const stride1 = [attrs.strides].flat().every((s) => s === 1) && [attrs.dilations ?? 1].flat().every((d) => d === 1);
      if (!stride1 || attrs.pad !== 'same') return grads;
      return {
        x: grads.x,
        filter: () => tf.tidy(() => {
          const [, h, w] = x.shape;
          const top = Math.floor((kh - 1) / 2), left = Math.floor((kw - 1) / 2);
          const padded = tf.pad(x, [[0, 0], [top, kh - 1 - top], [left, kw - 1 - left], [0, 0]]);
          const dyMatrix = dy.reshape([-1, outChannels]);
          const taps = [];
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              const shifted = padded.slice([0, i, j, 0], [-1, h, w, -1]).reshape([-1, inChannels]);
              taps.push(tf.matMul(shifted, dyMatrix, true, false));
            }
          }
          return tf.stack(taps).reshape([kh, kw, inChannels, outChannels]);
        }),
      };
    },
  });
}

function buildModel() {
  const seed = 7;
  const conv = (name, filters) => tf.layers.conv2d({
    name, filters, kernelSize: 3, padding: 'same', activation: 'relu',
    kernelInitializer: tf.initializers.heNormal({ seed }),
  });
  const model = tf.sequential({ name: 'fashion_mnist_cnn' });
  model.add(tf.layers.rescaling({ name: 'rescale', scale: 1 / 255, inputShape: [28, 28, 1] }));
  model.add(conv('conv1', 16));
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  model.add(conv('conv2', 32));
  model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
  model.add(conv('conv3', 48));
  // A global-average-pool head keeps class activation maps (CAM) exact for this model.
  model.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  model.add(tf.layers.dense({
    name: 'predictions', units: CLASS_NAMES.length, activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  }));
  return model;
}

function toTensors(split) {
  return tf.tidy(() => ({
    xs: tf.tensor4d(Float32Array.from(split.pixels), [split.n, split.h, split.w, 1]),
    ys: tf.oneHot(tf.tensor1d(Int32Array.from(split.labels), 'int32'), CLASS_NAMES.length),
  }));
}

function writePng(file, pixels, w, h) {
  const png = new PNG({ width: w, height: h, colorType: 0, inputColorType: 0, bitDepth: 8 });
  png.data = Buffer.from(pixels);
  fs.writeFileSync(file, PNG.sync.write(png, { colorType: 0, inputColorType: 0 }));
}

async function main() {
  await tf.setBackend('cpu');
  useFastConvFilterGradient();
  const train = loadSplit('train', trainCount);
  const test = loadSplit('t10k', 10000);
  const model = buildModel();
  model.compile({ optimizer: tf.train.adam(0.002), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  model.summary();

  const trainSet = toTensors(train);
  const started = Date.now();
  await model.fit(trainSet.xs, trainSet.ys, {
    epochs, batchSize: 64, validationSplit: 0.05, shuffle: true,
    callbacks: { onEpochEnd: (epoch, logs) => console.log(`epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(4)}, accuracy ${logs.acc.toFixed(4)}, val accuracy ${logs.val_acc.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(0)} s)`) },
  });
  tf.dispose(trainSet);

  const testSet = toTensors(test);
  const [, accuracy] = model.evaluate(testSet.xs, testSet.ys, { batchSize: 500 });
  const testAccuracy = (await accuracy.data())[0];
  console.log(`test accuracy on ${test.n} Fashion-MNIST test images: ${testAccuracy.toFixed(4)}`);
  tf.dispose(testSet);

  fs.mkdirSync(modelDir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const shard = 'group1-shard1of1.bin';
    fs.writeFileSync(path.join(modelDir, shard), Buffer.from(artifacts.weightData));
    fs.writeFileSync(path.join(modelDir, 'model.json'), JSON.stringify({
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs }],
    }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  fs.writeFileSync(path.join(modelDir, 'labels.txt'), CLASS_NAMES.join('\n') + '\n');
  fs.writeFileSync(path.join(modelDir, 'TRAINING.md'),
    `Trained by sample/training/train-fashion-mnist.mjs on the first ${train.n} Fashion-MNIST training images, ` +
    `${epochs} epochs.\nTest accuracy on the ${test.n} Fashion-MNIST test images: ${(100 * testAccuracy).toFixed(1)}%.\n` +
    `Input: 28x28x1 grayscale, raw pixel values 0-255 (the model rescales them itself).\n`);

  // One test image of each of a few classes, named after the class, for the sample workspace.
  fs.mkdirSync(imagesDir, { recursive: true });
  const wanted = [0, 1, 5, 7, 8, 9];
  for (const cls of wanted) {
    const index = Array.from(test.labels).indexOf(cls);
    const name = CLASS_NAMES[cls].toLowerCase().replace(/[^a-z]+/g, '-');
    writePng(path.join(imagesDir, `${name}.png`), test.pixels.subarray(index * 784, (index + 1) * 784), 28, 28);
  }
  console.log(`saved model, labels and ${wanted.length} images`);
}

main().catch((err) => { console.error(err); process.exit(1); });
