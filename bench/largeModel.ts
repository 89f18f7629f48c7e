/**
 * Writes a large TensorFlow.js layers model (a VGG-style network with a wide dense head) for the
 * benchmarks: real topology, random weights, as many bytes as asked.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeLargeLayersModel(folder: string, megabytes: number): string {
  mkdirSync(folder, { recursive: true });
  const conv = (name: string, filters: number, extra: object = {}) => ({
    class_name: 'Conv2D',
    config: { name, filters, kernel_size: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', use_bias: true, ...extra },
  });
  const pool = (name: string) => ({ class_name: 'MaxPooling2D', config: { name, pool_size: [2, 2], strides: [2, 2], padding: 'valid' } });
  const convs = [
    conv('block1_conv1', 64, { batch_input_shape: [null, 224, 224, 3] }),
    conv('block1_conv2', 64),
    pool('block1_pool'),
    conv('block2_conv1', 128),
    conv('block2_conv2', 128),
    pool('block2_pool'),
    conv('block3_conv1', 256),
    conv('block3_conv2', 256),
    pool('block3_pool'),
    conv('block4_conv1', 512),
    conv('block4_conv2', 512),
    pool('block4_pool'),
  ];
  // The dense head takes the rest of the byte budget: 14*14*512 inputs feed `units` outputs.
  const convParams = [
    [3, 64],
    [64, 64],
    [64, 128],
    [128, 128],
    [128, 256],
    [256, 256],
    [256, 512],
    [512, 512],
  ].reduce((s, [i, o]) => s + 9 * i * o + o, 0);
  const flat = 14 * 14 * 512;
  const units = Math.max(16, Math.floor(((megabytes * 1e6) / 4 - convParams) / (flat + 1)));
  const layers = [
    ...convs,
    { class_name: 'Flatten', config: { name: 'flatten' } },
    { class_name: 'Dense', config: { name: 'fc1', units, activation: 'relu' } },
    { class_name: 'Dense', config: { name: 'predictions', units: 1000, activation: 'softmax' } },
  ];

  const shapes: [string, number[]][] = [];
  let channels = 3;
  for (const layer of convs) {
    if (layer.class_name !== 'Conv2D') continue;
    const filters = (layer.config as { filters: number }).filters;
    shapes.push([`${layer.config.name}/kernel`, [3, 3, channels, filters]], [`${layer.config.name}/bias`, [filters]]);
    channels = filters;
  }
  shapes.push(['fc1/kernel', [flat, units]], ['fc1/bias', [units]], ['predictions/kernel', [units, 1000]], ['predictions/bias', [1000]]);
  const values = shapes.reduce((s, [, shape]) => s + shape.reduce((n, d) => n * d, 1), 0);

  const shard = new Float32Array(values);
  for (let i = 0; i < shard.length; i++) shard[i] = ((i * 2654435761) % 1000) / 1e5 - 0.005;
  writeFileSync(path.join(folder, 'weights.bin'), new Uint8Array(shard.buffer));
  const modelJson = {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'large_vgg_style', layers } },
    weightsManifest: [{ paths: ['weights.bin'], weights: shapes.map(([name, shape]) => ({ name, shape, dtype: 'float32' })) }],
  };
  const file = path.join(folder, 'model.json');
  writeFileSync(file, JSON.stringify(modelJson));
  return file;
}
