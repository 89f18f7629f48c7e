/**
 * One coarsening step of the imputation's multigrid (`multigrid.ts`), computed from the pixel grid
 * instead of by general sparse products. The unknowns sit on a grid and each couples only with its 8
 * neighbours; the aggregates are the 3 × 3 blocks of that grid. Then every row of the smoothed
 * interpolation P = (I − ω D⁻¹ A) P₀ reaches only the aggregates next to the row's own, and the Galerkin
 * product Pᵀ A P couples each aggregate only with its 8 neighbouring aggregates: the coarse matrix is an
 * 8-neighbour operator on the coarse grid again, and each product is summed into 9 slots per row indexed
 * by the offset between blocks — no searching for where an entry goes, no intermediate matrices.
 */
import type { SparseMatrix } from './sparse';

/** Where the unknowns sit: unknown i at (rows[i], columns[i]) of a height × width grid. */
export interface Grid {
  rows: Int32Array;
  columns: Int32Array;
  height: number;
  width: number;
}

export interface Coarsening {
  /** P: one row per fine unknown, one column per aggregate. */
  prolongation: SparseMatrix;
  /** Pᵀ A P. */
  matrix: SparseMatrix;
  /** The aggregates' places on the coarse grid (each block of 3 × 3 cells is one cell there). */
  grid: Grid;
}

/** The 3 × 3 offsets (−1, 0, 1)² as one slot 0 … 8, row-major; slot 4 is (0, 0). */
const SLOTS = 9;
const slotOf = (dr: number, dc: number) => (dr + 1) * 3 + dc + 1;
/** Each slot's row and column offset. */
const SLOT_ROW = Int32Array.of(-1, -1, -1, 0, 0, 0, 1, 1, 1);
const SLOT_COLUMN = Int32Array.of(-1, 0, 1, -1, 0, 1, -1, 0, 1);

/**
 * The interpolation and coarse matrix for `a` (symmetric, coupling grid neighbours only; `diagonal` its
 * diagonal) with the interpolation's smoothing damped by `omega`.
 */
export function coarsen(a: SparseMatrix, diagonal: Float64Array, grid: Grid, omega: number): Coarsening {
  const coarse = aggregates(grid);
  const prolongation = smoothedInterpolation(a, diagonal, coarse, omega);
  return { prolongation, matrix: galerkin(a, prolongation, coarse), grid: coarse.grid };
}

interface Aggregates {
  grid: Grid;
  /** Each fine unknown's aggregate. */
  of: Int32Array;
  /** The aggregate at each cell of the coarse grid, −1 where the block holds no unknown. */
  at: Int32Array;
}

/** The 3 × 3 blocks that hold unknowns, numbered in the order their first unknown comes. */
function aggregates({ rows, columns, height, width }: Grid): Aggregates {
  const coarseHeight = Math.ceil(height / 3);
  const coarseWidth = Math.ceil(width / 3);
  const at = new Int32Array(coarseHeight * coarseWidth).fill(-1);
  const of = new Int32Array(rows.length);
  const coarseRows = new Int32Array(rows.length);
  const coarseColumns = new Int32Array(rows.length);
  let count = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = Math.floor(rows[i] / 3);
    const c = Math.floor(columns[i] / 3);
    const cell = r * coarseWidth + c;
    if (at[cell] < 0) {
      at[cell] = count;
      coarseRows[count] = r;
      coarseColumns[count++] = c;
    }
    of[i] = at[cell];
  }
  return {
    grid: { rows: coarseRows.slice(0, count), columns: coarseColumns.slice(0, count), height: coarseHeight, width: coarseWidth },
    of,
    at,
  };
}

/**
 * P = (I − ω D⁻¹ A) P₀, P₀ putting each unknown in its aggregate: row i is 1 at i's aggregate less
 * ω / dᵢ times the sum of row i of A over each aggregate, which are i's own and its neighbours'.
 */
function smoothedInterpolation(a: SparseMatrix, diagonal: Float64Array, { grid, of, at }: Aggregates, omega: number): SparseMatrix {
  const { start: rowStart, index: column, value: entry } = a;
  const n = a.rows;
  const slotAt = slotByCellOffset(grid.width);
  const cell = cellsOf(grid);
  const start = new Int32Array(n + 1);
  const index = new Int32Array(n * 4);
  const value = new Float64Array(n * 4);
  const sums = new Float64Array(SLOTS);
  const touched = new Uint8Array(SLOTS);
  let next = 0;
  for (let i = 0; i < n; i++) {
    const own = cell[of[i]];
    const home = own - slotAt.zero;
    for (let e = rowStart[i]; e < rowStart[i + 1]; e++) {
      const slot = slotAt.table[cell[of[column[e]]] - home];
      sums[slot] += entry[e];
      touched[slot] = 1;
    }
    const scale = -omega / diagonal[i];
    for (let slot = 0; slot < SLOTS; slot++) {
      if (!touched[slot]) continue;
      // A row's neighbours span at most 2 × 2 blocks, so at most 4 slots are touched.
      index[next] = at[own + SLOT_ROW[slot] * grid.width + SLOT_COLUMN[slot]];
      value[next++] = scale * sums[slot] + (slot === 4 ? 1 : 0);
      sums[slot] = 0;
      touched[slot] = 0;
    }
    start[i + 1] = next;
  }
  return { rows: n, columns: grid.rows.length, start, index: index.slice(0, next), value: value.slice(0, next) };
}

