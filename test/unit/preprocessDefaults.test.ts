/**
 * The preprocessing a model gets with no setting touched comes from what its files say: the tool that
 * wrote an ONNX file, its image metadata, Teachable Machine's metadata.json, a rescaling layer inside,
 * the layer names of a Keras application. Checked on the team's real models, and on summaries that
 * carry exactly one of those signs.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { LayerInfo, ModelSummary } from '../../src/engine/model';
import { resolvePreprocessing } from '../../src/engine/modelInput';
import { preprocessingDefault } from '../../src/engine/preprocessDefaults';
import { readModelSummary } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { needsShared, shared } from '../support/paths';

before(() => useNodeBackend());

const SQUEEZENET = 'onnx-squeezenet1.0-fp16-imagenet/SqueezeNet_fp16.onnx';
const TEACHABLE = 'tfjs-layers-teachable-machine-7segment/model.json';

/** What a user opening the model gets: detection, then the files beside it (no sidecar in the shared folder). */
async function resolved(relativePath: string) {
  const source = fileModelSource(shared(relativePath));
  return resolvePreprocessing(source, await readModelSummary(source));
}

describe('the default preprocessing of the shared models', () => {
  test(
    'the caffe2 SqueezeNet: BGR, 0-255, less the ImageNet mean, because the file was written by caffe2',
    needsShared(SQUEEZENET),
    async () => {
      const summary = await readModelSummary(fileModelSource(shared(SQUEEZENET)));
      assert.match(summary.producer ?? '', /^onnx-caffe2\b/);
      const { preprocessing, reason } = await resolved(SQUEEZENET);
      assert.deepEqual(preprocessing, { width: 224, height: 224, scale: 'caffe', channels: 'bgr' });
      assert.match(reason, /caffe2 export: BGR, 0–255, mean-subtracted/);
    },
  );

  test('the Teachable Machine model: −1…1, from its metadata.json', needsShared(TEACHABLE), async () => {
    const { preprocessing, reason } = await resolved(TEACHABLE);
    assert.equal(preprocessing.scale, '-1-1');
    assert.match(reason, /Teachable Machine/);
  });

  test("without its metadata.json, the same model is still −1…1: its layers are Keras's MobileNetV2", needsShared(TEACHABLE), async () => {
    const summary = await readModelSummary(fileModelSource(shared(TEACHABLE)));
    const { preprocessing, reason } = preprocessingDefault(summary);
    assert.equal(preprocessing.scale, '-1-1');
    assert.match(reason, /MobileNetV2/);
  });

  const cases: [string, string, string, RegExp][] = [
    // Its Rescaling(1/255) sits inside a nested augmentation model: raw pixels go in.
    ['keras-zip-tfkeras2.15-cats-vs-dogs-augmented/convnet_from_scratch_with_augmentation.keras', '0-255', 'rgb', /Rescaling layer/],
    ['onnx-pytorch-cifar10-winml-tutorial/ImageClassifier.onnx', 'torch', 'rgb', /PyTorch export/],
    ['onnx-tf2onnx-squeezenet-cifar10/squeezenet_cifar10.onnx', 'torch', 'rgb', /nothing in the file says/],
    ['onnx-mnist-8-model-zoo/mnist-8.onnx', '0-1', 'gray', /nothing in the file says/],
    ['keras2-h5-cats-vs-dogs-small/cats_and_dogs_small_1.h5', '0-1', 'rgb', /nothing in the file says/],
    ['keras3-mnist-cnn/model.keras', '0-1', 'gray', /nothing in the file says/],
    ['tfjs-layers-keras3-doodle-classifier/model.json', '0-1', 'gray', /nothing in the file says/],
  ];
  for (const [file, scale, channels, reason] of cases) {
    test(`${file.split('/')[0]}: ${scale}, ${channels}`, needsShared(file), async () => {
      const found = await resolved(file);
      assert.deepEqual([found.preprocessing.scale, found.preprocessing.channels], [scale, channels]);
      assert.match(found.reason, reason);
    });
  }
});

function layer(name: string, type = 'Conv2D', params = 10): LayerInfo {
  return { id: name, name, type, outputShapes: [], params, trainableParams: params, inputs: [] };
}

