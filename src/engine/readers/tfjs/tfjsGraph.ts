/**
 * TensorFlow.js graph models: a `model.json` with `"format": "graph-model"` holding a frozen TensorFlow
 * op graph, and binary shards beside it holding the values of its constants (what the TensorFlow.js
 * converter makes of a SavedModel, TF Hub module or frozen graph).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { asModelReadError, ModelReadError } from '../../errors';
import { limitsOf } from '../../limits';
import type { RunnableModel } from '../../graph';
import type { ModelSummary } from '../../model';
import type { ModelSource } from '../../modelSource';
import { readConstantTensors, smallIntegerValues } from './graph/constantTensors';
import { describeConstants, type ConstantInfo } from './graph/constants';
import { parseGraphModelJson, type GraphModelJson } from './graph/graphJson';
import { mapOpNodes, unrunnableReason } from './graph/opExecutor';
import { buildOpGraph, type OpGraph } from './graph/opGraph';
import { graphRunnable } from './graph/runnable';
import { inferOutputShapes } from './graph/shapes';
import { summarizeGraph } from './graph/summary';

/** The summary from the topology and the weights manifest alone: no shard is read. */
export async function readTfjsGraphSummary(source: ModelSource): Promise<ModelSummary> {
  try {
    const json = parseGraphModelJson(source.fileName, await source.read(), limitsOf(source));
    const graph = buildOpGraph(source.fileName, json);
    return summarize(source.fileName, json, graph, describeConstants(json, graph));
  } catch (error) {
    throw asModelReadError(source.fileName, error);
  }
}

/** The model with its weights, ready to run one op at a time. */
export async function loadTfjsGraph(source: ModelSource): Promise<RunnableModel> {
  const { fileName } = source;
  try {
    const json = parseGraphModelJson(fileName, await source.read(), limitsOf(source));
    const graph = buildOpGraph(fileName, json);
    const opNodes = mapOpNodes(graph.order);
    for (const node of graph.ops) {
      const reason = unrunnableReason(opNodes[node.name]);
      if (reason) throw new ModelReadError(fileName, reason);
    }
    if (graph.cycleThrough) {
      throw new ModelReadError(fileName, `has a cycle through the node "${graph.cycleThrough}", so its ops have no order to run in.`);
    }
    const constants = describeConstants(json, graph);
    const tensors = await readConstantTensors(source, json, constants);
    try {
      // With the constants read, the shapes of Reshape, Pad, Mean and the like can be worked out too.
      const summary = summarize(fileName, json, graph, constants, (name) => smallIntegerValues(tensors.get(name)));
      return graphRunnable(graph, opNodes, constants, tensors, summary);
    } catch (error) {
      disposeAll(tensors);
      throw error;
    }
  } catch (error) {
    throw asModelReadError(fileName, error);
  }
}

function summarize(
  fileName: string,
  json: GraphModelJson,
  graph: OpGraph,
  constants: ReadonlyMap<string, ConstantInfo>,
  constantValues?: (name: string) => number[] | undefined,
): ModelSummary {
  const shapes = inferOutputShapes(graph, { constantShape: (name) => constants.get(name)?.shape, constantValues });
  return summarizeGraph(fileName, json, graph, constants, shapes);
}

function disposeAll(tensors: Map<string, tf.Tensor>): void {
  for (const tensor of tensors.values()) tensor.dispose();
}
