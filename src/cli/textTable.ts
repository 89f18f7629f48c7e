/** Columns of text for the terminal, two spaces apart. */
import { oneLine } from './terminalText';

/**
 * One line per row, header first: the `rightAligned` columns (numbers) padded on the left, the others
 * on the right, except the last, so no line ends in spaces.
 */
export function textTable(header: string[], cellRows: string[][], rightAligned: ReadonlySet<number>): string[] {
  // Cells hold names from models and folders: one line each, without escapes, or columns would not line up.
  const rows = cellRows.map((row) => row.map(oneLine));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (rightAligned.has(i) ? value.padStart(widths[i]) : i === values.length - 1 ? value : value.padEnd(widths[i])))
      .join('  ');
  return [line(header), ...rows.map(line)];
}
