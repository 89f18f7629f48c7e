/**
 * `convlens project`: a channel's deconvnet projection to pixels written as a PNG the size of the model's
 * input, from the channel's strongest position (only that position's receptive field lights up) or the
 * whole channel, and the refusals of wrong usage.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { PNG } from 'pngjs';
import { run } from '../../src/cli/main';
import { useNodeBackend } from '../../src/node/tfBackend';
import { sampleModel, sampleWorkspace } from '../support/paths';
import { temporaryFolder } from '../support/temporaryFolders';

before(() => useNodeBackend());

const sneaker = path.join(sampleWorkspace, 'images', 'sneaker.png');

/** Pixels of the PNG that differ from its most common colour (where the projection is not zero). */
function lit(file: string): { width: number; height: number; at: [number, number][] } {
  const png = PNG.sync.read(readFileSync(file));
  const counts = new Map<number, number>();
  for (let p = 0; p < png.width * png.height; p++) counts.set(png.data[4 * p], (counts.get(png.data[4 * p]) ?? 0) + 1);
  const background = [...counts].sort((a, b) => b[1] - a[1])[0][0];
  const at: [number, number][] = [];
  for (let p = 0; p < png.width * png.height; p++) if (png.data[4 * p] !== background) at.push([Math.floor(p / png.width), p % png.width]);
  return { width: png.width, height: png.height, at };
}

test('from the strongest position, only its 3×3 receptive field in conv1 lights up; the whole channel reaches further', async () => {
  const folder = temporaryFolder('convlens-project-');
  const strongest = path.join(folder, 'strongest.png');
  const first = await run(['project', sampleModel, sneaker, '--layer', 'conv1', '--channel', '1', '--out', strongest]);
  assert.equal(first.code, 0, first.output);
  const position = /^Deconvnet projection of channel 1 of conv1 from its strongest position \(row (\d+), column (\d+)\), 28×28$/m.exec(
    first.output,
  );
  assert.ok(position, first.output);
  const [row, column] = [Number(position[1]), Number(position[2])];
  const one = lit(strongest);
  assert.deepEqual([one.width, one.height], [28, 28]);
  assert.ok(one.at.length > 0, 'something lights up');
  for (const [y, x] of one.at)
    assert.ok(Math.abs(y - row) <= 1 && Math.abs(x - column) <= 1, `(${y}, ${x}) is outside the field of (${row}, ${column})`);

  const whole = path.join(folder, 'whole.png');
  const second = await run(['project', sampleModel, sneaker, '--layer', 'conv1', '--channel', '1', '--unit', 'sum', '--out', whole]);
  assert.equal(second.code, 0, second.output);
  assert.match(second.output, /from the whole channel, 28×28$/m);
  assert.ok(lit(whole).at.length > 9 * 4, 'the whole channel projects from many positions');
});

test('wrong usage and a layer or channel the model lacks are refused in one sentence', async () => {
  const cases: [string[], number, RegExp][] = [
    [['--layer', 'conv1'], 2, /^convlens: --channel must be a channel number$/m],
    [['--channel', '1'], 2, /^convlens: project needs --layer NAME/m],
    [['--layer', 'conv1', '--channel', '1', '--unit', 'mean'], 2, /^convlens: --unit must be max or sum \(got "mean"\)$/m],
    [['--layer', 'nope', '--channel', '1'], 1, /has no layer "nope" \(list its layers with: convlens summary/m],
    [
      ['--layer', 'predictions', '--channel', '1'],
      1,
      /layer "predictions" has output shape \(None, 10\); a projection needs a layer with height, width and channels$/m,
    ],
    [['--layer', 'conv1', '--channel', '16'], 1, /channel 16 does not exist: layer "conv1" has channels 0 to 15$/m],
  ];
  for (const [options, code, message] of cases) {
    const { code: got, output } = await run(['project', sampleModel, sneaker, ...options]);
    assert.equal(got, code, output);
    assert.match(output, message);
    // A refused file or layer is one sentence; wrong usage is followed by the usage text.
    if (code === 1) assert.equal(output.trim().split('\n').length, 1, output);
  }
});