/** Each aggregate's cell index on the coarse grid. */
function cellsOf({ rows, columns, width }: Grid): Int32Array {
  const cell = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) cell[k] = rows[k] * width + columns[k];
  return cell;
}

/**
 * Pᵀ A P, summed fine row by fine row: row i of A P reaches the aggregates around i's own (9 slots), and
 * each entry of row i of P adds that row, scaled, to its aggregate's row of the result, whose 9 slots
 * are the blocks around that aggregate (slot s of i's and slot t of the aggregate's: slot s − t + 4).
 */
function galerkin(a: SparseMatrix, p: SparseMatrix, { grid, of, at }: Aggregates): SparseMatrix {
  const slotAt = slotByCellOffset(grid.width);
  const cell = cellsOf(grid);
  const { start: aStart, index: aIndex, value: aValue } = a;
  const { start: pStart, index: pIndex, value: pValue } = p;
  const table = slotAt.table;
  // Each entry of P's coarse cell, looked up once rather than once per row of A that reaches it.
  const entryCell = new Int32Array(p.index.length);
  for (let f = 0; f < entryCell.length; f++) entryCell[f] = cell[pIndex[f]];
  const coarse = new Float64Array(p.columns * SLOTS);
  const ap = new Float64Array(SLOTS);
  const touched = new Int32Array(SLOTS);
  const isTouched = new Uint8Array(SLOTS);
  for (let i = 0; i < a.rows; i++) {
    const home = cell[of[i]] - slotAt.zero;
    let count = 0;
    for (let e = aStart[i]; e < aStart[i + 1]; e++) {
      const v = aValue[e];
      const j = aIndex[e];
      for (let f = pStart[j]; f < pStart[j + 1]; f++) {
        const slot = table[entryCell[f] - home];
        if (!isTouched[slot]) {
          isTouched[slot] = 1;
          touched[count++] = slot;
        }
        ap[slot] += v * pValue[f];
      }
    }
    for (let f = pStart[i]; f < pStart[i + 1]; f++)
      addScaledRow(coarse, pIndex[f], table[entryCell[f] - home], pValue[f], ap, touched, count);
    for (let t = 0; t < count; t++) {
      ap[touched[t]] = 0;
      isTouched[touched[t]] = 0;
    }
  }
  return compress(coarse, grid, at);
}

/**
 * Adds weight × (row of A P in 9 slots around a fine row's aggregate) to the result's row `target`,
 * an aggregate at slot `slot` around that same one: slot s becomes the target's slot s − slot + 4.
 */
function addScaledRow(
  coarse: Float64Array,
  target: number,
  slot: number,
  weight: number,
  ap: Float64Array,
  touched: Int32Array,
  count: number,
): void {
  const row = target * SLOTS + 4 - slot;
  for (let t = 0; t < count; t++) coarse[row + touched[t]] += weight * ap[touched[t]];
}

/**
 * On a grid `width` cells wide, the slot of each cell offset between neighbours: table[offset + zero]
 * (offsets −width − 1 … width + 1).
 */
function slotByCellOffset(width: number): { table: Int8Array; zero: number } {
  const zero = width + 1;
  const table = new Int8Array(2 * zero + 1);
  for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) table[dr * width + dc + zero] = slotOf(dr, dc);
  return { table, zero };
}

/** The 9-slot rows as compressed sparse rows, without the slots of absent blocks or exact zeros. */
function compress(slots: Float64Array, { rows, columns, width }: Grid, at: Int32Array): SparseMatrix {
  const size = rows.length;
  const start = new Int32Array(size + 1);
  const index = new Int32Array(size * SLOTS);
  const value = new Float64Array(size * SLOTS);
  let next = 0;
  for (let i = 0; i < size; i++) {
    for (let slot = 0; slot < SLOTS; slot++) {
      const v = slots[i * SLOTS + slot];
      if (v === 0) continue;
      index[next] = at[(rows[i] + SLOT_ROW[slot]) * width + columns[i] + SLOT_COLUMN[slot]];
      value[next++] = v;
    }
    start[i + 1] = next;
  }
  return { rows: size, columns: size, start, index: index.slice(0, next), value: value.slice(0, next) };
}
