/**
 * TensorFlow.js graph models: the summary comes from the topology alone, and op-by-op execution must give
 * exactly what TensorFlow.js's own GraphModel gives, for the whole model, for intermediate ops (outputs
 * beyond the first included), and when cut in two. The fixtures are written by
 * test/fixtures/tfjs-graph/make_fixtures.mjs in the converter's format. Long because every fixture is
 * checked the same three ways against TensorFlow.js.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { ModelReadError } from '../../src/engine/errors';
import { predict, runGraph, singleInput, splitModel } from '../../src/engine/execute';
import type { RunnableModel } from '../../src/engine/graph';
import { findLayer } from '../../src/engine/model';
import type { ModelSource } from '../../src/engine/modelSource';
import { loadTfjsGraph, readTfjsGraphSummary } from '../../src/engine/readers/tfjs/tfjsGraph';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot } from '../support/paths';
import { assertNoTensorLeak } from '../support/tensorLeaks';

before(() => useNodeBackend());

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'tfjs-graph');
const smallCnn = path.join(fixtures, 'small-cnn', 'model.json');
const oneConv = path.join(fixtures, 'one-conv', 'model.json');
const P = 'StatefulPartitionedCall/small_cnn';

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
}

interface ModelJson {
  format: string;
  signature: object;
  modelTopology: { node: { name: string; op: string; input?: string[]; attr?: Record<string, unknown> }[] };
  weightsManifest: { paths: string[]; weights: ManifestEntry[] }[];
}

function readJson(modelJsonPath: string): ModelJson {
  return JSON.parse(readFileSync(modelJsonPath, 'utf8'));
}

function shardBytes(modelJsonPath: string): Buffer {
  const json = readJson(modelJsonPath);
  return Buffer.concat(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFileSync(path.join(path.dirname(modelJsonPath), p))));
}

/** The same files loaded by TensorFlow.js's own graph-model loader: the reference. */
async function referenceModel(modelJsonPath: string): Promise<GraphModel> {
  const json = readJson(modelJsonPath);
  return loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      format: json.format,
      signature: json.signature,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData: new Uint8Array(shardBytes(modelJsonPath)).buffer,
    }),
  );
}

/** The fixture's files, with the JSON or a shard changed, served from memory. */
function fixtureSource(
  modelJsonPath: string,
  change: {
    json?: (json: ModelJson) => void;
    text?: (text: string) => string;
    shard?: (name: string, bytes: Uint8Array) => Uint8Array | undefined;
  } = {},
): ModelSource {
  const folder = path.dirname(modelJsonPath);
  let text = readFileSync(modelJsonPath, 'utf8');
  if (change.json) {
    const json = JSON.parse(text);
    change.json(json);
    text = JSON.stringify(json);
  }
  if (change.text) text = change.text(text);
  return {
    fileName: path.basename(modelJsonPath),
    read: async () => new TextEncoder().encode(text),
    readSibling: async (relativePath) => {
      const bytes = new Uint8Array(readFileSync(path.join(folder, relativePath)));
      const changed = change.shard ? change.shard(relativePath, bytes) : bytes;
      if (!changed) throw new Error(`ENOENT: no such file, open '${relativePath}'`);
      return changed;
    },
  };
}

function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function seededInput(model: RunnableModel, batch: number, seed = 7): tf.Tensor {
  const [, ...rest] = model.inputs[0].shape as number[];
  return tf.randomUniform([batch, ...rest], -1, 1, 'float32', seed);
}

const INTERMEDIATE = [
  `${P}/conv1/Relu`,
  `${P}/dw/Relu6`,
  `${P}/pw/BiasAdd`,
  `${P}/add/add`,
  `${P}/bn/FusedBatchNormV3`,
  `${P}/pool/MaxPool`,
  `${P}/split/split`,
  `${P}/split/split:1`,
  `${P}/concat/concat`,
  `${P}/pad/Pad`,
  `${P}/conv2/BiasAdd`,
  `${P}/swish/mul`,
  `${P}/gap/Mean`,
  `${P}/dense/BiasAdd`,
];

