/**
 * A graph model's summary: one layer per op node (constants and placeholders are the weights and inputs
 * of those layers, not layers themselves), in the order the graph runs.
 */
import type { LayerInfo, ModelSummary, Shape } from '../../../model';
import { elementCount, isWeight, type ConstantInfo } from './constants';
import { shapeFromJson, type GraphModelJson } from './graphJson';
import { isConstant, tensorId, type OpGraph } from './opGraph';
import type { OutputShapes } from './shapes';

export function summarizeGraph(
  fileName: string,
  json: GraphModelJson,
  graph: OpGraph,
  constants: ReadonlyMap<string, ConstantInfo>,
  shapes: OutputShapes,
): ModelSummary {
  const outputShapes = modelOutputShapes(json, graph, shapes);
  // A model output's shape from the signature fills in what could not be worked out from the graph.
  const layerShapes = new Map(shapes);
  graph.outputs.forEach((ref, i) => {
    const known = [...(layerShapes.get(ref.node) ?? [])];
    if (!known[ref.index] && outputShapes[i].length) {
      known[ref.index] = outputShapes[i];
      layerShapes.set(ref.node, known);
    }
  });

  const layers = graph.ops.map((node): LayerInfo => {
    const producers = [...new Set(graph.dataInputs.get(node.name)!.map((ref) => ref.node))];
    const params = producers
      .filter((name) => isWeight(constants.get(name)))
      .reduce((n, name) => n + elementCount(constants.get(name)!.shape), 0);
    return {
      id: node.name,
      name: node.name,
      type: node.op,
      outputShapes: knownShapes(layerShapes.get(node.name)),
      params,
      // A frozen graph keeps no record of which weights were trainable: all of them count.
      trainableParams: params,
      inputs: producers.filter((name) => !isConstant(graph.byName.get(name)!)),
    };
  });

  const usedWeights = new Set(
    graph.ops.flatMap((node) => graph.dataInputs.get(node.name)!.map((ref) => ref.node)).filter((name) => isWeight(constants.get(name))),
  );
  const totalParams = [...usedWeights].reduce((n, name) => n + elementCount(constants.get(name)!.shape), 0);
  return {
    name: fileName.replace(/\.json$/i, ''),
    format: 'tfjs-graph',
    fileName,
    inputShapes: graph.inputs.map((input) => input.shape),
    outputShapes,
    layers,
    totalParams,
    trainableParams: totalParams,
  };
}

function modelOutputShapes(json: GraphModelJson, graph: OpGraph, shapes: OutputShapes): Shape[] {
  const signed = new Map(Object.values(json.signature?.outputs ?? {}).map((info) => [info.name, info.tensorShape]));
  return graph.outputs.map((ref) => {
    const fromSignature = signed.get(`${ref.node}:${ref.index}`) ?? signed.get(tensorId(ref));
    return shapeFromJson(fromSignature) ?? shapes.get(ref.node)?.[ref.index] ?? [];
  });
}

/** The shapes worked out, or none at all: an empty shape would read as a scalar. */
function knownShapes(shapes: (Shape | undefined)[] | undefined): Shape[] {
  if (!shapes?.some((shape) => shape !== undefined)) return [];
  return shapes.map((shape) => shape ?? []);
}
