/**
 * `npm run bench`: ConvLens's speed, as ratios to baselines measured in the same run on the same
 * machine and backend (TensorFlow.js CPU backend in Node).
 *   npm run bench -- layer-tree          one section (layer-tree, explain)
 *   CONVLENS_BENCH_METHODS=gradcam,scorecam npm run bench -- explain
 */
import path from 'node:path';
import { useCpuBackend } from '../src/node/tfBackend';
import { existsSync } from 'node:fs';
import { loadModel } from '../src/engine/readers';
import { fileModelSource } from '../src/node/fileModelSource';
import { isMethod, METHODS } from '../src/engine/explain/methods';
import { type BenchModel, benchExplanations } from './explanations';
import { benchLayerTree } from './layerTree';
import { resnet18 } from './resnet';

async function main(): Promise<void> {
  await useCpuBackend();
  const sharedModels = process.env.CONVLENS_SHARED_MODELS ?? path.resolve(__dirname, '..', '..', 'shared', 'models');
  const sections = (process.argv[2] ?? 'layer-tree,explain').split(',');
  if (sections.includes('layer-tree')) {
    console.log('## Time to the layer tree (ratio = layer tree / reading the files\' bytes)\n');
    console.log(await benchLayerTree(sharedModels));
  }
  if (sections.includes('explain')) {
    // 112×112 keeps the many-forward methods to minutes on the CPU backend; ratios hardly depend on size.
    const models: BenchModel[] = [{ label: 'ResNet-18 112×112 (random weights)', model: resnet18(112) }];
    const mobilenet = path.join(sharedModels, 'tfjs-layers-teachable-machine-7segment', 'model.json');
    if (existsSync(mobilenet)) models.push({ label: 'MobileNetV2 0.35 224×224 (Teachable Machine)', model: await loadModel(fileModelSource(mobilenet)) });
    else console.log(`(MobileNetV2 skipped: ${mobilenet} not found)`);
    console.log('\n## Explanations: time of each method / time of one forward pass (CPU backend)\n');
    const methods = process.env.CONVLENS_BENCH_METHODS?.split(',').filter(isMethod) ?? METHODS;
    console.log(await benchExplanations(models, methods));
    models.forEach(({ model }) => model.dispose());
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
