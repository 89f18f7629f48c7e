/**
 * Full-size torchvision models as users export them (classifiers, LR-ASPP and FCN segmentation, the
 * SSDLite detection head, ConvNeXt, ViT): each opens, and every output matches PyTorch's to 1e-4 of
 * that output's range. The models are too large to commit: test/fixtures/torchvision/export_models.py
 * writes them, with PyTorch's outputs, to the folder CONVLENS_TORCHVISION_MODELS names
 * (/tmp/convlens-torchvision by default); a model not there is skipped, saying how to make it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { errorOverRange } from '../support/statistics';
import * as tf from '@tensorflow/tfjs-core';
import { predict, singleInput } from '../../src/engine/execute';
import { parseNpy, type NpyArray } from '../../src/engine/npy';
import { loadOnnx } from '../../src/engine/readers/onnx';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';

const folder = process.env.CONVLENS_TORCHVISION_MODELS ?? '/tmp/convlens-torchvision';
const EXPORT_COMMAND = `/usr/bin/python3 test/fixtures/torchvision/export_models.py --out ${folder}`;
const TOLERANCE = 1e-4;

/** The models export_models.py writes, smallest first. */
const MODELS = [
  'mobilenet_v2',
  'resnet18',
  'efficientnet_b0',
  'lraspp_mobilenet_v3_large',
  'ssdlite320_head',
  'convnext_tiny',
  'fcn_resnet50',
  'vit_b_16',
];

interface Exported {
  name: string;
  model: string;
  input: string;
  /** Graph output name → PyTorch's value (.npy), in the graph's output order. */
  outputs: Record<string, string>;
}

function exported(): Map<string, Exported> {
  const manifest = path.join(folder, 'models.json');
  if (!existsSync(manifest)) return new Map();
  const models: Exported[] = JSON.parse(readFileSync(manifest, 'utf8')).models;
  return new Map(models.map((entry) => [entry.name, entry]));
}

function npy(relative: string): NpyArray {
  return parseNpy(new Uint8Array(readFileSync(path.join(folder, relative))));
}

before(() => useNodeBackend());

describe('torchvision models exported to ONNX compute what PyTorch computes', () => {
  const available = exported();
  for (const name of MODELS) {
    const entry = available.get(name);
    const files = entry && [entry.model, entry.input, ...Object.values(entry.outputs)];
    const present = files?.every((file) => existsSync(path.join(folder, file)));
    const skip = present ? false : `${name} not exported: run ${EXPORT_COMMAND}`;

    test(`${name}: every output within ${TOLERANCE} of its range of PyTorch's`, { skip }, async (t) => {
      const started = performance.now();
      const model = await loadOnnx(fileModelSource(path.join(folder, entry!.model)));
      const before = tf.memory().numTensors;
      try {
        const x = npy(entry!.input);
        const input = tf.tidy(() => tf.transpose(tf.tensor4d(x.data, x.shape as [number, number, number, number]), [0, 2, 3, 1]));
        const outputs = predict(model, singleInput(model, input));
        input.dispose();
        const names = Object.keys(entry!.outputs);
        assert.equal(outputs.length, names.length);
        names.forEach((output, i) => {
          const expected = npy(entry!.outputs[output]);
          // 4-D outputs come out NHWC; PyTorch's are NCHW.
          const actual = tf.tidy(() => (outputs[i].rank === 4 ? tf.transpose(outputs[i], [0, 3, 1, 2]) : outputs[i].clone()));
          try {
            assert.deepEqual(actual.shape, expected.shape, `${output}: shape`);
            const error = errorOverRange(actual.dataSync(), expected.data);
            t.diagnostic(`${output}: max difference ${error.toExponential(2)} of its range`);
            assert.ok(error <= TOLERANCE, `${output}: differs from PyTorch's by ${error.toExponential(2)} of its range`);
          } finally {
            actual.dispose();
          }
        });
        tf.dispose(outputs);
        assert.equal(tf.memory().numTensors, before, 'tensors were leaked');
        t.diagnostic(`loaded and ran in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      } finally {
        model.dispose();
      }
    });
  }
});
