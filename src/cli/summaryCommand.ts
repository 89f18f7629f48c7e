/** `convlens summary <model> [--json]`: the layer table and totals. */
import { formatCount, formatShape } from '../shared/format';
import {
  FORMAT_LABELS,
  inputShapesAsDeclared,
  outputShapesAsDeclared,
  shapesAsDeclared,
  type LayerInfo,
  type ModelSummary,
} from '../engine/model';
import { readModelSummary } from '../engine/readers';
import { modelSource } from './modelFiles';
import { jsonText, oneLine } from './terminalText';
import type { Limits } from '../engine/limits';

export async function summaryCommand(file: string, json: boolean, limits?: Partial<Limits>): Promise<string> {
  const summary = await readModelSummary(modelSource(file, [], limits));
  return json ? jsonText(summary, 2) : summaryTable(summary);
}

export function summaryTable(summary: ModelSummary): string {
  const rows: string[][] = [];
  const visit = (layers: readonly LayerInfo[], depth: number) => {
    for (const layer of layers) {
      const shapes = shapesAsDeclared(layer).map(formatShape).join(' ') || '?';
      // Names and types come from the file: one line each, without escapes, so the table stays a table.
      rows.push([`${'  '.repeat(depth)}${oneLine(layer.name)}`, oneLine(layer.type), shapes, formatCount(layer.params)]);
      if (layer.children) visit(layer.children, depth + 1);
    }
  };
  visit(summary.layers, 0);
  const header = ['Layer', 'Type', 'Output shape', 'Params'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  const rule = '-'.repeat(widths.reduce((s, w) => s + w + 2, -2));
  return [
    `${oneLine(summary.name)} (${FORMAT_LABELS[summary.format]}, ${oneLine(summary.fileName)})`,
    `Input ${inputShapesAsDeclared(summary).map(formatShape).join(', ')}  Output ${outputShapesAsDeclared(summary).map(formatShape).join(', ')}`,
    rule,
    line(header),
    rule,
    ...rows.map(line),
    rule,
    `Total params: ${formatCount(summary.totalParams)}`,
    `Trainable params: ${formatCount(summary.trainableParams)}`,
    `Non-trainable params: ${formatCount(summary.totalParams - summary.trainableParams)}`,
  ].join('\n');
}
