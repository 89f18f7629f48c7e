import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeLayer, formatCount, formatParams, formatShape, formatShapes } from '../../src/shared/format';
import { iconForLayerType } from '../../src/shared/layerIcons';

test('shapes read as Keras prints them, with None for the batch', () => {
  assert.equal(formatShape([null, 28, 28, 16]), '(None, 28, 28, 16)');
  assert.equal(formatShape([null]), '(None,)');
  assert.equal(formatShape([-1, 10]), '(None, 10)');
  assert.equal(
    formatShapes([
      [null, 4],
      [null, 2],
    ]),
    '(None, 4) (None, 2)',
  );
  assert.equal(formatShapes([]), '?');
});

test('counts are grouped by thousands and pluralised', () => {
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatParams(1), '1 param');
  assert.equal(formatParams(0), '0 params');
  assert.equal(
    describeLayer({
      id: 'c',
      name: 'c',
      type: 'Conv2D',
      outputShapes: [[null, 7, 7, 48]],
      params: 13872,
      trainableParams: 13872,
      inputs: [],
    }),
    'Conv2D · (None, 7, 7, 48) · 13,872 params',
  );
});

test('each layer family has its own icon', () => {
  assert.equal(iconForLayerType('Conv2D'), 'symbol-array');
  assert.equal(iconForLayerType('DepthwiseConv2D'), 'symbol-array');
  assert.equal(iconForLayerType('MaxPooling2D'), 'fold-down');
  assert.equal(iconForLayerType('BatchNormalization'), 'symbol-ruler');
  assert.equal(iconForLayerType('Sequential'), 'type-hierarchy');
  assert.equal(iconForLayerType('Dense'), 'symbol-namespace');
  assert.equal(iconForLayerType('SomethingNew'), 'symbol-misc');
});
