/**
 * Folding long branching models into blocks for the layer trees: hand-built graphs (a chain, residual
 * blocks, an Inception-style fork) and a real Xception-style Keras model.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { type LayerInfo, walkLayers } from '../../src/engine/model';
import { readModelSummary } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { groupIntoBlocks, isBlock } from '../../src/shared/layerBlocks';
import { repoRoot } from '../support/paths';

function layer(name: string, inputs: string[], params = 1): LayerInfo {
  return { id: name, name, type: 'Conv2D', outputShapes: [[null, 4, 4, 2]], params, trainableParams: params, inputs };
}

/** The grouping as names: a block is [its name: its layers]. */
function outline(layers: LayerInfo[]): string[] {
  return layers.map((l) => (isBlock(l) ? `[${l.name}: ${l.children!.map((c) => c.name).join(' ')}]` : l.name));
}

describe('layer blocks', () => {
  test('a plain chain stays flat', () => {
    const chain = Array.from({ length: 40 }, (_, i) => layer(`l${i}`, i ? [`l${i - 1}`] : []));
    assert.deepEqual(groupIntoBlocks(chain), chain);
  });

  test('short models stay flat whatever their shape', () => {
    const residual = [layer('x', []), layer('a', ['x']), layer('add', ['a', 'x'])];
    assert.deepEqual(groupIntoBlocks(residual), residual);
  });

  test('residual blocks fold from the layer after the shortcut’s source to the addition', () => {
    const layers = [
      layer('stem', []),
      layer('b1_a', ['stem']),
      layer('b1_b', ['b1_a']),
      layer('b1_add', ['b1_b', 'stem']),
      layer('b1_out', ['b1_add']),
      layer('b2_a', ['b1_out']),
      layer('b2_short', ['b1_out']),
      layer('b2_add', ['b2_a', 'b2_short']),
      layer('head', ['b2_add'], 5),
    ];
    const grouped = groupIntoBlocks(layers, 0);
    assert.deepEqual(outline(grouped), ['stem', '[b1: b1_a b1_b b1_add]', 'b1_out', '[b2: b2_a b2_short b2_add]', 'head']);
    // Every layer appears once, in order; a block's counts are its layers' sums and its output its last layer's.
    assert.deepEqual(
      [...walkLayers(grouped)].filter((l) => !isBlock(l)),
      layers,
    );
    assert.equal(grouped[1].params, 3);
    assert.equal(grouped[1].id, 'block:b1_add');
  });

  test('an Inception-style fork into a concatenation folds into one block named after it', () => {
    const layers = [
      layer('input', []),
      layer('conv2d_1', ['input']),
      layer('conv2d_2', ['input']),
      layer('pool', ['input']),
      layer('conv2d_3', ['conv2d_2']),
      layer('mixed0', ['conv2d_1', 'conv2d_3', 'pool']),
      layer('dense', ['mixed0']),
    ];
    assert.deepEqual(outline(groupIntoBlocks(layers, 0)), ['input', '[mixed0: conv2d_1 conv2d_2 pool conv2d_3 mixed0]', 'dense']);
  });

  test('the mini-Xception Keras model: its four residual modules become blocks', async () => {
    await useNodeBackend();
    const summary = await readModelSummary(
      fileModelSource(path.join(repoRoot, 'test', 'fixtures', 'keras', 'fer2013_mini_XCEPTION.102-0.66.hdf5')),
    );
    const grouped = groupIntoBlocks(summary.layers);
    const blocks = grouped.filter(isBlock);
    assert.deepEqual(
      blocks.map((b) => b.name),
      ['add_1', 'add_2', 'add_3', 'add_4'],
    );
    assert.ok(blocks.every((b) => b.children!.length === 9));
    assert.deepEqual(
      [...walkLayers(grouped)].filter((l) => !isBlock(l)).map((l) => l.id),
      summary.layers.map((l) => l.id),
    );
    assert.equal(
      grouped.reduce((n, l) => n + l.params, 0),
      summary.totalParams,
    );
  });
});
