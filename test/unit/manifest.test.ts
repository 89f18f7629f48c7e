/**
 * The manifest against the code: every method the engine offers can be chosen where the manifest lists
 * methods (the setting, the agents' explain tool), and every `%key%` has its text in package.nls.json.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { METHODS } from '../../src/engine/explain/methods';
import { repoRoot } from '../support/paths';

const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const texts = JSON.parse(readFileSync(path.join(repoRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;

test('convlens.defaultMethod offers exactly the engine’s methods', () => {
  const setting = manifest.contributes.configuration.properties['convlens.defaultMethod'];
  assert.deepEqual([...setting.enum].sort(), [...METHODS].sort());
});

test('the explain tool for agents takes exactly the engine’s methods', () => {
  const tool = manifest.contributes.languageModelTools.find((t: { name: string }) => t.name === 'convlens_explain');
  assert.deepEqual([...tool.inputSchema.properties.method.enum].sort(), [...METHODS].sort());
});

test('every %key% of the manifest has its text in package.nls.json', () => {
  const keys = [...JSON.stringify(manifest).matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]);
  assert.ok(keys.length > 50, `${keys.length} keys`);
  assert.deepEqual(
    keys.filter((key) => !(key in texts)),
    [],
  );
});
