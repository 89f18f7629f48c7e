/**
 * Explanation targets beyond a class score, against an independent PyTorch reference
 * (test/fixtures/targets/make_targets_reference.py): Grad-CAM of a segmentation class over its predicted
 * pixels or a region, of one detection (with and without its box), of one output unit, of the likeness to
 * a reference embedding, and of a ViT's class through its token grid. Maps must correlate with the
 * reference at Pearson r ≥ 0.99 per image, before post-processing and after. Also: the suggested target layer, the page helpers, one-sentence
 * errors, no leaked tensors, and the full torchvision exports where present.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { run } from '../../src/cli/main';
import { runGraph, singleInput } from '../../src/engine/execute';
import type { RunnableModel } from '../../src/engine/graph';
import { explain } from '../../src/engine/explain';
import { rawCam } from '../../src/engine/explain/cam';
import { detections, segmentationClasses } from '../../src/engine/explain/detections';
import { suggestTargetLayer } from '../../src/engine/explain/targetLayer';
import type { Target } from '../../src/engine/explain/targets';
import { parseNpy } from '../../src/engine/npy';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot } from '../support/paths';
import { npyBytes } from '../support/npy';
import { pearson } from '../support/statistics';
import { readNchwAsNhwc } from '../support/fixtureModels';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'targets');

type Map2d = number[][];
interface Case {
  target: Record<string, unknown> & { kind: string };
  scores: number[];
  maps: [Map2d, Map2d];
  raw_cam: [Map2d, Map2d];
}
interface ModelReference {
  model: string;
  input: string;
  reference_input?: string;
  target_layer: string;
  cases: Record<string, Case>;
  pixel_share?: number[][];
  top_detection?: { anchor: number; classIndex: number };
  reference_embedding?: number[];
}

const reference: { models: Record<string, ModelReference> } = JSON.parse(
  readFileSync(path.join(fixtures, 'targets_reference.json'), 'utf8'),
);

async function open(file: string): Promise<RunnableModel> {
  return loadModel(fileModelSource(path.join(fixtures, file)));
}

/** The reference's target as the engine takes it (a region given by its rows and columns becomes a mask). */
async function engineTarget(model: RunnableModel, ref: ModelReference, target: Case['target']): Promise<Target> {
  if (target.kind === 'segmentation' && target.region_rows) {
    const [top, bottom] = target.region_rows as number[];
    const [left, right] = target.region_columns as number[];
    const [height, width] = [32, 32];
    const mask = Array.from({ length: height * width }, (_, i) => {
      const [r, c] = [Math.floor(i / width), i % width];
      return r >= top && r < bottom && c >= left && c < right;
    });
    return { kind: 'segmentation', classIndex: target.classIndex as number, region: { height, width, mask } };
  }
  if (target.kind === 'like') {
    const x = readNchwAsNhwc(path.join(fixtures, ref.reference_input!));
    const [embedding] = runGraph(model, singleInput(model, x), model.outputs);
    const values = (await embedding.data()) as Float32Array;
    tf.dispose([x, embedding]);
    return { kind: 'like', embedding: values };
  }
  return target as unknown as Target;
}

before(async () => {
  await useNodeBackend();
});