describe('TensorFlow.js graph model summary', () => {
  test('lists every op node, not constants or placeholders, with parameters from the manifest', async () => {
    // No shard may be read for a summary.
    const source = { ...fileModelSource(smallCnn), readSibling: () => Promise.reject(new Error('read a shard')) };
    const summary = await readTfjsGraphSummary(source);
    assert.equal(summary.format, 'tfjs-graph');
    assert.equal(summary.fileName, 'model.json');
    assert.deepEqual(summary.inputShapes, [[null, 16, 16, 3]]);
    assert.deepEqual(summary.outputShapes, [[null, 10]]);

    const json = readJson(smallCnn);
    const ops = json.modelTopology.node.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder');
    assert.deepEqual(
      summary.layers.map((l) => [l.id, l.type]),
      ops.map((n) => [n.name, n.op]),
    );

    // Independently: each op's parameters are the float values of the manifest weights it reads.
    const floats = new Map(
      json.weightsManifest
        .flatMap((g) => g.weights)
        .filter((w) => w.dtype === 'float32')
        .map((w) => [w.name, w]),
    );
    const count = (w: ManifestEntry) => w.shape.reduce((n, d) => n * d, 1);
    for (const node of ops) {
      const expected = (node.input ?? []).filter((i) => floats.has(i)).reduce((n, i) => n + count(floats.get(i)!), 0);
      assert.equal(findLayer(summary, node.name)?.params, expected, node.name);
    }
    assert.equal(
      summary.totalParams,
      [...floats.values()].reduce((n, w) => n + count(w), 0),
    );
    // Counted by hand: conv 3·3·3·8+8, depthwise 3·3·8+8, pointwise 8·8+8, batch norm 4·8, conv 3·3·8·16 (+16 in
    // its own BiasAdd), dense 16·10+10.
    assert.equal(summary.totalParams, 224 + 80 + 72 + 32 + 1152 + 16 + 170);
    assert.equal(findLayer(summary, `${P}/bn/FusedBatchNormV3`)?.params, 32);
    assert.equal(findLayer(summary, `${P}/gap/Mean`)?.params, 0, 'integer constants (axes) are not parameters');

    assert.deepEqual(findLayer(summary, `${P}/add/add`)?.inputs, [`${P}/conv1/Relu`, `${P}/pw/BiasAdd`]);
    assert.deepEqual(findLayer(summary, `${P}/conv1/Relu`)?.inputs, ['input_1']);
    assert.deepEqual(findLayer(summary, `${P}/concat/concat`)?.inputs, [`${P}/split/split`]);
    assert.deepEqual(findLayer(summary, `${P}/conv1/Relu`)?.outputShapes, [[null, 16, 16, 8]]);
    assert.deepEqual(findLayer(summary, `${P}/pool/MaxPool`)?.outputShapes, [[null, 8, 8, 8]]);
    assert.deepEqual(findLayer(summary, 'Identity')?.outputShapes, [[null, 10]]);
    // The split axis is a constant's value, which a summary does not read.
    assert.deepEqual(findLayer(summary, `${P}/split/split`)?.outputShapes, []);
  });

  test('the loaded model also knows the shapes that depend on constant values', async () => {
    const model = await loadTfjsGraph(fileModelSource(smallCnn));
    try {
      const shapes = (id: string) => findLayer(model.summary, id)?.outputShapes;
      assert.deepEqual(shapes(`${P}/split/split`), [
        [null, 8, 8, 4],
        [null, 8, 8, 4],
      ]);
      assert.deepEqual(shapes(`${P}/concat/concat`), [[null, 8, 8, 8]]);
      assert.deepEqual(shapes(`${P}/pad/Pad`), [[null, 10, 10, 8]]);
      assert.deepEqual(shapes(`${P}/conv2/Conv2D`), [[null, 4, 4, 16]]);
      assert.deepEqual(shapes(`${P}/gap/Mean`), [[null, 16]]);
      assert.deepEqual(shapes(`${P}/dense/Softmax`), [[null, 10]]);
    } finally {
      model.dispose();
    }
  });

  test('declared _output_shapes are taken as they are', async () => {
    const source = fixtureSource(oneConv, {
      json: (json) => {
        const conv = json.modelTopology.node.find((n) => n.op === '_FusedConv2D')!;
        conv.attr!._output_shapes = { list: { shape: [{ dim: [{ size: '-1' }, { size: '3' }, { size: '3' }, { size: '4' }] }] } };
      },
    });
    const summary = await readTfjsGraphSummary(source);
    assert.deepEqual(
      summary.layers.map((l) => l.outputShapes),
      [[[null, 3, 3, 4]], [[null, 3, 3, 4]]],
    );
  });
});

