/**
 * Operator semantics one case at a time: hand-written graphs (make_fixtures.py: operator_cases_graph at
 * opset 13, opset18_cases_graph at opset 18, the Resize/Upsample graphs of opsets 7–19, TopK/NonZero/
 * GatherND) with one output per case, checked against PyTorch and NumPy references. The input has a different size on every axis, so a result in the wrong axis order
 * cannot pass.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { predict, runGraph, singleInput } from '../../src/engine/execute';
import type { RunnableModel } from '../../src/engine/graph';
import { parseNpy } from '../../src/engine/npy';
import { loadOnnx } from '../../src/engine/readers/onnx';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot } from '../support/paths';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'onnx');
const caseFiles: { model: string; input: string; expected: string; gradients?: string }[] = JSON.parse(
  readFileSync(path.join(fixtures, 'fixtures.json'), 'utf8'),
).operatorCases;

before(() => useNodeBackend());

/** Outputs whose last dimension depends on the input's values (NonZero's count). */
const COUNTED_WHEN_RUNNING = new Set(['nonzero']);

/** Every 4-D activation comes out NHWC; the references are in ONNX (NCHW) order. */
function inOnnxOrder(output: tf.Tensor): tf.Tensor {
  return output.rank === 4 ? tf.transpose(output, [0, 3, 1, 2]) : output;
}

for (const files of caseFiles) {
  const expected: Record<string, { shape: number[]; values: number[] }> = JSON.parse(
    readFileSync(path.join(fixtures, files.expected), 'utf8'),
  );
  const names = Object.keys(expected);

  describe(`${path.basename(files.model)}: each output matches its reference`, () => {
    let model: RunnableModel;
    let tensorsBefore = 0;
    const outputs = new Map<string, tf.Tensor>();

    before(async () => {
      await useNodeBackend();
      tensorsBefore = tf.memory().numTensors;
      model = await loadOnnx(fileModelSource(path.join(fixtures, files.model)));
      const x = parseNpy(new Uint8Array(readFileSync(path.join(fixtures, files.input))));
      const input = tf.tidy(() => tf.transpose(tf.tensor4d(x.data, x.shape as [number, number, number, number]), [0, 2, 3, 1]));
      predict(model, singleInput(model, input)).forEach((output, i) => outputs.set(names[i], output));
      input.dispose();
    });

    after(() => {
      tf.dispose([...outputs.values()]);
      model?.dispose();
    });

    test('one output per case', () => {
      assert.equal(model.outputs.length, names.length);
      assert.equal(model.summary.outputShapes.length, names.length);
    });

    for (const name of names) {
      test(name, () => {
        const reference = expected[name];
        tf.tidy(() => {
          const ordered = inOnnxOrder(outputs.get(name)!);
          assert.deepEqual(ordered.shape, reference.shape);
          const actual = ordered.dataSync();
          const scale = Math.max(1, ...reference.values.map(Math.abs));
          reference.values.forEach((value, i) => {
            assert.ok(Math.abs(actual[i] - value) <= 1e-5 * scale, `value ${i}: ${actual[i]} where ${value} was expected`);
          });
        });
      });
    }

    test('the summary gives each output its stored shape, NHWC where 4-D', () => {
      model.summary.outputShapes.forEach((shape, i) => {
        const reference = expected[names[i]].shape;
        const stored = reference.length === 4 ? [reference[0], reference[2], reference[3], reference[1]] : reference;
        // A count only the values tell is left open until the model runs.
        if (COUNTED_WHEN_RUNNING.has(names[i])) stored[stored.length - 1] = null as unknown as number;
        assert.deepEqual(shape.slice(1), stored.slice(1), names[i]);
      });
    });

    test('freeing the outputs and the model leaves no tensor behind', () => {
      tf.dispose([...outputs.values()]);
      model.dispose();
      assert.equal(tf.memory().numTensors, tensorsBefore);
    });
  });
}

describe('nodes with several outputs', () => {
  test('each output read has its own graph node: the node id, then id:1', async () => {
    const model = await loadOnnx(fileModelSource(path.join(fixtures, caseFiles.find((f) => f.model.includes('opset13'))!.model)));
    try {
      const split = model.nodes.filter((n) => n.type === 'Split').map((n) => n.id);
      assert.deepEqual(split, ['split', 'split:1']);
      assert.deepEqual(model.summary.layers.find((l) => l.id === 'split')?.outputShapes, [
        [null, 5, 6, 1],
        [null, 5, 6, 2],
      ]);
    } finally {
      model.dispose();
    }
  });
});

describe('gradients through Resize match PyTorch', () => {
  const files = caseFiles.find((f) => f.gradients)!;
  const expectedCases = Object.keys(JSON.parse(readFileSync(path.join(fixtures, files.expected), 'utf8')));
  const gradients: Record<string, { shape: number[]; weights: number[]; gradient: number[] }> = JSON.parse(
    readFileSync(path.join(fixtures, files.gradients!), 'utf8'),
  );

  for (const [name, reference] of Object.entries(gradients)) {
    test(`${name}: d sum(output × weights) / d input`, async () => {
      const model = await loadOnnx(fileModelSource(path.join(fixtures, files.model)));
      const tensorsBefore = tf.memory().numTensors;
      try {
        const x = parseNpy(new Uint8Array(readFileSync(path.join(fixtures, files.input))));
        const node = model.outputs[expectedCases.indexOf(name)];
        const actual = tf.tidy(() => {
          const input = tf.transpose(tf.tensor4d(x.data, x.shape as [number, number, number, number]), [0, 2, 3, 1]);
          // The weights in NCHW, stored as the output is (NHWC).
          const weights = tf.transpose(tf.tensor4d(reference.weights, reference.shape as [number, number, number, number]), [0, 2, 3, 1]);
          const score = (image: tf.Tensor) => tf.sum(tf.mul(runGraph(model, new Map([[model.inputs[0].id, image]]), [node])[0], weights));
          return tf.transpose(tf.grad(score)(input), [0, 3, 1, 2]).dataSync();
        });
        const scale = Math.max(1, ...reference.gradient.map(Math.abs));
        reference.gradient.forEach((value, i) => {
          assert.ok(Math.abs(actual[i] - value) <= 1e-5 * scale, `value ${i}: ${actual[i]} where ${value} was expected`);
        });
        assert.equal(tf.memory().numTensors, tensorsBefore);
      } finally {
        model.dispose();
      }
    });
  }
});
