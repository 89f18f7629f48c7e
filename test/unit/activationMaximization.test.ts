/**
 * Activation maximisation (feature visualisation): the parts checked against independent computations
 * (the inverse DFT against tfjs's own ifft/irfft, the warp's hand-written gradient against autodiff of
 * `gather`, the differentiable preprocessing against `imageToInput`), then whole runs whose optimum is
 * known by hand (a linear unit's optimum under bounded input is its filter's sign pattern), and a run
 * on the sample Fashion-MNIST CNN. Every run is checked for leaked tensors. One file, as long as the
 * pipeline it checks stage by stage: the later stages' tests build on the earlier ones' helpers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { maximizeActivation, type MaximizationOptions, toModelInput } from '../../src/engine/dataset/activationMaximization';
import { imageParameterization, InverseRealDft2d, rfft2dFrequencies } from '../../src/engine/dataset/fourierImage';
import { affineResample, type Affine, samplingGrid, randomSource } from '../../src/engine/dataset/imageTransforms';
import { runGraph, singleInput } from '../../src/engine/execute';
import type { GraphNode, RunnableModel } from '../../src/engine/graph';
import { ExplanationCancelled } from '../../src/engine/progress';
import { detectPreprocessing, imageToInput, PIXEL_SCALES, type Preprocessing, type RgbaImage } from '../../src/engine/preprocess';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { sampleModel } from '../support/paths';
import { pearson } from '../support/statistics';

before(async () => {
  await useNodeBackend();
});

/** A model whose nodes are plain tfjs ops on one input named `input`. */
function handModel(shape: number[], nodes: GraphNode[]): RunnableModel {
  const inputShape = [null, ...shape];
  return {
    summary: {
      name: 'hand',
      format: 'tfjs-layers',
      fileName: 'hand',
      inputShapes: [inputShape],
      outputShapes: [],
      layers: [],
      totalParams: 0,
      trainableParams: 0,
    },
    inputs: [{ id: 'input', shape: inputShape }],
    outputs: [nodes[nodes.length - 1].id],
    nodes,
    weights: () => [],
    dispose: () => {},
  };
}

/** Runs `fn` and checks that it leaves as many tensors as it found. */
async function noLeak<T>(fn: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  try {
    return await fn();
  } finally {
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  }
}

/** One channel of an RGBA image's window, row by row. */
function channelPatch(image: RgbaImage, channel: number, top: number, left: number, size: number): number[] {
  const values: number[] = [];
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) values.push(image.data[((top + i) * image.width + left + j) * 4 + channel]);
  return values;
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

