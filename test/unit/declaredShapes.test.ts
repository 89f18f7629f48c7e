/**
 * The shapes the user is shown for an ONNX model are the file's own: NCHW for an export from PyTorch,
 * equal to the shapes PyTorch computes and to ONNX's own shape inference (declared-shapes.json, made by
 * test/fixtures/onnx/declared_shapes.py); NHWC where the file declares NHWC. The engine keeps NHWC inside.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  inputShapesAsDeclared,
  outputShapesAsDeclared,
  shapesAsDeclared,
  walkLayers,
  type LayerInfo,
  type Shape,
} from '../../src/engine/model';
import { readModelSummary } from '../../src/engine/readers';
import { layerKernel } from '../../src/engine/inspect/weightPicture';
import { loadOnnx, readOnnxSummary } from '../../src/engine/readers/onnx';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { describeLayer, kernelShapeAsDeclared } from '../../src/shared/format';
import { groupIntoBlocks, isBlock } from '../../src/shared/layerBlocks';
import { needsShared, repoRoot, sampleModel, shared } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

before(() => useNodeBackend());

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'onnx');

interface Expected {
  input: Shape;
  output: Shape;
  convs: Shape[];
  nodes: Record<string, Shape>;
  kernels: Record<string, number[]>;
}

const expected: Record<string, Expected> = JSON.parse(readFileSync(path.join(fixtures, 'declared-shapes.json'), 'utf8'));

const source = (name: string) => fileModelSource(path.join(fixtures, name, `${name}.onnx`));

/**
 * ONNX's inference keeps a file's fixed batch (1), which ConvLens frees, and leaves some axes unknown
 * (null) that ConvLens works out (a Pad whose pads are computed); every axis both know must agree.
 */
function sameShape(shown: Shape, inferred: Shape): boolean {
  if (shown.length !== inferred.length) return false;
  return shown.every((d, i) =>
    i === 0 ? d === inferred[0] || (inferred.length > 1 && d === null && inferred[0] === 1) : inferred[i] === null || d === inferred[i],
  );
}

describe('ONNX shapes as the file declares them', () => {
  for (const [name, reference] of Object.entries(expected)) {
    test(`${name}: input, output and every convolution as PyTorch gives them; every layer as ONNX infers it`, async () => {
      const summary = await readOnnxSummary(source(name));
      assert.deepEqual(inputShapesAsDeclared(summary), [reference.input]);
      assert.deepEqual(outputShapesAsDeclared(summary), [reference.output]);
      const convs = summary.layers.filter((layer) => layer.type === 'Conv').map((layer) => shapesAsDeclared(layer)[0]);
      assert.deepEqual(convs, reference.convs);

      let compared = 0;
      for (const layer of summary.layers) {
        const inferred = reference.nodes[layer.name];
        if (!inferred || shapesAsDeclared(layer).length === 0) continue;
        const shown = shapesAsDeclared(layer)[0];
        assert.ok(sameShape(shown, inferred), `${layer.name}: shown ${JSON.stringify(shown)}, ONNX infers ${JSON.stringify(inferred)}`);
        compared++;
      }
      assert.ok(compared >= summary.layers.length * 0.9, `${compared} of ${summary.layers.length} layers compared`);
    });
  }

  test('the engine keeps NHWC inside: a convolution is stored channels last, shown channels first', async () => {
    const summary = await readOnnxSummary(source('resnet-basic-opset9'));
    const conv1 = summary.layers[0];
    assert.deepEqual(conv1.outputShapes, [[null, 32, 32, 8]]);
    assert.deepEqual(conv1.declaredShapes, [[null, 8, 32, 32]]);
    assert.deepEqual(summary.inputShapes, [[null, 64, 64, 3]]);
    assert.deepEqual(summary.inputLayouts, ['NCHW']);
    assert.equal(describeLayer(conv1), 'Conv · (None, 8, 32, 32) · 1,184 params');
    const flatten = summary.layers.find((layer) => layer.type === 'Flatten')!;
    assert.equal(flatten.declaredShapes, undefined, 'a 2-D value is stored as the file has it');
  });

  for (const name of ['resnet-basic-opset9', 'resnext-grouped-opset17', 'mobilenet-v2-opset11']) {
    test(`${name}: the Filters tab gives each convolution's kernel shape as the file holds it (grouped, depthwise)`, () =>
      assertNoTensorLeak(async () => {
        const model = await loadOnnx(source(name));
        try {
          const convs = model.summary.layers.filter((layer) => layer.type === 'Conv');
          assert.equal(convs.length, Object.keys(expected[name].kernels).length);
          for (const layer of convs) {
            const kernel = layerKernel(model.weights(layer.id), layer)!;
            assert.deepEqual(
              kernelShapeAsDeclared(kernel.tensor.shape, 'onnx', kernel.depthwise),
              expected[name].kernels[layer.name],
              layer.name,
            );
          }
        } finally {
          model.dispose();
        }
      }));
  }

  test('a block of a long model shows its last layer as the file declares it', async () => {
    const summary = await readOnnxSummary(source('densenet-opset13'));
    const blocks = groupIntoBlocks(summary.layers).filter(isBlock);
    assert.ok(blocks.length > 0);
    for (const block of blocks) {
      const last = block.children!.at(-1) as LayerInfo;
      assert.deepEqual(shapesAsDeclared(block), shapesAsDeclared(last));
      assert.match(describeLayer(block), new RegExp(`^Block · \\(None, ${shapesAsDeclared(last)[0][1]},`));
    }
  });

  test('an NHWC input that the graph transposes (as TensorFlow converters write) is shown NHWC', async () => {
    const summary = await readOnnxSummary(source('channels-last-input-opset13'));
    assert.deepEqual(inputShapesAsDeclared(summary), [[null, 64, 64, 3]]);
    assert.deepEqual(summary.inputLayouts, ['NHWC']);
    assert.equal(summary.declaredInputShapes, undefined);
  });

  test(
    'a tf2onnx model keeps its NHWC input and output',
    needsShared('onnx-tf2onnx-squeezenet-cifar10/squeezenet_cifar10.onnx'),
    async () => {
      const summary = await readOnnxSummary(fileModelSource(shared('onnx-tf2onnx-squeezenet-cifar10/squeezenet_cifar10.onnx')));
      assert.deepEqual(inputShapesAsDeclared(summary), [[null, 32, 32, 3]]);
      assert.deepEqual(outputShapesAsDeclared(summary), [[null, 10]]);
      assert.deepEqual(summary.inputLayouts, ['NHWC']);
    },
  );

  test('Keras and TensorFlow.js models declare what the engine runs: nothing is reordered', async () => {
    const summary = await readModelSummary(fileModelSource(sampleModel));
    assert.equal(summary.declaredInputShapes, undefined);
    assert.equal(summary.inputLayouts, undefined);
    for (const layer of walkLayers(summary.layers)) assert.equal(shapesAsDeclared(layer), layer.outputShapes);
  });
});
