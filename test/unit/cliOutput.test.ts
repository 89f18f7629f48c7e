/**
 * What the command line writes and prints when the model or the paths are not to be trusted: output
 * files never replace an existing file without --force, never go through a symbolic link and never
 * replace the model, its files or an input; names from the model reach the terminal without control
 * characters or escape sequences; a model naming files outside its folder is one line and exit 1.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { run } from '../../src/cli/main';
import { oneLine, terminalText } from '../../src/cli/terminalText';
import { repoRoot, sampleModel, sampleWorkspace } from '../support/paths';
import { temporaryFolder } from '../support/temporaryFolders';

const SHARD = 'group1-shard1of1.bin';
const sampleImages = path.join(sampleWorkspace, 'images');
// eslint-disable-next-line no-control-regex -- what must not reach the terminal
const ESCAPES = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** A fresh folder holding a copy of the sample model in `model/` and of the sample images in `images/`. */
function workspace(): { root: string; model: string; images: string; sneaker: string } {
  const root = temporaryFolder('convlens-cli-out-');
  const folder = path.join(root, 'model');
  mkdirSync(folder);
  for (const file of ['model.json', SHARD, 'labels.txt']) copyFileSync(path.join(path.dirname(sampleModel), file), path.join(folder, file));
  cpSync(sampleImages, path.join(root, 'images'), { recursive: true });
  return {
    root,
    model: path.join(folder, 'model.json'),
    images: path.join(root, 'images'),
    sneaker: path.join(root, 'images', 'sneaker.png'),
  };
}

const explainArgs = (model: string, input: string, ...rest: string[]) => ['explain', model, input, '--method', 'gradcam', ...rest];

describe('output files', () => {
  test('an existing file is replaced only with --force', async () => {
    const { root, model, sneaker } = workspace();
    const map = path.join(root, 'map.json');
    const first = await run(explainArgs(model, sneaker, '--json', map));
    assert.equal(first.code, 0, first.output);
    writeFileSync(map, 'keep me');
    const again = await run(explainArgs(model, sneaker, '--json', map));
    assert.equal(again.code, 1);
    assert.equal(again.output, `convlens: ${map} for --json already exists; add --force to replace it`);
    assert.equal(readFileSync(map, 'utf8'), 'keep me');
    const forced = await run(explainArgs(model, sneaker, '--json', map, '--force'));
    assert.equal(forced.code, 0, forced.output);
    assert.equal(JSON.parse(readFileSync(map, 'utf8')).method, 'gradcam');
  });

  test('the model, its weights and the input are never replaced, --force or not', async () => {
    const { model, sneaker } = workspace();
    const shard = path.join(path.dirname(model), SHARD);
    const before = [model, shard, sneaker].map((file) => readFileSync(file));
    const cases: [string[], string][] = [
      [['--out', model, '--force'], `${model} for --out is the model file`],
      [['--json', shard, '--force'], `${shard} for --json is one of the model's files`],
      [['--out', sneaker, '--force'], `${sneaker} for --out is the input`],
    ];
    for (const [options, message] of cases) {
      const { code, output } = await run(explainArgs(model, sneaker, ...options));
      assert.equal(code, 1, output);
      assert.equal(output, `convlens: ${message}; ConvLens never writes over a file it reads`);
    }
    // Another spelling of the same file is the same file.
    const { output } = await run(
      explainArgs(model, sneaker, '--out', path.join(path.dirname(model), '..', 'model', 'model.json'), '--force'),
    );
    assert.match(output, /is the model file; ConvLens never writes over a file it reads$/);
    assert.deepEqual(
      [model, shard, sneaker].map((file) => readFileSync(file)),
      before,
    );
  });

  test('never through a symbolic link, even with --force', async () => {
    const { root, model, sneaker } = workspace();
    const target = path.join(root, 'precious.txt');
    writeFileSync(target, 'precious');
    const link = path.join(root, 'overlay.png');
    symlinkSync(target, link);
    const { code, output } = await run(explainArgs(model, sneaker, '--out', link, '--force'));
    assert.equal(code, 1);
    assert.equal(
      output,
      `convlens: ${link} for --out is a symbolic link; ConvLens does not write through links (remove it or choose another name)`,
    );
    assert.equal(readFileSync(target, 'utf8'), 'precious');
    assert.ok(lstatSync(link).isSymbolicLink());
  });

  test('a missing folder is one sentence', async () => {
    const { root, model, sneaker } = workspace();
    const folder = path.join(root, 'no', 'such');
    const { code, output } = await run(explainArgs(model, sneaker, '--out', path.join(folder, 'overlay.png')));
    assert.equal(code, 1);
    assert.equal(output, `convlens: the folder ${folder} for --out does not exist`);
  });

  test('--out and --json cannot name the same file', async () => {
    const { root, model, sneaker } = workspace();
    const file = path.join(root, 'both');
    const { code, output } = await run(explainArgs(model, sneaker, '--out', file, '--json', file));
    assert.equal(code, 2);
    assert.match(output, /^convlens: --out and --json name the same file\n/);
  });

  test('top-patches --out and embed --json keep to the same rules, before the folder is read', async () => {
    const { root, model, images } = workspace();
    const image = path.join(images, 'bag.png');
    const patches = await run(['top-patches', model, images, '--layer', 'conv3', '--channel', '0', '--n', '2', '--out', image, '--force']);
    assert.equal(patches.code, 1);
    assert.equal(patches.output, `convlens: ${image} for --out is an input image; ConvLens never writes over a file it reads`);
    const points = path.join(root, 'points.json');
    writeFileSync(points, '[]');
    const embedded = await run(['embed', model, images, '--method', 'pca', '--json', points]);
    assert.equal(embedded.code, 1);
    assert.equal(embedded.output, `convlens: ${points} for --json already exists; add --force to replace it`);
    const grid = path.join(root, 'grid.png');
    const written = await run(['top-patches', model, images, '--layer', 'conv3', '--channel', '0', '--n', '2', '--out', grid]);
    assert.equal(written.code, 0, written.output);
    assert.ok(existsSync(grid));
  });

  test('--force is in the usage text', async () => {
    const { output } = await run(['--help']);
    assert.match(output, /explain <model> <input> .*\[--force\]/);
    assert.match(output, /top-patches <model> <folder> .*\[--force\]/);
    assert.match(output, /embed <model> <folder> .*\[--force\]/);
  });
});

