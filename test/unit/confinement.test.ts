/**
 * A model file from a stranger's repository reads nothing outside its own folder: the files it names
 * (weight shards, ONNX external data, labels, sidecars) are refused when the path is absolute or climbs
 * out with `..`, when a symbolic link leads out, when the file is a FIFO or device, or larger than the
 * model declares. The hostile files are made in a temporary folder here; every case must end in one
 * sentence naming the model file, within seconds, without opening anything outside the folder.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { copyFileSync, mkdirSync, readFileSync, realpathSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { isInsideFolder, pathShapeProblem, RefusedFileError, REFUSALS, readBeside } from '../../src/engine/confinedPath';
import { ModelReadError } from '../../src/engine/errors';
import { openModel } from '../../src/engine/openModel';
import { loadModel } from '../../src/engine/readers';
import { fileModelSource } from '../../src/node/fileModelSource';
import { useNodeBackend } from '../../src/node/tfBackend';
import { hostFiles } from '../../webview/common/hostFiles';
import { createChannel } from '../../src/shared/messaging';
import type { PanelProtocol } from '../../src/shared/panelProtocol';
import { repoRoot, sampleModel } from '../support/paths';
import { temporaryFolder } from '../support/temporaryFolders';

before(() => useNodeBackend());

const SHARD = 'group1-shard1of1.bin';
const ONLY_IN_FOLDER = "ConvLens reads only files in the model's folder.";
const LINK_OUT = `leads through a symbolic link to outside the model's folder; ${ONLY_IN_FOLDER}`;
/** A refusal must come long before anything large could have been read. */
const PROMPT_MS = 5000;

interface Hostile {
  /** Holds `model/` and, outside it, files a hostile model would like read. */
  root: string;
  folder: string;
  modelJson: string;
  /** Outside the model's folder: a copy of the real weights, so reading it would "work". */
  secret: string;
}

/** The sample model copied into a fresh `model/` folder, with the weights copied outside it too. */
function hostileCopy(): Hostile {
  const root = temporaryFolder('convlens-confine-');
  const folder = path.join(root, 'model');
  mkdirSync(folder);
  for (const file of ['model.json', SHARD, 'labels.txt']) copyFileSync(path.join(path.dirname(sampleModel), file), path.join(folder, file));
  const secret = path.join(root, 'secret.bin');
  copyFileSync(path.join(folder, SHARD), secret);
  return { root, folder, modelJson: path.join(folder, 'model.json'), secret };
}

function setShardPath(modelJson: string, shardPath: string): void {
  const json = JSON.parse(readFileSync(modelJson, 'utf8'));
  json.weightsManifest[0].paths = [shardPath];
  writeFileSync(modelJson, JSON.stringify(json));
}

function mkfifo(file: string): void {
  const made = spawnSync('mkfifo', [file]);
  assert.equal(made.status, 0, `mkfifo ${file}: ${made.stderr}`);
}

/**
 * Runs `work` and returns how it rejected, after checking that it did so promptly and that every file
 * opened meanwhile (through fs.promises, as the Node source reads) lies inside `folder`.
 */
async function refusal(folder: string, work: () => Promise<unknown>): Promise<ModelReadError> {
  const opened: string[] = [];
  const { open, readFile } = fs.promises;
  fs.promises.open = ((file: fs.PathLike, ...rest: never[]) => (opened.push(String(file)), open(file, ...rest))) as typeof open;
  fs.promises.readFile = ((file: fs.PathLike, ...rest: never[]) => (opened.push(String(file)), readFile(file, ...rest))) as typeof readFile;
  const start = performance.now();
  let error: unknown;
  try {
    await work();
  } catch (e) {
    error = e;
  } finally {
    fs.promises.open = open;
    fs.promises.readFile = readFile;
  }
  const ms = performance.now() - start;
  assert.ok(error instanceof ModelReadError, `expected a ModelReadError, got ${error === undefined ? 'success' : String(error)}`);
  assert.ok(ms < PROMPT_MS, `took ${ms.toFixed(0)} ms`);
  assert.doesNotMatch(error.message, /\n/);
  const realFolder = realpathSync(folder);
  for (const file of opened) assert.ok(isInsideFolder(realFolder, realpathSync(file), path.sep), `opened ${file}, outside ${folder}`);
  return error;
}