describe('Fourier parameterisation', () => {
  test('frequencies are numpy fftfreq magnitudes, with one extra column for an odd width', () => {
    const even = rfft2dFrequencies(4, 4);
    assert.equal(even.columns, 3);
    // fftfreq(4) = [0, .25, -.5, -.25]; fx = [0, .25, .5]
    close(
      even.values,
      [
        0,
        0.25,
        0.5,
        0.25,
        Math.hypot(0.25, 0.25),
        Math.hypot(0.25, 0.5),
        0.5,
        Math.hypot(0.5, 0.25),
        Math.hypot(0.5, 0.5),
        0.25,
        Math.hypot(0.25, 0.25),
        Math.hypot(0.25, 0.5),
      ],
      1e-6,
      'freqs',
    );
    const odd = rfft2dFrequencies(3, 5);
    assert.equal(odd.columns, 4); // fftfreq(5)[:4] = [0, .2, .4, -.4] → |fx| [0, .2, .4, .4]
    close(odd.values.slice(0, 4), [0, 0.2, 0.4, 0.4], 1e-6, 'odd freqs');
  });

  for (const [height, width] of [
    [6, 8],
    [5, 7],
    [1, 4],
  ]) {
    test(`the matrix inverse DFT equals tfjs ifft along y then irfft along x (${height}x${width})`, async () => {
      await noLeak(async () => {
        const channels = 2;
        const dft = new InverseRealDft2d(height, width, channels);
        const fw = dft.columns;
        const random = randomSource(height * 100 + width);
        const stacked = tf.tensor2d(
          Float32Array.from({ length: 2 * height * channels * fw }, () => random.gaussian()),
          [2 * height, channels * fw],
        );
        const ours = dft.apply(stacked);
        // tfjs's FFT kernels are the CPU backend's only (the WebAssembly one has none).
        const backend = tf.getBackend();
        await tf.setBackend('cpu');
        const reference = tf.tidy(() => {
          const re = tf.transpose(tf.reshape(tf.slice(stacked, [0, 0], [height, -1]), [height, channels, fw]), [1, 2, 0]); // [ch, fw, h]
          const im = tf.transpose(tf.reshape(tf.slice(stacked, [height, 0], [height, -1]), [height, channels, fw]), [1, 2, 0]);
          const alongY = tf.ifft(tf.complex(re, im)); // [ch, fw, h]
          const rows = tf.complex(tf.transpose(tf.real(alongY), [0, 2, 1]), tf.transpose(tf.imag(alongY), [0, 2, 1])); // [ch, h, fw]
          const full = tf.irfft(rows); // [ch, h, 2(fw - 1)]
          return tf.transpose(tf.slice(full, [0, 0, 0], [-1, -1, width]), [1, 2, 0]); // [h, w, ch]
        });
        const expected = await reference.data();
        await tf.setBackend(backend);
        assert.deepEqual(ours.shape, [height, width, channels]);
        close(await ours.data(), expected, 1e-4, 'pixels');
        tf.dispose([stacked, ours, reference]);
        dft.dispose();
      });
    });
  }

  test('starts near grey, inside (0, 1), with one variable; pixels and one-channel variants too', async () => {
    await noLeak(async () => {
      for (const [channels, fourier] of [
        [3, true],
        [1, true],
        [3, false],
      ] as const) {
        const param = imageParameterization(10, 12, channels, randomSource(1).gaussian, { fourier });
        const image = param.image();
        assert.deepEqual(image.shape, [10, 12, channels]);
        const values = await image.data();
        assert.ok(
          values.every((v) => v > 0.4 && v < 0.6),
          'near 0.5',
        );
        assert.equal(param.variables.length, 1);
        image.dispose();
        param.dispose();
      }
    });
  });
});