for (const [name, ref] of Object.entries(reference.models)) {
  describe(`${name}: Grad-CAM of each target agrees with the PyTorch reference`, () => {
    let model: RunnableModel;
    let input: tf.Tensor4D;
    before(async () => {
      model = await open(ref.model);
      input = readNchwAsNhwc(path.join(fixtures, ref.input));
    });
    after(() => {
      model.dispose();
      input.dispose();
    });

    test('the suggested target layer is the reference one', () => {
      assert.equal(suggestTargetLayer(model).layer, ref.target_layer);
    });

    for (const [caseName, expected] of Object.entries(ref.cases)) {
      test(caseName, async () => {
        const target = await engineTarget(model, ref, expected.target);
        const before = tf.memory().numTensors;
        const result = await explain(model, input, { method: 'gradcam', layer: ref.target_layer, target });
        const maps = (await result.maps.array()) as Map2d[];
        result.maps.dispose();
        assert.equal(tf.memory().numTensors, before, 'no tensor is left behind');
        assert.equal(result.layer, ref.target_layer);
        const { raw } = await rawCam(model, singleInput(model, input), 'gradcam', ref.target_layer, target, { batchSize: 32 });
        const rawMaps = (await raw.array()) as Map2d[];
        raw.dispose();
        for (let b = 0; b < 2; b++) {
          const scale = Math.max(1, Math.abs(expected.scores[b]));
          assert.ok(Math.abs(result.score[b] - expected.scores[b]) < 1e-3 * scale, `score ${result.score[b]} vs ${expected.scores[b]}`);
          const rRaw = pearson(rawMaps[b].flat(), expected.raw_cam[b].flat());
          assert.ok(rRaw >= 0.99, `image ${b}, before post-processing: r = ${rRaw.toFixed(4)}`);
          const expectedMap = expected.maps[b].flat();
          if (Math.max(...expectedMap) === 0) {
            // Every weighted sum is negative: ReLU leaves nothing, in both.
            assert.equal(Math.max(...maps[b].flat()), 0, `image ${b}: the map is all zeros, as the reference's`);
            continue;
          }
          const r = pearson(maps[b].flat(), expectedMap);
          assert.ok(r >= 0.99, `image ${b}: r = ${r.toFixed(4)}`);
        }
      });
    }
  });
}

describe('targets with the other methods', () => {
  test('every CAM and gradient method explains a segmentation target without leaking', async () => {
    const model = await open('seg_tiny.onnx');
    const input = readNchwAsNhwc(path.join(fixtures, 'seg_tiny_input.npy'));
    const target: Target = {
      kind: 'segmentation',
      classIndex: reference.models.seg_tiny.cases.segmentation_predicted.target.classIndex as number,
    };
    try {
      for (const method of [
        'gradcam++',
        'scorecam',
        'ablationcam',
        'eigengradcam',
        'saliency',
        'guided',
        'smoothgrad',
        'integrated',
      ] as const) {
        const before = tf.memory().numTensors;
        const result = await explain(model, input, { method, target, smoothGrad: { samples: 3, seed: 1 }, integrated: { steps: 4 } });
        assert.deepEqual(result.maps.shape, [2, 32, 32], method);
        const max = Array.from(await result.maps.data()).reduce((m, v) => Math.max(m, v), 0);
        result.maps.dispose();
        assert.ok(max > 0, `${method}: the map is not empty`);
        assert.equal(tf.memory().numTensors, before, `${method}: no tensor is left behind`);
      }
      await assert.rejects(explain(model, input, { method: 'occlusion', target }), /class scores only/);
      await assert.rejects(explain(model, input, { method: 'finercam', target }), /class targets only/);
    } finally {
      model.dispose();
      input.dispose();
    }
  });

  test('the ViT gets every CAM method through its token grid', async () => {
    const model = await open('vit_tiny.onnx');
    const input = readNchwAsNhwc(path.join(fixtures, 'vit_tiny_input.npy'));
    try {
      for (const method of ['gradcam', 'hirescam', 'ablationcam', 'scorecam', 'eigencam'] as const) {
        const before = tf.memory().numTensors;
        const result = await explain(model, input, { method });
        assert.equal(result.layer, reference.models.vit_tiny.target_layer, `${method}: the default layer is the last block's first norm`);
        result.maps.dispose();
        assert.equal(tf.memory().numTensors, before, `${method}: no tensor is left behind`);
      }
    } finally {
      model.dispose();
      input.dispose();
    }
  });
});

