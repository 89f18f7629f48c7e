/**
 * `npm run bench`: ConvLens's speed, as ratios to baselines measured in the same run on the same
 * machine and backend (TensorFlow.js CPU backend in Node).
 */
import path from 'node:path';
import { useCpuBackend } from '../src/node/tfBackend';
import { benchLayerTree } from './layerTree';

async function main(): Promise<void> {
  await useCpuBackend();
  const sharedModels = process.env.CONVLENS_SHARED_MODELS ?? path.resolve(__dirname, '..', '..', 'shared', 'models');
  console.log('## Time to the layer tree (ratio = layer tree / reading the files\' bytes)\n');
  console.log(await benchLayerTree(sharedModels));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
