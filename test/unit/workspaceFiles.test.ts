/**
 * The extension host's reads of a model's files (workspaceModelSource.ts, and modelFiles.ts, which
 * serves the webviews) keep to the same rule as the Node source, over VS Code's file system (a stand-in
 * over the disk, test/support/vscodeStandIn.ts). Under another scheme the same disk stands for a virtual
 * file system, where links cannot be resolved and are refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, promises as fs, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { REFUSALS } from '../../src/engine/confinedPath';
import { sampleModel } from '../support/paths';
import { temporaryFolder } from '../support/temporaryFolders';
import { importWithVscode, Uri } from '../support/vscodeStandIn';

type WorkspaceSource = typeof import('../../src/panels/common/workspaceModelSource');
type ModelFiles = typeof import('../../src/panels/common/modelFiles');
let host: WorkspaceSource;
let modelFiles: ModelFiles;

before(async () => {
  host = await importWithVscode(() => import('../../src/panels/common/workspaceModelSource'));
  modelFiles = await importWithVscode(() => import('../../src/panels/common/modelFiles'));
});

const SHARD = 'group1-shard1of1.bin';
const LINK_OUT = `model.json refers to the file "${SHARD}", which ${REFUSALS.linkOutside}`;

function modelFolder(): { root: string; folder: string; model: Uri } {
  const root = temporaryFolder('convlens-host-');
  const folder = path.join(root, 'model');
  mkdirSync(folder);
  for (const file of ['model.json', SHARD, 'labels.txt']) copyFileSync(path.join(path.dirname(sampleModel), file), path.join(folder, file));
  return { root, folder, model: Uri.file(path.join(folder, 'model.json')) };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => assert.fail('expected a refusal'),
    (error: Error) => error,
  );
}

describe("the host's reads beside a model", () => {
  test('files in the folder are read; paths of the wrong shape are refused', async () => {
    const { folder, model } = modelFolder();
    const source = host.workspaceModelSource(model as never);
    assert.deepEqual(await source.readSibling(SHARD), new Uint8Array(readFileSync(path.join(folder, SHARD))));
    assert.equal(
      (await rejection(source.readSibling('../secret.bin'))).message,
      `model.json refers to the file "../secret.bin", which ${REFUSALS.outside}`,
    );
    assert.equal(
      (await rejection(source.readSibling('/etc/passwd'))).message,
      `model.json refers to the file "/etc/passwd", which ${REFUSALS.absolute}`,
    );
    assert.equal(
      (await rejection(source.readSibling('..\\secret.bin'))).message,
      `model.json refers to the file "..\\secret.bin", which ${REFUSALS.backslash}`,
    );
  });

  test('a symbolic link out of the folder, to a file or to /dev/zero, is refused; one inside is followed', async () => {
    const { root, folder, model } = modelFolder();
    const source = host.workspaceModelSource(model as never);
    copyFileSync(path.join(folder, SHARD), path.join(root, 'secret.bin'));
    await fs.rm(path.join(folder, SHARD));
    symlinkSync(path.join(root, 'secret.bin'), path.join(folder, SHARD));
    assert.equal((await rejection(source.readSibling(SHARD))).message, LINK_OUT);
    await fs.rm(path.join(folder, SHARD));
    symlinkSync('/dev/zero', path.join(folder, SHARD));
    assert.equal((await rejection(source.readSibling(SHARD))).message, LINK_OUT);
    await fs.rm(path.join(folder, SHARD));
    symlinkSync('labels.txt', path.join(folder, SHARD));
    assert.equal(new TextDecoder().decode(await source.readSibling(SHARD)).split('\n')[7], 'Sneaker');
  });

  test('a FIFO is refused without blocking on it; a file larger than declared before it is read', async () => {
    const { folder, model } = modelFolder();
    const source = host.workspaceModelSource(model as never);
    assert.equal(spawnSync('mkfifo', [path.join(folder, 'pipe.bin')]).status, 0);
    assert.equal(
      (await rejection(source.readSibling('pipe.bin'))).message,
      'model.json refers to the file "pipe.bin", which is a special file (a device, FIFO or socket), not a regular file.',
    );
    assert.equal(
      (await rejection(source.readSibling(SHARD, { maxBytes: 1000 }))).message,
      `model.json refers to the file "${SHARD}", which is 76.6 kB, more than the 1.0 kB the model declares for it.`,
    );
  });

  test('where links cannot be resolved (a virtual workspace), any link on the way is refused', async () => {
    const { folder } = modelFolder();
    mkdirSync(path.join(folder, 'real'));
    symlinkSync('real', path.join(folder, 'weights'));
    writeFileSync(path.join(folder, 'real', 'a.bin'), 'abc');
    const source = host.workspaceModelSource(new Uri('memfs', path.join(folder, 'model.json')) as never);
    assert.equal(new TextDecoder().decode(await source.readSibling('real/a.bin')), 'abc');
    assert.equal(
      (await rejection(source.readSibling('weights/a.bin'))).message,
      `model.json refers to the file "weights/a.bin", which ${REFUSALS.unverifiableLink}`,
    );
  });

  test("the webviews' requests get the refusal's reason, so their readers word it as the host does", async () => {
    const { root, folder, model } = modelFolder();
    copyFileSync(path.join(folder, SHARD), path.join(root, 'secret.bin'));
    const outside = await modelFiles.readModelFile(model as never, '../secret.bin');
    assert.equal(outside.bytes, undefined);
    assert.equal(outside.refused, REFUSALS.outside);
    const missing = await modelFiles.readModelFile(model as never, 'nothing.bin');
    assert.deepEqual(missing, { error: 'no file "nothing.bin" beside the model' });
    const ok = await modelFiles.readModelFile(model as never, SHARD, 76648);
    assert.equal(ok.bytes?.byteLength, 76648);
    assert.equal((await modelFiles.readModelFile(model as never, '')).bytes?.byteLength, readFileSync(model.path).byteLength);
  });

  test('paths from the Analyze webview stay inside the analysed folder', () => {
    const folder = Uri.file('/data/images');
    assert.equal(modelFiles.uriInFolder(folder as never, 'cat/1.png')?.path, '/data/images/cat/1.png');
    for (const hostile of ['../secret.png', '/etc/passwd', 'cat/../../x.png', 'a\\..\\b.png', '']) {
      assert.equal(modelFiles.uriInFolder(folder as never, hostile), undefined, hostile);
    }
  });
});