const load = (file: string) => async () => (await openModel(fileModelSource(file))).model.dispose();

describe('the shape of a path a model names', () => {
  test('absolute paths, `..` segments, backslashes and NULs are refused; plain relative paths are not', () => {
    assert.equal(pathShapeProblem('../secret.bin'), REFUSALS.outside);
    assert.equal(pathShapeProblem('weights/../../secret.bin'), REFUSALS.outside);
    assert.equal(pathShapeProblem('..'), REFUSALS.outside);
    assert.equal(pathShapeProblem('/etc/passwd'), REFUSALS.absolute);
    assert.equal(pathShapeProblem('C:/Windows/win.ini'), REFUSALS.absolute);
    assert.equal(pathShapeProblem('..\\secret.bin'), REFUSALS.backslash);
    assert.equal(pathShapeProblem('shard.bin\0.png'), REFUSALS.nul);
    assert.equal(pathShapeProblem(''), REFUSALS.empty);
    assert.equal(pathShapeProblem(42), REFUSALS.notAName);
    for (const ok of ['group1-shard1of1.bin', './labels.txt', 'weights/shard.bin', 'a..b.bin', 'model.onnx.data'])
      assert.equal(pathShapeProblem(ok), undefined, ok);
  });

  test('inside a folder means under it, not beside it with a longer name', () => {
    assert.ok(isInsideFolder('/m', '/m/a.bin'));
    assert.ok(isInsideFolder('/m/', '/m/w/a.bin'));
    assert.ok(!isInsideFolder('/m', '/model/a.bin'));
    assert.ok(!isInsideFolder('/m', '/a.bin'));
    assert.ok(isInsideFolder('C:\\m', 'C:\\m\\a.bin', '\\'));
  });
});

