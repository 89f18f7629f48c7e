/**
 * A built tfjs-layers model (from any Keras-family reader) as a `RunnableModel`: one graph node per
 * layer, nested models flattened so that their inner layers can be run, inspected and cut at.
 * Node ids are the summary's layer ids (`outer/inner` for nested layers).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphInput, GraphNode, RunnableModel, SpatialGeometry, SpatialPair } from '../../graph';
import type { ModelSummary } from '../../model';
import { unfusedRun } from './unfusedLayers';
import { disposeLayersModel } from '../../variableCleanup';

type Layer = tfl.LayersModel['layers'][number];
type Container = tfl.LayersModel;

export function layersRunnable(model: tfl.LayersModel, summary: ModelSummary): RunnableModel {
  const inputs: GraphInput[] = model.inputs.map((tensor, i) => ({
    id: model.inputLayers[i]?.name ?? tensor.name,
    shape: [...tensor.shape],
  }));
  const nodes: GraphNode[] = [];
  const layersById = new Map<string, Layer>();
  const outputs = flatten(
    model,
    '',
    inputs.map((input) => input.id),
    nodes,
    layersById,
  );
  const logits = addLogitsNode(nodes, outputs[0], layersById);
  return {
    summary,
    inputs,
    outputs,
    ...(logits ? { logits } : {}),
    nodes,
    // getWeights() hands out the variables' own tensors: the model owns them.
    weights: (layerId) => layersById.get(layerId)?.getWeights() ?? [],
    dispose: () => disposeLayersModel(model),
  };
}

/** Appends the nodes of `container` to `nodes`, fed by `inputIds`; returns the ids of its outputs. */
function flatten(container: Container, prefix: string, inputIds: string[], nodes: GraphNode[], layersById: Map<string, Layer>): string[] {
  const emit = (layer: Layer, layerInputs: string[]): string => {
    const id = prefix ? `${prefix}/${layer.name}` : layer.name;
    layersById.set(id, layer);
    if (isContainer(layer)) {
      // The nested model's own node passes its inner output on, so its id can be selected like any layer.
      const inner = flatten(layer, id, layerInputs, nodes, layersById);
      nodes.push({ id, inputs: inner, run: ([x]) => x.clone() });
    } else {
      const run = unfusedRun(layer) ?? ((xs: tf.Tensor[]) => layer.apply(xs.length === 1 ? xs[0] : xs, { training: false }) as tf.Tensor);
      const geometry = layerGeometry(layer);
      nodes.push({
        id,
        inputs: layerInputs,
        type: layer.getClassName(),
        endsWithRelu: endsWithRelu(layer),
        ...(geometry ? { geometry } : {}),
        // Some layers (ReLU with a maximum, for one) leave intermediates behind: tidy frees them.
        run: (xs) => tf.tidy(() => run(xs)),
      });
    }
    return id;
  };

  if (container.getClassName() === 'Sequential') {
    let current = inputIds;
    for (const layer of container.layers) {
      if (layer.getClassName() !== 'InputLayer') current = [emit(layer, current)];
    }
    return current;
  }

  // A functional model: follow each layer's inbound node that belongs to this model's own graph.
  const idOfLayer = new Map<string, string>(container.inputLayers.map((layer, i) => [layer.name, inputIds[i]]));
  const ownNodes = (container as unknown as { containerNodes: Set<string> }).containerNodes;
  for (const layer of container.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const nodeIndex = layer.inboundNodes.findIndex((_, i) => ownNodes.has(`${layer.name}_ib-${i}`));
    const inbound = layer.inboundNodes[Math.max(nodeIndex, 0)];
    idOfLayer.set(
      layer.name,
      emit(
        layer,
        inbound.inboundLayers.map((source) => idOfLayer.get(source.name)!),
      ),
    );
  }
  return container.outputLayers.map((layer) => idOfLayer.get(layer.name)!);
}

const WINDOW_LAYERS = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'MaxPooling2D', 'AveragePooling2D']);
const POOL_LAYERS = new Set(['MaxPooling2D', 'AveragePooling2D']);
const GLOBAL_LAYERS = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten']);

