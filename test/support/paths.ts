/** Where test data lives: the repository's sample workspace and the team's shared model files. */
import { existsSync } from 'node:fs';
import path from 'node:path';

// __filename, not __dirname: tsx sets only __filename right when this is imported from an ES module.
export const repoRoot = path.resolve(path.dirname(__filename), '..', '..');
export const sampleWorkspace = path.join(repoRoot, 'sample');
export const sampleModel = path.join(sampleWorkspace, 'fashion-mnist-cnn', 'model.json');

/** `../shared/models` beside the checkout (CI puts it there), or CONVLENS_SHARED_MODELS. */
export const sharedModels = process.env.CONVLENS_SHARED_MODELS ?? path.resolve(repoRoot, '..', 'shared', 'models');

/**
 * Options for a node:test `test()` that needs a shared model file: it is skipped, saying why,
 * where the team's shared folder is not present (the files may not be redistributed with the repo).
 */
export function needsShared(relativePath: string): { skip: string | false } {
  const file = path.join(sharedModels, relativePath);
  return { skip: existsSync(file) ? false : `shared model not found: ${file} (set CONVLENS_SHARED_MODELS)` };
}

export function shared(relativePath: string): string {
  return path.join(sharedModels, relativePath);
}
