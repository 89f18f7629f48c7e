/**
 * Deconvnet, feature projection, Guided Grad-CAM and FullGrad against an independent PyTorch reference
 * (test/fixtures/explain/make_projection_reference.py, from pytorch-grad-cam's and Captum's definitions)
 * on the explanation fixtures' three networks: every map must correlate with the reference at Pearson
 * r ≥ 0.999 per image (they agree to r > 0.9999999; FullGrad without half its bias layers falls to
 * 0.95–0.988, deconvnet computed as plain saliency to 0.23–0.42). Also what a user of feature projection relies on: another channel gives another
 * picture, nothing shows outside the unit's receptive field, and nothing is leaked.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { receptiveField } from '../../src/engine/dataset/receptiveField';
import { explain } from '../../src/engine/explain';
import { projectFeature, type ProjectedUnit } from '../../src/engine/explain/featureProjection';
import type { Method } from '../../src/engine/explain/methods';
import { useNodeBackend } from '../../src/node/tfBackend';
import { repoRoot } from '../support/paths';
import { pearson } from '../support/statistics';
import { assertNoTensorLeak } from '../support/tensorLeaks';
import { fixtureModel } from '../support/fixtureModels';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'explain');

type Maps = number[][][];
interface ProjectionReference {
  layer: string;
  channel: number;
  unit: ProjectedUnit;
  positions: [number, number][] | null;
  maps: Maps;
}
interface ModelReference {
  model: string;
  input: string;
  classes: number[];
  target_layer: string;
  mid_layer: string;
  maps: Record<'deconvnet' | 'guidedgradcam' | 'fullgrad', Maps>;
  mid_layer_maps: { guidedgradcam: Maps };
  projections: ProjectionReference[];
}

const reference: { models: Record<string, ModelReference> } = JSON.parse(
  readFileSync(path.join(fixtures, 'projection_reference.json'), 'utf8'),
);

const R_MIN = 0.999;

/** An NCHW .npy fixture as an NHWC tensor. */

/** [batch, H, W] maps as one flat array per image; frees the tensor. */
async function perImage(maps: tf.Tensor3D): Promise<Float32Array[]> {
  const [batch] = maps.shape;
  const values = (await maps.data()) as Float32Array;
  maps.dispose();
  const size = values.length / batch;
  return Array.from({ length: batch }, (_, b) => values.slice(b * size, (b + 1) * size));
}

function assertCorrelates(actual: Float32Array[], expected: Maps): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((map, b) => {
    const r = pearson(map, expected[b].flat());
    assert.ok(r >= R_MIN, `image ${b}: r = ${r.toFixed(5)}`);
  });
}

before(async () => {
  await useNodeBackend();
});

for (const [name, ref] of Object.entries(reference.models)) {
  describe(`${name}: projections back to pixels agree with the PyTorch reference`, () => {
    const fixture = fixtureModel(path.join(fixtures, ref.model), path.join(fixtures, ref.input));

    const cases: [Method, string | undefined, Maps][] = [
      ['deconvnet', undefined, ref.maps.deconvnet],
      ['fullgrad', undefined, ref.maps.fullgrad],
      ['guidedgradcam', ref.target_layer, ref.maps.guidedgradcam],
      ['guidedgradcam', ref.mid_layer, ref.mid_layer_maps.guidedgradcam],
    ];
    for (const [method, layer, expected] of cases) {
      test(`${method}${layer ? ` at layer ${layer}` : ''}: Pearson r ≥ ${R_MIN}`, async () => {
        const explanation = await explain(fixture.model, fixture.input, { method, layer, classIndex: ref.classes });
        assert.deepEqual(explanation.classIndex, ref.classes);
        assert.equal(explanation.layer, layer);
        assertCorrelates(await perImage(explanation.maps), expected);
      });
    }

    for (const projection of ref.projections) {
      test(`feature projection of channel ${projection.channel} (${projection.unit}) at ${projection.layer}: Pearson r ≥ ${R_MIN}`, async () => {
        const { maps, signal, positions } = await projectFeature(fixture.model, fixture.input, projection.layer, projection.channel, {
          unit: projection.unit,
        });
        signal.dispose();
        assertCorrelates(await perImage(maps), projection.maps);
        assert.deepEqual(positions, projection.positions ?? undefined);
      });
    }
  });
}

describe('feature projection', () => {
  const ref = reference.models.tiny_gap;
  const fixture = fixtureModel(path.join(fixtures, ref.model), path.join(fixtures, ref.input));

  test('another channel of the same layer gives another picture', async () => {
    const project = async (channel: number) => {
      const { maps, signal } = await projectFeature(fixture.model, fixture.input, ref.mid_layer, channel);
      signal.dispose();
      return perImage(maps);
    };
    const [first, second] = [await project(0), await project(1)];
    for (let b = 0; b < first.length; b++) {
      const r = pearson(first[b], second[b]);
      assert.ok(r < 0.9, `image ${b}: channels 0 and 1 project alike (r = ${r.toFixed(3)})`);
    }
  });

  test('the strongest position lights up its receptive field and nothing outside it', async () => {
    for (const layer of ['/features/features.2/Relu', ref.mid_layer]) {
      const [, height, width] = fixture.input.shape;
      const field = receptiveField(fixture.model, layer, [height, width]);
      const { maps, signal, positions } = await projectFeature(fixture.model, fixture.input, layer, 3, { unit: 'max' });
      signal.dispose();
      const images = await perImage(maps);
      images.forEach((map, b) => {
        const box = field.clippedFieldOf(...positions![b]);
        let inside = 0;
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const within = y >= box.top && y < box.bottom && x >= box.left && x < box.right;
            if (within) inside = Math.max(inside, map[y * width + x]);
            else assert.equal(map[y * width + x], 0, `${layer}, image ${b}: pixel (${y}, ${x}) outside the field is lit`);
          }
        }
        assert.equal(inside, 1, `${layer}, image ${b}: the field is dark`);
      });
    }
  });

  test('a channel or layer that does not exist is named in one sentence', async () => {
    await assert.rejects(projectFeature(fixture.model, fixture.input, ref.mid_layer, 32), {
      message: `channel 32 does not exist: layer "${ref.mid_layer}" has channels 0 to 31`,
    });
    await assert.rejects(projectFeature(fixture.model, fixture.input, 'nowhere', 0), { message: 'the model has no layer "nowhere"' });
    await assert.rejects(
      projectFeature(fixture.model, fixture.input, '/fc/Gemm', 0),
      /a feature projection needs a layer with height, width and channels/,
    );
  });

  test('frees every tensor it makes', async () => {
    await assertNoTensorLeak(async () => {
      for (const unit of ['sum', 'max'] as const) {
        const { maps, signal } = await projectFeature(fixture.model, fixture.input, ref.mid_layer, 2, { unit });
        tf.dispose([maps, signal]);
      }
      for (const method of ['deconvnet', 'fullgrad', 'guidedgradcam'] as const) {
        (await explain(fixture.model, fixture.input, { method })).maps.dispose();
      }
    });
  });
});