describe('names from the model on the terminal', () => {
  const hostileLabel = '\x1b[2J\x1b]0;owned\x07Sneaker\x9b31m\x7f';

  test('a class label with escape sequences is printed without them; --json keeps it exactly, escaped', async () => {
    const { model, sneaker } = workspace();
    const labels = readFileSync(path.join(path.dirname(model), 'labels.txt'), 'utf8').replace('Sneaker', hostileLabel);
    writeFileSync(path.join(path.dirname(model), 'labels.txt'), labels);
    const text = await run(['predict', model, sneaker, '--top', '1']);
    assert.equal(text.code, 0, text.output);
    assert.doesNotMatch(text.output, ESCAPES);
    assert.match(text.output, /^ +\d+\.\d+% {2}Sneaker {2}\(class 7,/m);
    const json = await run(['predict', model, sneaker, '--top', '1', '--json']);
    assert.doesNotMatch(json.output, ESCAPES);
    assert.equal(JSON.parse(json.output).results[0].predictions[0].label, hostileLabel);
    const explained = await run(explainArgs(model, sneaker));
    assert.match(explained.output, /^Grad-CAM of Sneaker \(class 7/);
    assert.doesNotMatch(explained.output, ESCAPES);
  });

  test('a layer name cannot clear the screen or forge a line of the summary table', async () => {
    const { root } = workspace();
    const onnx = path.join(root, 'lrn-softmax.onnx');
    // The same length keeps the protobuf valid: an ONNX node may be named anything.
    const forged = '\x1b[2J\nTotal:';
    assert.equal(forged.length, 'softmax_chw'.length);
    const bytes = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'onnx', 'lrn-softmax-opset11', 'lrn-softmax-opset11.onnx'));
    writeFileSync(onnx, Buffer.from(bytes.toString('latin1').replaceAll('softmax_chw', forged), 'latin1'));
    const { code, output } = await run(['summary', onnx]);
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, ESCAPES);
    assert.doesNotMatch(output, /^Total:/m);
    assert.match(output, /^ Total: +Softmax +\(None, 6, 17, 17\) +0$/m);
  });

  test('what is stripped: C0 but newline and tab, DEL, C1, and whole escape sequences', () => {
    assert.equal(terminalText('a\x1b[31mred\x1b[0m\tb\nc\x00d\x7fe\x85f'), 'ared\tb\ncdef');
    assert.equal(terminalText('x\x1b]0;title\x07y\x1b]8;;http://e\x1b\\z'), 'xyz');
    assert.equal(terminalText('x\x1bcy\x1b(Bz\x9b2Jw'), 'xyzw');
    assert.equal(terminalText('x\x1b]0;never ends\nnext line'), 'x\nnext line');
    assert.equal(oneLine('a\nb\tc'), 'a b c');
  });
});

describe('a model naming files outside its folder, on the command line', () => {
  test('exit 1 and one line naming the model file', async () => {
    const { root, model, sneaker } = workspace();
    copyFileSync(path.join(path.dirname(model), SHARD), path.join(root, 'secret.bin'));
    const json = JSON.parse(readFileSync(model, 'utf8'));
    json.weightsManifest[0].paths = ['../secret.bin'];
    writeFileSync(model, JSON.stringify(json));
    const { code, output } = await run(['predict', model, sneaker]);
    assert.equal(code, 1);
    assert.equal(
      output,
      `convlens: model.json lists the weight file "../secret.bin", which is outside the model's folder; ConvLens reads only files in the model's folder.`,
    );
  });
});