describe('weight shards a model.json lists', () => {
  test('"../secret.bin" is refused, though it holds exactly the weights the model needs', async () => {
    const { folder, modelJson } = hostileCopy();
    setShardPath(modelJson, '../secret.bin');
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, `model.json lists the weight file "../secret.bin", which is outside the model's folder; ${ONLY_IN_FOLDER}`);
  });

  test('an absolute path is refused', async () => {
    const { folder, modelJson, secret } = hostileCopy();
    setShardPath(modelJson, secret);
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, `model.json lists the weight file "${secret}", which is an absolute path; ${ONLY_IN_FOLDER}`);
  });

  test('a backslash path is refused', async () => {
    const { folder, modelJson } = hostileCopy();
    setShardPath(modelJson, '..\\secret.bin');
    const error = await refusal(folder, load(modelJson));
    assert.match(error.message, /^model\.json lists the weight file "\.\.\\secret\.bin", which has a backslash in its path; /);
  });

  test('a symbolic link to a file outside the folder is refused', async () => {
    const { folder, modelJson, secret } = hostileCopy();
    fs.rmSync(path.join(folder, SHARD));
    symlinkSync(secret, path.join(folder, SHARD));
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, `model.json lists the weight file "${SHARD}", which ${LINK_OUT}`);
  });

  test('a symbolic link to /dev/zero is refused at once, not read until memory runs out', async () => {
    const { folder, modelJson } = hostileCopy();
    fs.rmSync(path.join(folder, SHARD));
    symlinkSync('/dev/zero', path.join(folder, SHARD));
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, `model.json lists the weight file "${SHARD}", which ${LINK_OUT}`);
  });

  test('a shard behind a symbolic link to a folder outside is refused', async () => {
    const { root, folder, modelJson } = hostileCopy();
    mkdirSync(path.join(root, 'elsewhere'));
    copyFileSync(path.join(folder, SHARD), path.join(root, 'elsewhere', SHARD));
    symlinkSync(path.join(root, 'elsewhere'), path.join(folder, 'weights'));
    setShardPath(modelJson, `weights/${SHARD}`);
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, `model.json lists the weight file "weights/${SHARD}", which ${LINK_OUT}`);
  });

  test('a FIFO is refused without blocking on it', async () => {
    const { folder, modelJson } = hostileCopy();
    mkfifo(path.join(folder, 'shard.fifo'));
    setShardPath(modelJson, 'shard.fifo');
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, 'model.json lists the weight file "shard.fifo", which is a FIFO (named pipe), not a regular file.');
  });

  test('a folder is refused', async () => {
    const { folder, modelJson } = hostileCopy();
    mkdirSync(path.join(folder, 'weights'));
    setShardPath(modelJson, 'weights');
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, 'model.json lists the weight file "weights", which is a folder, not a regular file.');
  });

  test('a shard larger than the weights the manifest declares is refused before it is read', async () => {
    const { folder, modelJson } = hostileCopy();
    const declared = fs.statSync(path.join(folder, SHARD)).size;
    truncateSync(path.join(folder, SHARD), 3 * 1024 ** 3); // sparse: no disk used, but 3 GB to read
    const error = await refusal(folder, load(modelJson));
    assert.equal(declared, 76648);
    assert.equal(
      error.message,
      `model.json lists the weight file "${SHARD}", which is 3.2 GB, more than the 76.6 kB the model declares for it.`,
    );
  });

  test('a shard listed again and again is read no further than the weights the manifest declares', async () => {
    const { folder, modelJson } = hostileCopy();
    const json = JSON.parse(readFileSync(modelJson, 'utf8'));
    json.weightsManifest[0].paths = Array(1000).fill(SHARD);
    writeFileSync(modelJson, JSON.stringify(json));
    const error = await refusal(folder, load(modelJson));
    assert.equal(
      error.message,
      `model.json lists the weight file "${SHARD}", which is 76.6 kB, more than the 0 bytes the model declares for it.`,
    );
  });

  test('a model file that is itself a FIFO is refused without blocking on it', async () => {
    const { folder } = hostileCopy();
    const fifo = path.join(folder, 'fifo.json');
    mkfifo(fifo);
    const error = await refusal(folder, () => loadModel(fileModelSource(fifo)));
    assert.equal(error.message, 'fifo.json is a FIFO (named pipe), not a regular file.');
  });

  test('links that stay inside the folder, and subfolders, are followed as before', async () => {
    const { folder, modelJson } = hostileCopy();
    mkdirSync(path.join(folder, 'weights'));
    fs.renameSync(path.join(folder, SHARD), path.join(folder, 'weights', SHARD));
    symlinkSync(path.join('weights', SHARD), path.join(folder, 'linked.bin'));
    setShardPath(modelJson, 'linked.bin');
    const { model, labels } = await openModel(fileModelSource(modelJson));
    model.dispose();
    assert.equal(labels?.names[7], 'Sneaker');
    setShardPath(modelJson, `./weights/${SHARD}`);
    (await loadModel(fileModelSource(modelJson))).dispose();
  });
});

describe('the other files beside a model', () => {
  test('labels.txt as a symbolic link out of the folder is refused, not quietly skipped', async () => {
    const { root, folder, modelJson } = hostileCopy();
    fs.renameSync(path.join(folder, 'labels.txt'), path.join(root, 'labels.txt'));
    symlinkSync(path.join(root, 'labels.txt'), path.join(folder, 'labels.txt'));
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, `model.json has the label file "labels.txt", which ${LINK_OUT}`);
  });

  test('the settings sidecar as a symbolic link out of the folder is refused', async () => {
    const { root, folder, modelJson } = hostileCopy();
    writeFileSync(path.join(root, 'settings.json'), '{"scale": "0-1"}');
    symlinkSync(path.join(root, 'settings.json'), path.join(folder, 'model.json.convlens.json'));
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, `model.json has the settings file "model.json.convlens.json", which ${LINK_OUT}`);
  });

  test('a label file that is a FIFO is refused without blocking on it', async () => {
    const { folder, modelJson } = hostileCopy();
    mkfifo(path.join(folder, 'metadata.json'));
    const error = await refusal(folder, load(modelJson));
    assert.equal(error.message, 'model.json has the label file "metadata.json", which is a FIFO (named pipe), not a regular file.');
  });
});