describe('what a page lists before explaining', () => {
  test('segmentationClasses: the classes present with their pixel share, as PyTorch finds them', async () => {
    const ref = reference.models.seg_tiny;
    const model = await open(ref.model);
    const input = readNchwAsNhwc(path.join(fixtures, ref.input));
    try {
      const before = tf.memory().numTensors;
      const perImage = await segmentationClasses(model, input);
      assert.equal(tf.memory().numTensors, before);
      for (let b = 0; b < 2; b++) {
        const expected = ref.pixel_share![b].flatMap((share, classIndex) => (share > 0 ? [{ classIndex, share }] : []));
        const found = perImage[b].classes.map(({ classIndex, share }) => ({ classIndex, share }));
        assert.deepEqual(
          found.sort((p, q) => p.classIndex - q.classIndex),
          expected.map(({ classIndex, share }) => ({ classIndex, share: Math.round(share * 1024) / 1024 })),
        );
        assert.equal(perImage[b].mask.length, 32 * 32);
      }
    } finally {
      model.dispose();
      input.dispose();
    }
  });

  test('detections: the top-k anchors by class score, the reference top detection first', async () => {
    const ref = reference.models.det_tiny;
    const model = await open(ref.model);
    const input = readNchwAsNhwc(path.join(fixtures, ref.input));
    try {
      const found = await detections(model, input, 5);
      assert.equal(found.length, 2);
      assert.equal(found[0].length, 5);
      assert.deepEqual({ anchor: found[0][0].anchor, classIndex: found[0][0].classIndex }, ref.top_detection);
      assert.ok(found[0].every((d, i) => i === 0 || d.score <= found[0][i - 1].score));
      assert.equal(found[0][0].box, undefined, 'raw heads give no decoded boxes');
      assert.equal(found[0][0].regression.length, 4);
    } finally {
      model.dispose();
      input.dispose();
    }
  });
});

describe('bad targets are refused in one sentence', () => {
  test('each names the problem', async () => {
    const seg = await open('seg_tiny.onnx');
    const vit = await open('vit_tiny.onnx');
    const segInput = readNchwAsNhwc(path.join(fixtures, 'seg_tiny_input.npy'));
    const vitInput = readNchwAsNhwc(path.join(fixtures, 'vit_tiny_input.npy'));
    const cases: [RunnableModel, tf.Tensor4D, Target, RegExp][] = [
      [seg, segInput, { kind: 'segmentation', classIndex: 9 }, /^segmentation class 9 does not exist: the model segments classes 0 to 3$/],
      [seg, segInput, { kind: 'detection', anchor: 0, classIndex: 1 }, /^the model has no detection head: /],
      [seg, segInput, { kind: 'output', output: 'boxes', index: 0 }, /^the model has no output "boxes"; its outputs are "out"$/],
      [
        seg,
        segInput,
        { kind: 'output', index: [4, 0, 0] },
        /^output index \[4, 0, 0\] does not exist: each image's output has shape \(4, 32, 32\)$/,
      ],
      [vit, vitInput, { kind: 'segmentation', classIndex: 0 }, /^segmentation targets need per-pixel class scores/],
      [
        vit,
        vitInput,
        { kind: 'like', embedding: new Float32Array(3) },
        /^the reference embedding has 3 values; the model's output has 10 per image$/,
      ],
    ];
    try {
      for (const [model, input, target, message] of cases) {
        const before = tf.memory().numTensors;
        await assert.rejects(explain(model, input, { method: 'gradcam', target }), { message });
        assert.equal(tf.memory().numTensors, before, `${JSON.stringify(target)}: no tensor is left behind`);
      }
    } finally {
      tf.dispose([segInput, vitInput]);
      seg.dispose();
      vit.dispose();
    }
  });
});

/** Full-size torchvision exports (test/fixtures/torchvision/export_models.py), when present. */
const torchvisionFolder = process.env.CONVLENS_TORCHVISION_MODELS ?? '/tmp/convlens-torchvision';
/** What the suggestion must be: the input of global pooling (classifiers), the last block's first norm (ViT). */
const SUGGESTED: Record<string, RegExp> = {
  resnet18: /^\/layer4\/layer4\.1\/relu_1\/Relu$/,
  mobilenet_v2: /^\/features\/features\.18\/features\.18\.2\/Clip$/,
  efficientnet_b0: /^\/features\/features\.8\/features\.8\.2\/Mul$/,
  convnext_tiny: /^\/features\/features\.7\/features\.7\.2\/Add$/,
  vit_b_16: /^\/encoder\/layers\/encoder_layer_11\/ln_1\/LayerNormalization$/,
};