interface SpatialConfig {
  kernelSize?: number | number[];
  poolSize?: number | number[];
  strides?: number | number[];
  dilationRate?: number | number[];
  padding?: unknown;
  cropping?: [[number, number], [number, number]];
  dataFormat?: string;
}

/** How the layer moves positions along H and W (tfjs-layers' config: camelCase, pairs as arrays). */
function layerGeometry(layer: Layer): SpatialGeometry | undefined {
  const className = layer.getClassName();
  if (GLOBAL_LAYERS.has(className)) return { kind: 'global' };
  // Keeps the size with stride 1 and 'same' padding, yet mixes positions: not pointwise.
  if (className === 'Conv2DTranspose') return { kind: 'untraceable', why: 'spreads each position over a window of its output' };
  // dims name the new order of the axes after the batch (1: height, 2: width); on a square map no
  // shape would show height and width trading places.
  if (className === 'Permute') {
    const { dims } = layer.getConfig() as { dims: number[] };
    return dims[0] === 1 && dims[1] === 2 ? undefined : { kind: 'untraceable', why: 'reorders the height and width axes' };
  }
  if (!WINDOW_LAYERS.has(className) && className !== 'ZeroPadding2D' && className !== 'Cropping2D') return undefined;
  const config = layer.getConfig() as SpatialConfig;
  // H and W are then axes 2 and 3, not the 1 and 2 receptive fields follow.
  if (config.dataFormat === 'channelsFirst') return { kind: 'untraceable', why: 'works on channels-first tensors' };
  if (className === 'ZeroPadding2D') {
    const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
    return { kind: 'pad', top, bottom, left, right };
  }
  if (className === 'Cropping2D') {
    const [[top, bottom], [left, right]] = config.cropping!;
    return { kind: 'pad', top: -top, bottom: -bottom, left: -left, right: -right };
  }
  const kernel = spatialPair(config.kernelSize ?? config.poolSize ?? 1);
  return {
    kind: 'window',
    kernel,
    // A pooling layer without strides steps by its pool size.
    strides: spatialPair(config.strides ?? (POOL_LAYERS.has(className) ? kernel : 1)),
    dilations: spatialPair(config.dilationRate ?? 1),
    padding: config.padding === 'same' ? 'same' : 'valid',
  };
}

function spatialPair(value: number | number[]): SpatialPair {
  return Array.isArray(value) ? [value[0], value[1] ?? value[0]] : [value, value];
}

function activationOf(layer: Layer): string | undefined {
  const config = layer.getConfig() as { activation?: unknown };
  if (layer.getClassName() === 'ReLU') return 'relu';
  if (layer.getClassName() === 'Softmax') return 'softmax';
  return typeof config.activation === 'string' ? config.activation : undefined;
}

function endsWithRelu(layer: Layer): boolean {
  const activation = activationOf(layer);
  return activation === 'relu' || activation === 'relu6';
}

/**
 * When the output layer ends in a softmax or sigmoid, a node computing its scores before that
 * activation: a separate Activation layer is skipped, a Dense layer is recomputed without it.
 */
function addLogitsNode(nodes: GraphNode[], outputId: string | undefined, layersById: Map<string, Layer>): string | undefined {
  const output = nodes.find((node) => node.id === outputId);
  const layer = outputId === undefined ? undefined : layersById.get(outputId);
  if (!output || !layer || !['softmax', 'sigmoid'].includes(activationOf(layer) ?? '')) return undefined;
  if (layer.getClassName() === 'Activation' || layer.getClassName() === 'Softmax') return output.inputs[0];
  if (layer.getClassName() !== 'Dense') return undefined;
  const id = `${output.id}:logits`;
  nodes.push({
    id,
    inputs: output.inputs,
    type: 'Dense',
    run: ([x]) =>
      tf.tidy(() => {
        const [kernel, bias] = layer.getWeights();
        const z = tf.matMul(x, kernel);
        return bias ? tf.add(z, bias) : z;
      }),
  });
  return id;
}

function isContainer(layer: Layer): layer is Container {
  return Array.isArray((layer as Partial<Container>).layers);
}