describe('ONNX external data', () => {
  const fixture = path.join(repoRoot, 'test', 'fixtures', 'onnx', 'vgg11-bn-external-opset12');
  const onnx = 'vgg11-bn-external-opset12.onnx';
  const data = `${onnx}.data`;

  function onnxCopy(): { root: string; folder: string; model: string } {
    const root = temporaryFolder('convlens-confine-onnx-');
    const folder = path.join(root, 'model');
    mkdirSync(folder);
    copyFileSync(path.join(fixture, onnx), path.join(folder, onnx));
    return { root, folder, model: path.join(folder, onnx) };
  }

  test('a copy beside the model loads: the size the model declares for the file is the size it has', async () => {
    const { folder, model } = onnxCopy();
    copyFileSync(path.join(fixture, data), path.join(folder, data));
    (await loadModel(fileModelSource(model))).dispose();
  });

  test('the data file as a symbolic link out of the folder is refused', async () => {
    const { folder, model } = onnxCopy();
    symlinkSync(path.join(fixture, data), path.join(folder, data));
    const error = await refusal(folder, () => loadModel(fileModelSource(model)));
    assert.equal(error.message, `${onnx} keeps its weights in "${data}", which ${LINK_OUT}`);
  });

  test('a location climbing out with ".." is refused, though the file there holds the right data', async () => {
    const { root, folder, model } = onnxCopy();
    // The same length keeps the protobuf valid: "../" replaces the name's first three characters.
    const hostile = `../${data.slice(3)}`;
    const bytes = readFileSync(model);
    writeFileSync(model, Buffer.from(bytes.toString('latin1').replaceAll(data, hostile), 'latin1'));
    copyFileSync(path.join(fixture, data), path.join(root, data.slice(3)));
    const error = await refusal(folder, () => loadModel(fileModelSource(model)));
    assert.equal(error.message, `${onnx} keeps its weights in "${hostile}", which is outside the model's folder; ${ONLY_IN_FOLDER}`);
  });

  test('a data file larger than its tensors declare is refused before it is read', async () => {
    const { folder, model } = onnxCopy();
    copyFileSync(path.join(fixture, data), path.join(folder, data));
    truncateSync(path.join(folder, data), 4 * 1024 ** 3);
    const error = await refusal(folder, () => loadModel(fileModelSource(model)));
    assert.match(
      error.message,
      new RegExp(
        `^${onnx.replaceAll('.', '\\.')} keeps its weights in "${data.replaceAll('.', '\\.')}", which is 4\\.3 GB, more than the 622\\.3 kB the model declares for it\\.$`,
      ),
    );
  });
});

describe("the webview's reads through the host", () => {
  test('the limit travels with the request, and a refusal comes back in the same words as in Node', async () => {
    // The page's channel, as the webviews make it, with what it posts kept and the host's answer fed back.
    const asked: { type: string; path: string; maxBytes?: number; requestId: number }[] = [];
    const page = createChannel<PanelProtocol['page'], PanelProtocol['host']>((message) => asked.push(message as (typeof asked)[number]));
    const source = hostFiles((request) => page.request('readFile', request)).modelSource('model.json');
    const reading = readBeside(source, SHARD, 'lists the weight file', 76648);
    await Promise.resolve();
    assert.equal(asked[0].type, 'readFile');
    assert.equal(asked[0].path, SHARD);
    assert.equal(asked[0].maxBytes, 76648);
    page.receive({ type: 'answer', requestId: asked[0].requestId, answer: { error: 'refused', refused: REFUSALS.linkOutside } });
    const error = await reading.then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RefusedFileError);
    assert.equal(error.message, `model.json lists the weight file "${SHARD}", which ${LINK_OUT}`);
  });

  test('a path of the wrong shape is refused before the host is asked', async () => {
    const asked: unknown[] = [];
    const source = hostFiles((request) => (asked.push(request), Promise.resolve({ error: 'not asked' }))).modelSource('model.json');
    await assert.rejects(readBeside(source, '../secret.bin', 'lists the weight file'), RefusedFileError);
    assert.equal(asked.length, 0);
  });
});