describe('TensorFlow.js graph models run op by op', () => {
  test('one fused convolution, checked by hand against tfjs-core conv2d', async () => {
    const model = await loadTfjsGraph(fileModelSource(oneConv));
    try {
      const values = new Float32Array(new Uint8Array(shardBytes(oneConv)).buffer);
      const kernel = tf.tensor4d(values.subarray(0, 72), [3, 3, 2, 4]);
      const bias = tf.tensor1d(values.subarray(72, 76));
      const input = seededInput(model, 2);
      const expected = tf.tidy(() => tf.relu(tf.add(tf.conv2d(input as tf.Tensor4D, kernel, 2, 'same'), bias)));
      const [ours] = predict(model, singleInput(model, input));
      assert.deepEqual(ours.shape, [2, 3, 3, 4]);
      assert.ok(maxAbsDifference(ours, expected) < 1e-5, `differs by ${maxAbsDifference(ours, expected)}`);

      const weights = model.weights('StatefulPartitionedCall/conv/Relu');
      assert.deepEqual(
        weights.map((w) => w.shape),
        [[3, 3, 2, 4], [4]],
      );
      assert.equal(maxAbsDifference(weights[0], kernel), 0);
      assert.equal(maxAbsDifference(weights[1], bias), 0);
      assert.deepEqual(model.weights('Identity'), []);
      tf.dispose([kernel, bias, input, expected, ours]);
    } finally {
      model.dispose();
    }
  });

  for (const batch of [1, 2]) {
    test(`the small CNN, batch ${batch}: output and intermediate ops equal GraphModel.execute's`, async () => {
      const model = await loadTfjsGraph(fileModelSource(smallCnn));
      const reference = await referenceModel(smallCnn);
      try {
        const input = seededInput(model, batch, 11 + batch);
        const [ours] = predict(model, singleInput(model, input));
        const theirs = reference.execute(input) as tf.Tensor;
        assert.deepEqual(ours.shape, [batch, 10]);
        assert.deepEqual(ours.shape, theirs.shape);
        assert.ok(maxAbsDifference(ours, theirs) < 1e-5, `output differs by ${maxAbsDifference(ours, theirs)}`);

        const inner = runGraph(model, singleInput(model, input), INTERMEDIATE);
        const expected = reference.execute(input, INTERMEDIATE) as tf.Tensor[];
        INTERMEDIATE.forEach((id, i) => {
          assert.deepEqual(inner[i].shape, expected[i].shape, id);
          assert.ok(maxAbsDifference(inner[i], expected[i]) < 1e-5, `${id} differs by ${maxAbsDifference(inner[i], expected[i])}`);
        });
        tf.dispose([input, ours, theirs, ...inner, ...expected]);
      } finally {
        model.dispose();
        reference.dispose();
      }
    });
  }

  for (const cut of [`${P}/dw/Relu6`, `${P}/relu/Relu`]) {
    test(`cut at ${cut.slice(P.length + 1)}: tail(head(x)) is the output, and differentiable at the cut`, async () => {
      const model = await loadTfjsGraph(fileModelSource(smallCnn));
      try {
        const input = seededInput(model, 2);
        const [whole] = predict(model, singleInput(model, input));
        const split = splitModel(model, cut);
        const { activation, context } = split.head(singleInput(model, input));
        const [rejoined] = split.tail(activation, context);
        assert.ok(maxAbsDifference(rejoined, whole) < 1e-6, `differs by ${maxAbsDifference(rejoined, whole)}`);
        // The first class's score (the sum over a softmax would have no gradient at all).
        const score = (a: tf.Tensor) => tf.sum(tf.slice(split.tail(a, context)[0], [0, 0], [-1, 1]));
        const gradient = tf.grad(score)(activation);
        assert.deepEqual(gradient.shape, activation.shape);
        assert.ok(tf.tidy(() => tf.sum(tf.abs(gradient)).dataSync()[0]) > 0, 'the gradient at the cut is not all zero');
        // Against a finite difference along the gradient's own direction, at a point nudged off the ReLU's
        // zeros: where max pooling sees a tie, the network has no gradient to compare with.
        const point = tf.add(activation, tf.randomUniform(activation.shape, 0, 0.05, 'float32', 3));
        const [finiteDifference, gradientNorm] = tf.tidy(() => {
          const g = tf.grad(score)(point);
          const step = tf.mul(tf.div(g, tf.norm(g)), 1e-3);
          const difference = tf.sub(score(tf.add(point, step)), score(tf.sub(point, step)));
          return [tf.div(difference, 2e-3).dataSync()[0], tf.norm(g).dataSync()[0]];
        });
        assert.ok(
          Math.abs(finiteDifference - gradientNorm) < 0.01 * gradientNorm,
          `finite difference ${finiteDifference}, gradient ${gradientNorm}`,
        );
        tf.dispose([input, whole, activation, rejoined, gradient, point, ...context.values()]);
      } finally {
        model.dispose();
      }
    });
  }

  test('nodes carry their op, whether they end in a ReLU, and the scores before the softmax', async () => {
    const model = await loadTfjsGraph(fileModelSource(smallCnn));
    try {
      const node = (id: string) => model.nodes.find((n) => n.id === id)!;
      assert.equal(node(`${P}/dw/Relu6`).type, 'FusedDepthwiseConv2dNative');
      assert.equal(node(`${P}/split/split:1`).type, 'Split');
      const relus = model.nodes.filter((n) => n.endsWithRelu).map((n) => n.id);
      assert.deepEqual(relus, [`${P}/conv1/Relu`, `${P}/dw/Relu6`, `${P}/relu/Relu`]);
      assert.equal(model.logits, `${P}/dense/BiasAdd`);

      const input = seededInput(model, 2);
      const [logits, probabilities] = runGraph(model, singleInput(model, input), [model.logits!, 'Identity']);
      const softmax = tf.softmax(logits);
      assert.ok(maxAbsDifference(softmax, probabilities) < 1e-6);
      tf.dispose([input, logits, probabilities, softmax]);
    } finally {
      model.dispose();
    }
  });

  test('node order in the file and control inputs do not matter', async () => {
    const reordered = fixtureSource(smallCnn, {
      json: (json) => {
        json.modelTopology.node.reverse();
        const relu = json.modelTopology.node.find((n) => n.name === `${P}/relu/Relu`)!;
        relu.input = [...relu.input!, `^${P}/add/add`];
      },
    });
    const [model, original] = await Promise.all([loadTfjsGraph(reordered), loadTfjsGraph(fileModelSource(smallCnn))]);
    try {
      const input = seededInput(model, 2);
      const [a] = predict(model, singleInput(model, input));
      const [b] = predict(original, singleInput(original, input));
      assert.equal(maxAbsDifference(a, b), 0);
      assert.deepEqual(findLayer(model.summary, `${P}/relu/Relu`)?.inputs, [`${P}/bn/FusedBatchNormV3`]);
      tf.dispose([input, a, b]);
    } finally {
      model.dispose();
      original.dispose();
    }
  });

  test('loading, running, cutting and disposing leaves no tensor behind', async () => {
    await assertNoTensorLeak(async () => {
      const model = await loadTfjsGraph(fileModelSource(smallCnn));
      const input = seededInput(model, 2);
      const outputs = runGraph(model, singleInput(model, input), [...INTERMEDIATE, 'Identity']);
      const split = splitModel(model, `${P}/add/add`);
      const { activation, context } = split.head(singleInput(model, input));
      const gradient = tf.grad((a: tf.Tensor) => tf.sum(split.tail(a, context)[0]))(activation);
      tf.dispose([input, ...outputs, activation, gradient, ...context.values()]);
      model.dispose();
    });
  });
});