describe('full torchvision exports', () => {
  for (const [name, expected] of Object.entries(SUGGESTED)) {
    const file = path.join(torchvisionFolder, name, `${name}.onnx`);
    test(
      `${name}: the suggested target layer`,
      { skip: existsSync(file) ? false : `${file} is absent (run test/fixtures/torchvision/export_models.py)` },
      async () => {
        const model = await loadModel(fileModelSource(file));
        try {
          const { layer, reason } = suggestTargetLayer(model);
          assert.match(layer, expected);
          assert.ok(reason.length > 20 && !reason.includes('\n'), reason);
        } finally {
          model.dispose();
        }
      },
    );
  }

  const lraspp = path.join(torchvisionFolder, 'lraspp_mobilenet_v3_large', 'lraspp_mobilenet_v3_large.onnx');
  test(
    "lraspp_mobilenet_v3_large: Grad-CAM of the predicted class's pixels",
    { skip: existsSync(lraspp) ? false : `${lraspp} is absent (run test/fixtures/torchvision/export_models.py)` },
    async () => {
      const model = await loadModel(fileModelSource(lraspp));
      const { shape, data } = parseNpy(new Uint8Array(readFileSync(path.join(path.dirname(lraspp), 'input.npy'))));
      const input = tf.tidy(() => tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [0, 2, 3, 1]));
      try {
        const [classes] = await segmentationClasses(model, input);
        const largest = classes.classes[0];
        const before = tf.memory().numTensors;
        const result = await explain(model, input, { method: 'gradcam', target: { kind: 'segmentation', classIndex: largest.classIndex } });
        result.maps.dispose();
        assert.equal(tf.memory().numTensors, before);
        // The explained score: PyTorch's class scores summed over the pixels PyTorch assigns to that class.
        const out = parseNpy(new Uint8Array(readFileSync(path.join(path.dirname(lraspp), 'out.npy'))));
        const [, classCount, height, width] = out.shape;
        let expected = 0;
        for (let p = 0; p < height * width; p++) {
          let best = 0;
          for (let c = 1; c < classCount; c++) if (out.data[c * height * width + p] > out.data[best * height * width + p]) best = c;
          if (best === largest.classIndex) expected += out.data[best * height * width + p];
        }
        assert.ok(Math.abs(result.score[0] - expected) < 1e-3 * Math.abs(expected), `score ${result.score[0]} vs ${expected}`);
      } finally {
        input.dispose();
        model.dispose();
      }
    },
  );
});