describe('random transformations', () => {
  test('the seeded generator repeats itself, and its draws have the right range and spread', () => {
    const a = randomSource(42);
    const b = randomSource(42);
    const first = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(
      first,
      Array.from({ length: 5 }, () => b.next()),
    );
    assert.notDeepEqual(
      first,
      Array.from({ length: 5 }, () => randomSource(43).next()),
    );
    const g = randomSource(7);
    const draws = Array.from({ length: 20000 }, () => g.gaussian());
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((s, x) => s + (x - mean) ** 2, 0) / draws.length);
    assert.ok(Math.abs(mean) < 0.03 && Math.abs(sd - 1) < 0.03, `mean ${mean}, sd ${sd}`);
    const ints = Array.from({ length: 1000 }, () => g.integer(-2, 2));
    assert.deepEqual([...new Set(ints)].sort(), [-1, -2, 0, 1, 2].sort());
  });

  test('the identity resamples exactly; a whole-pixel shift moves the image and reads grey outside', async () => {
    await noLeak(async () => {
      const image = tf.tensor3d(
        Float32Array.from({ length: 4 * 5 * 2 }, (_, i) => i / 40),
        [4, 5, 2],
      );
      const same = affineResample(image, 4, 5, { angle: 0, scale: 1, dx: 0, dy: 0 });
      close(await same.data(), await image.data(), 1e-6, 'identity');
      const shifted = affineResample(image, 4, 5, { angle: 0, scale: 1, dx: 2, dy: -1 });
      const moved = (await shifted.array()) as number[][][];
      const source = (await image.array()) as number[][][];
      assert.deepEqual(moved[0][2], source[1][0]);
      assert.deepEqual(moved[2][4], source[3][2]);
      assert.deepEqual(moved[3][3], [0.5, 0.5]); // from row 4: outside
      assert.deepEqual(moved[1][1], [0.5, 0.5]); // from column -1: outside
      tf.dispose([image, same, shifted]);
    });
  });

  test("the warp's written-out gradient equals autodiff through gather", async () => {
    await noLeak(async () => {
      const random = randomSource(5);
      const [h, w, c, oh, ow] = [7, 6, 3, 5, 8];
      const image = tf.tensor3d(
        Float32Array.from({ length: h * w * c }, () => random.next()),
        [h, w, c],
      );
      const weights = tf.tensor3d(
        Float32Array.from({ length: oh * ow * c }, () => random.gaussian()),
        [oh, ow, c],
      );
      const affine: Affine = { angle: 0.15, scale: 1.08, dx: 1, dy: -1 };
      const ours = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(affineResample(x as tf.Tensor3D, oh, ow, affine), weights)))(image);
      const { indices, weights: bilinear } = samplingGrid(h, w, oh, ow, affine);
      const reference = tf.grad((x: tf.Tensor) => {
        // tfjs's own gradient of gather (unsortedSegmentSum): slow on the CPU, but fine at this size.
        const pixels = tf.concat([tf.reshape(x, [h * w, c]), tf.fill([1, c], 0.5)], 0);
        const corners = tf.reshape(tf.gather(pixels, tf.tensor1d(indices, 'int32')), [4, oh * ow, c]);
        const sampled = tf.reshape(tf.sum(tf.mul(corners, tf.tensor3d(bilinear, [4, oh * ow, 1])), 0), [oh, ow, c]);
        return tf.sum(tf.mul(sampled, weights));
      })(image);
      close(await ours.data(), await reference.data(), 1e-5, 'gradient');
      assert.ok(Math.max(...(await ours.data()).map(Math.abs)) > 0.1, 'a gradient flows');
      tf.dispose([image, weights, ours, reference]);
    });
  });
});

test('the differentiable preprocessing matches imageToInput for every scale and channel order', async () => {
  await noLeak(async () => {
    const random = randomSource(11);
    const rgba: RgbaImage = {
      width: 5,
      height: 4,
      data: Uint8Array.from({ length: 80 }, (_, i) => (i % 4 === 3 ? 255 : random.integer(0, 255))),
    };
    const rgb = tf.tensor3d(
      Float32Array.from({ length: 60 }, (_, i) => rgba.data[Math.floor(i / 3) * 4 + (i % 3)] / 255),
      [4, 5, 3],
    );
    for (const scale of PIXEL_SCALES) {
      for (const channels of ['rgb', 'bgr', 'gray'] as const) {
        const p: Preprocessing = { width: 5, height: 4, scale, channels };
        const expected = imageToInput(rgba, p);
        const actual = toModelInput(rgb, p);
        assert.deepEqual(actual.shape, expected.shape);
        const tolerance = scale === '0-255' || scale === 'caffe' ? 1e-3 : 1e-5;
        close(await actual.data(), await expected.data(), tolerance, `${scale}/${channels}`);
        tf.dispose([expected, actual]);
      }
    }
    rgb.dispose();
  });
});