function summary(layers: LayerInfo[], extra: Partial<ModelSummary> = {}): ModelSummary {
  return {
    name: 'm',
    format: 'keras-h5',
    fileName: 'm.h5',
    inputShapes: [[null, 224, 224, 3]],
    outputShapes: [[null, 1000]],
    layers,
    totalParams: 0,
    trainableParams: 0,
    ...extra,
  };
}

describe('what the file says', () => {
  test('ONNX image metadata gives the channel order and the range (keys and values in any case)', () => {
    const onnx = summary([layer('conv')], {
      format: 'onnx',
      metadata: { 'Image.BitmapPixelFormat': 'Bgr8', 'image.nominalpixelrange': 'NOMINALRANGE_0_255' },
    });
    const { preprocessing, reason } = preprocessingDefault(onnx);
    assert.deepEqual([preprocessing.scale, preprocessing.channels], ['0-255', 'bgr']);
    assert.match(reason, /image metadata/);
    const normalized = preprocessingDefault(
      summary([layer('conv')], { format: 'onnx', metadata: { 'Image.NominalPixelRange': 'Normalized_1_1' } }),
    );
    assert.equal(normalized.preprocessing.scale, '-1-1');
  });

  test('the metadata outranks the producer', () => {
    const caffe2 = summary([layer('conv')], {
      format: 'onnx',
      producer: 'onnx-caffe2',
      metadata: { 'Image.NominalPixelRange': 'Normalized_0_1' },
    });
    assert.equal(preprocessingDefault(caffe2).preprocessing.scale, '0-1');
  });

  test("a Keras application is told by its layers' names", () => {
    const resnet = summary(['conv1_pad', 'conv1_conv', 'conv2_block1_1_conv', 'conv2_block1_add'].map((n) => layer(n)));
    assert.equal(preprocessingDefault(resnet).preprocessing.scale, 'caffe');
    assert.equal(preprocessingDefault(resnet).preprocessing.channels, 'bgr');
    const vgg = summary(['block1_conv1', 'block1_pool', 'block5_pool'].map((n) => layer(n)));
    assert.equal(preprocessingDefault(vgg).preprocessing.scale, 'caffe');
    // Xception shares VGG's first layer name; its separable convolutions tell them apart.
    const xception = summary(['block1_conv1', 'block1_pool', 'block2_sepconv1', 'block5_pool'].map((n) => layer(n)));
    assert.equal(preprocessingDefault(xception).preprocessing.scale, '-1-1');
    const densenet = summary(['conv1/conv', 'conv2_block1_concat', 'pool2_conv'].map((n) => layer(n)));
    assert.equal(preprocessingDefault(densenet).preprocessing.scale, 'torch');
  });

  test('a Rescaling layer after the first weighted layer is not the input scaling', () => {
    const late = summary([
      layer('input', 'InputLayer', 0),
      layer('conv'),
      layer('pool', 'MaxPooling2D', 0),
      layer('conv2'),
      layer('rescale', 'Rescaling', 0),
    ]);
    assert.equal(preprocessingDefault(late).preprocessing.scale, '0-1');
    const early = summary([layer('input', 'InputLayer', 0), layer('rescale', 'Rescaling', 0), layer('conv')]);
    assert.equal(preprocessingDefault(early).preprocessing.scale, '0-255');
  });

  test("a greyscale model stays greyscale whatever the producer's convention", () => {
    const gray = summary([layer('conv')], { format: 'onnx', producer: 'caffe2', inputShapes: [[null, 28, 28, 1]] });
    assert.equal(preprocessingDefault(gray).preprocessing.channels, 'gray');
  });

  test('a metadata.json that is not Teachable Machine’s, or not JSON, says nothing', () => {
    const plain = summary([layer('conv')]);
    assert.equal(preprocessingDefault(plain, { metadataJson: '{"labels": ["a"]}' }).preprocessing.scale, '0-1');
    assert.equal(preprocessingDefault(plain, { metadataJson: 'not json' }).preprocessing.scale, '0-1');
    assert.equal(preprocessingDefault(plain, { metadataJson: '{"tmVersion": "2.4.7"}' }).preprocessing.scale, '-1-1');
  });
});