describe('graph model files that cannot be opened get one clear sentence', () => {
  const json = readJson(smallCnn);
  const totalBytes = json.weightsManifest[0].weights.reduce((n, w) => n + 4 * w.shape.reduce((m, d) => m * d, 1), 0);
  const cases: [string, ModelSource, RegExp, { summaryToo?: boolean }][] = [
    [
      'truncated JSON',
      fixtureSource(smallCnn, { text: (text) => text.slice(0, 700) }),
      /^model\.json is not valid JSON, so it cannot be a TensorFlow\.js model\.$/,
      { summaryToo: true },
    ],
    [
      'no node list',
      fixtureSource(smallCnn, { text: () => '{"format": "graph-model", "modelTopology": {}}' }),
      /^model\.json is not a TensorFlow\.js graph model: its "modelTopology" has no "node" list\.$/,
      { summaryToo: true },
    ],
    [
      'an input that is not in the graph',
      fixtureSource(smallCnn, { json: (j) => (j.modelTopology.node.find((n) => n.name === `${P}/relu/Relu`)!.input = ['nowhere']) }),
      /^model\.json has the node "StatefulPartitionedCall\/small_cnn\/relu\/Relu" reading "nowhere", which is not in the graph\.$/,
      { summaryToo: true },
    ],
    [
      'a missing shard',
      fixtureSource(smallCnn, { shard: (name, bytes) => (name === 'group1-shard2of2.bin' ? undefined : bytes) }),
      /^model\.json lists the weight file "group1-shard2of2\.bin", which cannot be read beside it\.$/,
      {},
    ],
    [
      'a shard of the wrong size',
      fixtureSource(smallCnn, { shard: (name, bytes) => (name === 'group1-shard2of2.bin' ? bytes.subarray(0, bytes.length - 4) : bytes) }),
      new RegExp(
        `^model\\.json needs ${totalBytes} bytes of weights from group1-shard1of2\\.bin, group1-shard2of2\\.bin, but there are ${totalBytes - 4} bytes\\.$`,
      ),
      {},
    ],
    [
      'a constant the manifest does not list',
      fixtureSource(smallCnn, { json: (j) => j.weightsManifest[0].weights.splice(2, 1) }),
      /^model\.json has the constant "StatefulPartitionedCall\/small_cnn\/dw\/depthwise\/ReadVariableOp", whose values its "weightsManifest" does not list\.$/,
      {},
    ],
    [
      'an unknown op',
      fixtureSource(smallCnn, { json: (j) => (j.modelTopology.node.find((n) => n.name === `${P}/pw/BiasAdd`)!.op = 'FancyConv2D') }),
      /^model\.json has the node "StatefulPartitionedCall\/small_cnn\/pw\/BiasAdd" with the op "FancyConv2D", which ConvLens cannot run\.$/,
      {},
    ],
    [
      'a control-flow op',
      fixtureSource(smallCnn, { json: (j) => (j.modelTopology.node.find((n) => n.name === `${P}/relu/Relu`)!.op = 'StatelessWhile') }),
      /^model\.json has the node "StatefulPartitionedCall\/small_cnn\/relu\/Relu" with the control-flow op "StatelessWhile" \(a loop or a condition\), which ConvLens cannot run\.$/,
      {},
    ],
    [
      'a cycle',
      fixtureSource(smallCnn, {
        json: (j) => j.modelTopology.node.find((n) => n.name === `${P}/conv1/Relu`)!.input!.splice(0, 1, `${P}/relu/Relu`),
      }),
      /^model\.json has a cycle through the node "StatefulPartitionedCall\/small_cnn\/[^"]+", so its ops have no order to run in\.$/,
      {},
    ],
  ];
  for (const [what, source, message, { summaryToo }] of cases) {
    test(what, { timeout: 10_000 }, async () => {
      const readers = summaryToo ? [loadTfjsGraph, readTfjsGraphSummary] : [loadTfjsGraph];
      for (const read of readers) {
        const before = tf.memory().numTensors;
        const error = await read(source).then(
          () => assert.fail('expected the model to be rejected'),
          (e: unknown) => e,
        );
        assert.ok(error instanceof ModelReadError, `expected a ModelReadError, got ${String(error)}`);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n|\bat .*\(.*:\d+:\d+\)/, 'no stack trace in the message');
        assert.equal(tf.memory().numTensors, before, 'a rejected model leaves no tensor behind');
      }
    });
  }

  test('an op that cannot run still shows in the summary', async () => {
    const source = fixtureSource(smallCnn, {
      json: (j) => (j.modelTopology.node.find((n) => n.name === `${P}/pw/BiasAdd`)!.op = 'FancyConv2D'),
    });
    const summary = await readTfjsGraphSummary(source);
    assert.equal(findLayer(summary, `${P}/pw/BiasAdd`)?.type, 'FancyConv2D');
  });
});
