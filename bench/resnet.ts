/** A ResNet-18 (He et al., 2016) built with TensorFlow.js layers, random weights: the ResNet-class benchmark model. */
import * as tfl from '@tensorflow/tfjs-layers';
import type { RunnableModel } from '../src/engine/graph';
import { layersRunnable } from '../src/engine/readers/layers/layersRunnable';
import { summarizeLayersModel } from '../src/engine/readers/layers/layersModelSummary';

export function resnet18(size = 224, classes = 1000): RunnableModel {
  let blockCount = 0;
  const convBn = (x: tfl.SymbolicTensor, filters: number, kernel: number, stride: number, relu: boolean) => {
    const name = `b${blockCount++}`;
    let y = tfl.layers
      .conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, name: `${name}_conv` })
      .apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.batchNormalization({ name: `${name}_bn` }).apply(y) as tfl.SymbolicTensor;
    return relu ? (tfl.layers.reLU({ name: `${name}_relu` }).apply(y) as tfl.SymbolicTensor) : y;
  };
  const input = tfl.input({ shape: [size, size, 3], name: 'image' });
  let x = convBn(input, 64, 7, 2, true);
  x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  for (const [stage, filters] of [64, 128, 256, 512].entries()) {
    for (let block = 0; block < 2; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const shortcut = stride === 1 ? x : convBn(x, filters, 1, stride, false);
      const y = convBn(convBn(x, filters, 3, stride, true), filters, 3, 1, false);
      x = tfl.layers.add({ name: `stage${stage}_block${block}_add` }).apply([y, shortcut]) as tfl.SymbolicTensor;
      x = tfl.layers.reLU({ name: `stage${stage}_block${block}_out` }).apply(x) as tfl.SymbolicTensor;
    }
  }
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: classes, activation: 'softmax', name: 'fc' }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output, name: 'resnet18' });
  return layersRunnable(model, summarizeLayersModel(model, { format: 'tfjs-layers', fileName: 'resnet18 (generated)' }));
}