describe('maximizeActivation on hand-made models', () => {
  // A 5x5 diagonal-edge filter on the red channel only: +1 below the diagonal, −1 above.
  const pattern = Array.from({ length: 5 }, (_, i) => Array.from({ length: 5 }, (_, j) => Math.sign(i - j)));
  let kernel: tf.Tensor4D;
  let conv: RunnableModel;
  let positive: RunnableModel;
  let dense: RunnableModel;
  let denseWeights: number[][];
  const rgb15: Preprocessing = { width: 15, height: 15, scale: '0-1', channels: 'rgb' };

  before(async () => {
    const k = new Float32Array(5 * 5 * 3);
    pattern.flat().forEach((v, i) => (k[i * 3] = v));
    kernel = tf.tensor4d(k, [5, 5, 3, 1]);
    // Linear activation, valid padding: a 15x15 image gives 11x11 units; the centre one (5, 5) sees
    // the image's rows and columns 5..9.
    conv = handModel([15, 15, 3], [{ id: 'conv', inputs: ['input'], run: ([x]) => tf.conv2d(x as tf.Tensor4D, kernel, 1, 'valid') }]);
    // Channel 1 of this layer sums the red channel: its mean is highest for an all-red image.
    positive = handModel(
      [15, 15, 3],
      [
        {
          id: 'conv',
          inputs: ['input'],
          run: ([x]) =>
            tf.concat([tf.conv2d(x as tf.Tensor4D, kernel, 1, 'same'), tf.conv2d(x as tf.Tensor4D, tf.abs(kernel), 1, 'same')], 3),
        },
      ],
    );
    // Logits linear in the pixels: class c scores Σ W[p, c] · x_p.
    const random = randomSource(7);
    const w = tf.tensor2d(
      Float32Array.from({ length: 8 * 8 * 3 * 3 }, () => random.gaussian()),
      [8 * 8 * 3, 3],
    );
    denseWeights = (await w.array()) as number[][];
    dense = handModel([8, 8, 3], [{ id: 'logits', inputs: ['input'], run: ([x]) => tf.matMul(tf.reshape(x, [x.shape[0]!, -1]), w) }]);
    dense.dispose = () => w.dispose();
  });
  after(() => {
    kernel.dispose();
    dense.dispose();
  });

  const neuron = { kind: 'neuron', layer: 'conv', channel: 0 } as const;

  for (const transforms of [false, undefined] as const) {
    test(`a linear unit's image is its filter's sign pattern (transforms ${transforms === false ? 'off' : 'on'}), and the objective rises`, async () => {
      const result = await noLeak(() => maximizeActivation(conv, { target: neuron, preprocessing: rgb15, steps: 48, seed: 1, transforms }));
      const red = channelPatch(result.image, 0, 5, 5, 5);
      const r = pearson(red, pattern.flat());
      assert.ok(r > (transforms === false ? 0.9 : 0.7), `correlation with the filter ${r.toFixed(3)}`);
      assert.equal(result.objective.length, 48);
      const firstTen = result.objective.slice(0, 10).reduce((s, v) => s + v, 0) / 10;
      const lastTen = result.objective.slice(-10).reduce((s, v) => s + v, 0) / 10;
      assert.ok(Math.abs(result.objective[0]) < 0.5, `starts near 0 (grey): ${result.objective[0]}`);
      assert.ok(lastTen > firstTen + 3, `objective ${firstTen.toFixed(2)} → ${lastTen.toFixed(2)}`);
      // The best possible value is 20 (20 nonzero weights of ±1, pixels in [0, 1]).
      assert.ok(result.score > 7 && result.score <= 20, `final score ${result.score}`);
    });
  }

  test('a channel target maximises the channel mean: all red for a filter of positive weights on red', async () => {
    const result = await noLeak(() =>
      // A larger learning rate than Lucid's: the image's mean (the DC coefficient) moves ~0.012 logits
      // per step at 0.05, too slowly for a short test.
      maximizeActivation(positive, {
        target: { kind: 'channel', layer: 'conv', channel: 1 },
        preprocessing: rgb15,
        steps: 48,
        learningRate: 0.2,
        seed: 2,
      }),
    );
    // The border counts less (the 'same' padding, and jitter shows grey there): the inner 11x11.
    const red = channelPatch(result.image, 0, 2, 2, 11);
    const meanRed = red.reduce((s, v) => s + v, 0) / red.length / 255;
    const minRed = Math.min(...red) / 255;
    assert.ok(meanRed > 0.85 && minRed > 0.6, `mean red ${meanRed.toFixed(3)}, least ${minRed.toFixed(3)}`);
    assert.ok(result.objective[result.objective.length - 1] > result.objective[0] + 5);
  });

  test("a class target's image agrees in sign with the class's pixel weights", async () => {
    const classIndex = 1;
    for (const [parameterization, minimum] of [
      [{}, 0.8],
      [{ fourier: false, decorrelate: false }, 0.97],
    ] as const) {
      const result = await noLeak(() =>
        maximizeActivation(dense, {
          target: { kind: 'class', classIndex },
          preprocessing: { width: 8, height: 8, scale: '0-255', channels: 'rgb' },
          steps: 100,
          seed: 3,
          transforms: false,
          parameterization,
        }),
      );
      let agree = 0;
      let count = 0;
      for (let p = 0; p < 64; p++) {
        for (let c = 0; c < 3; c++) {
          const weight = denseWeights[p * 3 + c][classIndex];
          if (Math.abs(weight) < 0.5) continue; // weak weights matter little to the score
          count++;
          if (Math.sign(result.image.data[p * 4 + c] - 127.5) === Math.sign(weight)) agree++;
        }
      }
      assert.ok(agree / count > minimum, `${JSON.stringify(parameterization)}: signs agree on ${agree} of ${count}`);
    }
  });

  test('is deterministic for a seed, and differs with another seed', async () => {
    const options: MaximizationOptions = { target: neuron, preprocessing: rgb15, steps: 12, seed: 9 };
    const a = await noLeak(() => maximizeActivation(conv, options));
    const b = await noLeak(() => maximizeActivation(conv, options));
    const c = await noLeak(() => maximizeActivation(conv, { ...options, seed: 10 }));
    assert.deepEqual(a.image.data, b.image.data);
    assert.deepEqual(a.objective, b.objective);
    assert.equal(a.seed, 9);
    assert.notDeepEqual(a.image.data, c.image.data);
  });

  test('reports pictures of the synthesised size every k steps and at the end, with progress', async () => {
    const calls: { step: number; total: number; width: number; height: number; bytes: number; objective: number }[] = [];
    const progress: number[] = [];
    const result = await noLeak(() =>
      maximizeActivation(conv, {
        target: neuron,
        preprocessing: rgb15,
        size: { width: 20, height: 12 }, // resampled to the model's 15x15 at each step
        steps: 12,
        reportEvery: 5,
        seed: 4,
        onStep: (step, total, image, objective) => {
          calls.push({ step, total, width: image.width, height: image.height, bytes: image.data.length, objective });
        },
        progress: { report: (done) => progress.push(done) },
      }),
    );
    assert.deepEqual(
      calls.map((c) => c.step),
      [5, 10, 12],
    );
    for (const call of calls) assert.deepEqual([call.total, call.width, call.height, call.bytes], [12, 20, 12, 20 * 12 * 4]);
    assert.deepEqual(
      calls.map((c) => c.objective),
      [result.objective[4], result.objective[9], result.objective[11]],
    );
    assert.deepEqual(
      progress,
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.deepEqual([result.image.width, result.image.height], [20, 12]);
    assert.ok(
      [...result.image.data].every((v, i) => i % 4 !== 3 || v === 255),
      'opaque',
    );
  });

  test('cancelling stops at the next step with ExplanationCancelled, freeing everything', async () => {
    const token = { cancelled: false };
    let reported = 0;
    await noLeak(() =>
      assert.rejects(
        maximizeActivation(conv, {
          target: neuron,
          preprocessing: rgb15,
          steps: 200,
          reportEvery: 3,
          seed: 1,
          token,
          onStep: (step) => {
            reported = step;
            if (step === 6) token.cancelled = true;
          },
        }),
        ExplanationCancelled,
      ),
    );
    assert.equal(reported, 6);
    // The Progress convention's token works too.
    await noLeak(() =>
      assert.rejects(
        maximizeActivation(conv, { target: neuron, preprocessing: rgb15, steps: 50, progress: { token: { cancelled: true } } }),
        ExplanationCancelled,
      ),
    );
  });

  test('rejects targets the model lacks, naming them, without leaking', async () => {
    const cases: [MaximizationOptions['target'], RegExp][] = [
      [{ kind: 'channel', layer: 'nope', channel: 0 }, /no layer "nope"/],
      [{ kind: 'channel', layer: 'conv', channel: 1 }, /channels 0 to 0/],
      [{ kind: 'neuron', layer: 'conv', channel: 0, x: 11 }, /no unit at x=11/],
    ];
    for (const [target, message] of cases) {
      await noLeak(() => assert.rejects(maximizeActivation(conv, { target, preprocessing: rgb15, steps: 2 }), message));
    }
    await noLeak(() =>
      assert.rejects(
        maximizeActivation(dense, {
          target: { kind: 'class', classIndex: 3 },
          preprocessing: { width: 8, height: 8, scale: '0-1', channels: 'rgb' },
          steps: 2,
        }),
        /classes 0 to 2/,
      ),
    );
  });
});

describe('maximizeActivation on the sample Fashion-MNIST CNN', () => {
  let model: RunnableModel;
  before(async () => {
    model = await loadModel(fileModelSource(sampleModel));
  });
  after(() => model.dispose());

  async function logits(image: RgbaImage, p: Preprocessing): Promise<number[]> {
    const output = tf.tidy(() => runGraph(model, singleInput(model, imageToInput(image, p)), [model.logits!])[0]);
    const values = Array.from(await output.data());
    output.dispose();
    return values;
  }

  test("maximising a class's logit raises it far above its value on a grey image", async () => {
    const p = detectPreprocessing(model.summary);
    assert.deepEqual(p, { width: 28, height: 28, scale: '0-255', channels: 'gray' });
    const classIndex = 1; // trouser
    const grey: RgbaImage = { width: 28, height: 28, data: new Uint8Array(28 * 28 * 4).fill(128) };
    const before = await logits(grey, p);
    const result = await noLeak(() =>
      maximizeActivation(model, { target: { kind: 'class', classIndex }, preprocessing: p, steps: 32, seed: 1 }),
    );
    assert.deepEqual([result.image.width, result.image.height], [28, 28]);
    const data = result.image.data;
    assert.ok(
      [...data].every((v, i) => i % 4 === 3 || v === data[i - (i % 4)]),
      'grayscale: equal channels',
    );
    // Checked independently of the optimiser: the byte image through the ordinary preprocessing.
    const afterLogits = await logits(result.image, p);
    assert.ok(
      afterLogits[classIndex] > before[classIndex] + 8,
      `logit ${before[classIndex].toFixed(2)} → ${afterLogits[classIndex].toFixed(2)}`,
    );
    assert.equal(
      afterLogits.indexOf(Math.max(...afterLogits)),
      classIndex,
      `now the top class: ${afterLogits.map((v) => v.toFixed(1)).join(' ')}`,
    );
    assert.ok(Math.abs(result.score - afterLogits[classIndex]) < 0.1, "score is the final image's logit");
  });

  test('a channel of an inner layer: the mean activation rises', async () => {
    const p = detectPreprocessing(model.summary);
    const result = await noLeak(() =>
      maximizeActivation(model, { target: { kind: 'channel', layer: 'conv3', channel: 5 }, preprocessing: p, steps: 16, seed: 2 }),
    );
    assert.ok(
      result.score > 2 * Math.max(result.objective[0], 0.1),
      `channel mean ${result.objective[0].toFixed(2)} → ${result.score.toFixed(2)}`,
    );
  });
});