describe('convlens explain --target', () => {
  const seg = path.join(fixtures, 'seg_tiny.onnx');
  const det = path.join(fixtures, 'det_tiny.onnx');
  const vit = path.join(fixtures, 'vit_tiny.onnx');

  test('seg:, box:, output: and like: explain what they name, with the target layer and why', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'convlens-targets-'));
    const ref = reference.models.seg_tiny.cases.segmentation_predicted;
    const json = path.join(folder, 'map.json');
    const segmented = await run([
      'explain',
      seg,
      path.join(fixtures, 'seg_tiny_input.npy'),
      '--method',
      'gradcam',
      '--target',
      `seg:${ref.target.classIndex}`,
      '--json',
      json,
    ]);
    // The .npy holds two images; explain takes one.
    assert.equal(segmented.code, 1, segmented.output);
    assert.match(segmented.output, /must be one image/);

    const one = path.join(folder, 'one.npy');
    const { shape, data } = parseNpy(new Uint8Array(readFileSync(path.join(fixtures, 'seg_tiny_input.npy'))));
    writeNpy(one, [1, ...shape.slice(1)], data.subarray(0, data.length / 2));
    const explained = await run(['explain', seg, one, '--method', 'gradcam', '--target', `seg:${ref.target.classIndex}`, '--json', json]);
    assert.equal(explained.code, 0, explained.output);
    assert.match(
      explained.output,
      new RegExp(
        `^Grad-CAM of segmentation class ${ref.target.classIndex} over its predicted pixels \\(score [-\\d.e+]+\\) at layer /features/features.3/Relu\nTarget layer: /features/features.3/Relu — the input of the last convolution`,
      ),
    );
    const record = JSON.parse(readFileSync(json, 'utf8'));
    assert.ok(Math.abs(record.score - ref.scores[0]) < 1e-3 * Math.abs(ref.scores[0]));
    assert.ok(pearson(record.map.flat(), ref.maps[0].flat()) >= 0.99);

    const detOne = path.join(folder, 'det.npy');
    const detInput = parseNpy(new Uint8Array(readFileSync(path.join(fixtures, 'det_tiny_input.npy'))));
    writeNpy(detOne, [1, ...detInput.shape.slice(1)], detInput.data.subarray(0, detInput.data.length / 2));
    const top = reference.models.det_tiny.top_detection!;
    const box = await run(['explain', det, detOne, '--method', 'gradcam', '--target', 'box:0']);
    assert.equal(box.code, 0, box.output);
    assert.match(
      box.output,
      new RegExp(`^Grad-CAM of detection 0 \\(anchor ${top.anchor}, class ${top.classIndex}, logit [-\\d.]+\\) with its box regression`),
    );
    const unit = await run([
      'explain',
      det,
      detOne,
      '--method',
      'gradcam',
      '--target',
      `output:bbox_regression[${top.anchor},2]`,
      '--json',
      json,
      '--force',
    ]);
    assert.equal(unit.code, 0, unit.output);
    const expected = reference.models.det_tiny.cases.output_box_unit;
    assert.ok(Math.abs(JSON.parse(readFileSync(json, 'utf8')).score - expected.scores[0]) < 1e-4);

    const vitOne = path.join(folder, 'vit.npy');
    const vitInput = parseNpy(new Uint8Array(readFileSync(path.join(fixtures, 'vit_tiny_input.npy'))));
    writeNpy(vitOne, [1, ...vitInput.shape.slice(1)], vitInput.data.subarray(0, vitInput.data.length / 2));
    const like = await run([
      'explain',
      vit,
      vitOne,
      '--method',
      'gradcam',
      '--target',
      `like:${path.join(fixtures, 'vit_tiny_reference_input.npy')}`,
      '--json',
      json,
      '--force',
    ]);
    assert.equal(like.code, 0, like.output);
    assert.match(like.output, /^Grad-CAM of likeness to vit_tiny_reference_input\.npy/);
    assert.match(
      like.output,
      /\nTarget layer: \/encoder\/layers\/encoder_layer_1\/ln_1\/LayerNormalization — the first LayerNorm of the last transformer block, because/,
    );
    assert.ok(Math.abs(JSON.parse(readFileSync(json, 'utf8')).score - reference.models.vit_tiny.cases.like_reference.scores[0]) < 1e-4);
  });

  test('a wrong --target is refused in one sentence', async () => {
    const input = path.join(fixtures, 'vit_tiny_reference_input.npy');
    const cases: [string[], number, RegExp][] = [
      [
        ['--target', 'pixel:3'],
        2,
        /^convlens: --target must be one of class:N, seg:CLASS, box:I, output:NAME\[INDEX\] or like:IMAGE \(got "pixel:3"\)/,
      ],
      [['--target', 'seg:cat'], 2, /^convlens: --target seg: takes a segmentation class number, as seg:15 \(got "seg:cat"\)/],
      [['--target', 'output:logits'], 2, /^convlens: --target output: takes an output name and an index/],
      [['--target', 'class:1', '--class', '1'], 2, /^convlens: give --class or --target, not both/],
      [['--target', 'box:0'], 1, /^convlens: vit_tiny\.onnx: the model has no detection head: /],
      [['--target', 'output:scores[0]'], 1, /^convlens: vit_tiny\.onnx: the model has no output "scores"; its outputs are "logits"$/],
    ];
    for (const [flags, code, message] of cases) {
      const result = await run(['explain', vit, input, '--method', 'gradcam', ...flags]);
      assert.equal(result.code, code, `${flags.join(' ')}: ${result.output}`);
      assert.match(result.output, message);
      assert.ok(!result.output.includes('\n    at '), 'no stack trace');
    }
  });
});

function writeNpy(file: string, shape: number[], data: ArrayLike<number>): void {
  writeFileSync(file, npyBytes(shape, data));
}
