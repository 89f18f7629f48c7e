/**
 * `npm run bench`: ConvLens's speed, as ratios to baselines measured in the same run on the same
 * machine: its own forward pass on the same backend (TensorFlow.js's WebAssembly backend in Node; set
 * CONVLENS_BACKEND=cpu for the CPU backend), and PyTorch doing the same computation (section torch).
 *   npm run bench -- layer-tree          one section (layer-tree, explain, metrics, weights, torch, dataset, analyze-webview, analyze-native, webview, segmentation)
 *   CONVLENS_BENCH_METHODS=gradcam,scorecam npm run bench -- explain
 */
import os from 'node:os';
import path from 'node:path';
import { useNodeBackend } from '../src/node/tfBackend';
import { existsSync } from 'node:fs';
import { loadModel } from '../src/engine/readers';
import { fileModelSource } from '../src/node/fileModelSource';
import { isMethod, METHODS } from '../src/engine/explain/methods';
import { type BenchModel, benchExplanations, benchMetrics } from './explanations';
import { benchDataset } from './dataset';
import { benchLayerTree } from './layerTree';
import { benchWebview } from './webview';
import { resnet18 } from './resnet';
import { benchSideBySide } from './sideBySide';
import { benchAnalyzeWebview } from './analyzeWebview';
import { benchAnalyzeNative } from './analyzeNative';
import { benchSegmentation } from './segmentation';
import { benchWeights } from './weights';

async function main(): Promise<void> {
  const { backend, fallbackReason } = await useNodeBackend();
  if (fallbackReason) console.error(`${fallbackReason}; timing the CPU backend`);
  console.error(`TensorFlow.js backend: ${backend}`);
  const sharedModels = process.env.CONVLENS_SHARED_MODELS ?? path.resolve(__dirname, '..', '..', 'shared', 'models');
  // The torchvision models exported by bench/pytorch/export_models.py (section torch writes them).
  const exported = process.env.CONVLENS_BENCH_MODELS ?? path.join(os.homedir(), '.cache', 'convlens-bench', 'models');
  const sections = (
    process.argv[2] ?? 'layer-tree,explain,metrics,weights,torch,dataset,analyze-webview,analyze-native,webview,segmentation'
  ).split(',');
  if (sections.includes('layer-tree')) {
    console.log("## Time to the layer tree (ratio = layer tree / reading the files' bytes)\n");
    console.log(await benchLayerTree(sharedModels));
  }
  if (sections.includes('explain')) {
    // Small inputs keep the many-forward methods (hundreds of passes) to minutes on the CPU backend;
    // the ratios hardly depend on the input size. CONVLENS_BENCH_FULL=1 adds the 224×224 models.
    const models: BenchModel[] = [
      { label: 'ResNet-18 64×64 (tfjs-layers, random weights)', model: resnet18(64) },
      {
        label: 'MobileNetV2 0.35 64×64 (ONNX from torchvision, 1280-channel last layer)',
        model: await loadModel(fileModelSource(path.join(__dirname, '..', 'test', 'fixtures', 'explain', 'mobilenet_small.onnx'))),
      },
    ];
    if (process.env.CONVLENS_BENCH_FULL) {
      models.push({ label: 'ResNet-18 224×224 (tfjs-layers, random weights)', model: resnet18(224) });
      const mobilenet = path.join(sharedModels, 'tfjs-layers-teachable-machine-7segment', 'model.json');
      if (existsSync(mobilenet))
        models.push({ label: 'MobileNetV2 0.35 224×224 (Teachable Machine)', model: await loadModel(fileModelSource(mobilenet)) });
    }
    console.log(`\n## Explanations: time of each method / time of one forward pass (${backend} backend)\n`);
    const methods = process.env.CONVLENS_BENCH_METHODS?.split(',').filter(isMethod) ?? METHODS;
    console.log(await benchExplanations(models, methods));
    models.forEach(({ model }) => model.dispose());
  }
  if (sections.includes('metrics')) {
    // The sample model, and SqueezeNet and ResNet-18 at 224×224 where the shared and exported models are:
    // ROAD's imputation grows with the pixels, the network's time with the model.
    // CONVLENS_BENCH_METRICS=road times only the metrics whose names start with one of its words.
    const models: BenchModel[] = [
      {
        label: 'Fashion-MNIST CNN 28×28 (the sample model)',
        model: await loadModel(fileModelSource(path.join(__dirname, '..', 'sample', 'fashion-mnist-cnn', 'model.json'))),
      },
    ];
    const squeezenet = path.join(sharedModels, 'onnx-squeezenet1.0-fp16-imagenet', 'SqueezeNet_fp16.onnx');
    if (existsSync(squeezenet))
      models.push({ label: 'SqueezeNet 1.0 224×224 (ONNX model zoo)', model: await loadModel(fileModelSource(squeezenet)) });
    // A ResNet-18-class network, where the forward pass rather than the imputation is the larger cost.
    const resnet = path.join(exported, 'resnet18.onnx');
    if (existsSync(resnet))
      models.push({ label: 'ResNet-18 224×224 (ONNX from torchvision)', model: await loadModel(fileModelSource(resnet)) });
    console.log(`\n## Faithfulness metrics of one map: time / time of one forward pass (${backend} backend)\n`);
    console.log(await benchMetrics(models, process.env.CONVLENS_BENCH_METRICS?.split(',')));
    models.forEach(({ model }) => model.dispose());
  }
  if (sections.includes('weights')) {
    // The Statistics tab: a ResNet-class layers model with batch normalisation, and two ONNX exports.
    const fixture = (name: string) => path.join(__dirname, '..', 'test', 'fixtures', 'explain', name);
    const models = [
      { label: 'ResNet-18 64×64 (tfjs-layers, random weights)', model: resnet18(64) },
      { label: 'ResNet 16-128 64×64 (ONNX from torchvision)', model: await loadModel(fileModelSource(fixture('resnet_small.onnx'))) },
      { label: 'MobileNetV2 0.35 64×64 (ONNX from torchvision)', model: await loadModel(fileModelSource(fixture('mobilenet_small.onnx'))) },
    ];
    console.log(`\n## Weight and gradient statistics of every layer: time / time of one forward pass (${backend} backend)\n`);
    console.log(await benchWeights(models));
    models.forEach(({ model }) => model.dispose());
  }
  if (sections.includes('torch')) {
    console.log('\n## Side by side with PyTorch: the same ONNX models, input and methods, median ms\n');
    console.log(await benchSideBySide(exported));
  }
  if (sections.includes('dataset')) {
    console.log('\n## Dataset views: a folder of Fashion-MNIST test images through the sample model (ratio = time / forward pass)\n');
    console.log(await benchDataset());
  }
  if (sections.includes('analyze-webview')) {
    console.log("\n## The Analyze panel's folder pass in VS Code against the engine on the same backend (images/s)\n");
    console.log(await benchAnalyzeWebview());
  }
  if (sections.includes('analyze-native')) {
    console.log("\n## The Analyze panel's folder pass for an ONNX model: the extension host's ONNX Runtime against PyTorch (images/s)\n");
    console.log(await benchAnalyzeNative(exported));
  }
  if (sections.includes('segmentation')) {
    console.log('\n## Saliency → segmentation: mean IoU with the true object masks, threshold-only against refined\n');
    console.log(benchSegmentation());
  }
  if (sections.includes('webview')) {
    console.log(
      "\n## In VS Code: from the explorer menu to the picture (code-server, headless Chromium; ratio = time / VS Code's own image preview)\n",
    );
    console.log(await benchWebview(sharedModels, exported));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
