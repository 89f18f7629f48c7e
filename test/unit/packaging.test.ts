/**
 * What a VSIX of ConvLens holds (.vscodeignore, as `vsce ls` applies it to the built dist/): the
 * extension, its workers, and ONNX Runtime for this platform as esbuild.mjs copies it (what the host's
 * native folder pass loads); no source maps, sources, tests or development dependencies.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../support/paths';

const built = existsSync(path.join(repoRoot, 'dist', 'extension.js'));

describe('the VSIX', { skip: built ? false : 'dist/ is not built (npm run build)' }, () => {
  const files = execFileSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls', '--no-dependencies'],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter(Boolean);

  test('holds the extension host, its folder-pass workers and the webviews', () => {
    for (const file of [
      'package.json',
      'dist/extension.js',
      'dist/folderPassWorker.js',
      'dist/imageDecodeWorker.js',
      'dist/web/extension.js',
      'dist/webview/analyze.js',
    ]) {
      assert.ok(files.includes(file), `${file} is missing`);
    }
  });

  test(
    'holds ONNX Runtime for this platform, as Node loads it, and nothing else of node_modules',
    { skip: existsSync(path.join(repoRoot, 'node_modules', 'onnxruntime-node')) ? false : 'onnxruntime-node is not installed' },
    () => {
      const binaries = `dist/node_modules/onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}`;
      for (const file of [
        'dist/node_modules/onnxruntime-node/package.json',
        'dist/node_modules/onnxruntime-node/dist/index.js',
        `${binaries}/onnxruntime_binding.node`,
        'dist/node_modules/onnxruntime-common/package.json',
        'dist/node_modules/onnxruntime-common/dist/cjs/index.js',
        'dist/node_modules/onnxruntime-common/dist/cjs/package.json',
      ]) {
        assert.ok(files.includes(file), `${file} is missing`);
      }
      const otherPlatforms = files.filter((file) => file.includes('/bin/napi-v6/') && !file.startsWith(`${binaries}/`));
      assert.deepEqual(otherPlatforms, []);
      assert.deepEqual(
        files.filter((file) => file.includes('node_modules/') && !file.startsWith('dist/node_modules/onnxruntime-')),
        [],
      );
    },
  );

  test('holds no source maps, type declarations, sources or tests', () => {
    assert.deepEqual(
      files.filter((file) => /\.(map|d\.ts)$/.test(file) || /^(src|webview|test|bench|scripts)\//.test(file)),
      [],
    );
  });
});
