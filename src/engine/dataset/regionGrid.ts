/**
 * The geometry of a decision-region grid: square cells over a 2-D map, some of them split into quarters
 * (a quadtree) where the dots need a finer picture. Positions are resolved on an integer lattice
 * `2^depth` times finer than the cells, so finding the cell under a point, listing the drawn cells and
 * tracing the borders between classes are exact and agree with one another.
 */

/** A grid over the map whose cells may be split into quarters, each holding a class. */
export interface RegionGrid {
  columns: number;
  rows: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  /** How many times a cell may be halved: the lattice is `2^depth` steps per cell along each side. */
  depth: number;
  /**
   * The class of each cell: the grid's cells first (`row · columns + column`, row 0 at `minY`, column 0
   * at `minX`), then the quarters that splitting added. A split cell is not drawn; its quarters are.
   */
  classes: Int32Array;
  /** Per cell: the index of its first quarter (then lower right, upper left, upper right), or −1 for a cell drawn whole. */
  quarters: Int32Array;
}

/** A drawn cell: its index in `classes` and its square on the lattice (`x`, `y` its lower-left corner, `size` its side). */
export interface LatticeCell {
  cell: number;
  x: number;
  y: number;
  size: number;
}

/** Lattice steps along one side of the whole grid. */
export function latticeColumns(grid: RegionGrid): number {
  return grid.columns * 2 ** grid.depth;
}

export function latticeRows(grid: RegionGrid): number {
  return grid.rows * 2 ** grid.depth;
}

/** The lattice square that holds a map point (points on or past the far edges belong to the last squares). */
export function latticeOf(grid: RegionGrid, x: number, y: number): [number, number] {
  const columns = latticeColumns(grid);
  const rows = latticeRows(grid);
  const lx = Math.floor(((x - grid.minX) / (grid.maxX - grid.minX)) * columns);
  const ly = Math.floor(((y - grid.minY) / (grid.maxY - grid.minY)) * rows);
  return [Math.min(columns - 1, Math.max(0, lx)), Math.min(rows - 1, Math.max(0, ly))];
}

/** A lattice coordinate as a map coordinate. */
export function mapXOf(grid: RegionGrid, lx: number): number {
  return grid.minX + (lx / latticeColumns(grid)) * (grid.maxX - grid.minX);
}

export function mapYOf(grid: RegionGrid, ly: number): number {
  return grid.minY + (ly / latticeRows(grid)) * (grid.maxY - grid.minY);
}

/** The drawn cell that holds lattice square (lx, ly), found by descending through the quarters. */
export function cellAtLattice(grid: RegionGrid, lx: number, ly: number): LatticeCell {
  let size = 2 ** grid.depth;
  let x = Math.floor(lx / size) * size;
  let y = Math.floor(ly / size) * size;
  let cell = (y / size) * grid.columns + x / size;
  while (grid.quarters[cell] >= 0) {
    size /= 2;
    const right = lx >= x + size ? 1 : 0;
    const up = ly >= y + size ? 1 : 0;
    x += right * size;
    y += up * size;
    cell = grid.quarters[cell] + 2 * up + right;
  }
  return { cell, x, y, size };
}

/** The index in `classes` of the drawn cell under a map point. */
export function cellOf(grid: RegionGrid, x: number, y: number): number {
  const [lx, ly] = latticeOf(grid, x, y);
  return cellAtLattice(grid, lx, ly).cell;
}

/** Calls `visit` with every drawn cell: together they tile the grid. */
export function forEachDrawnCell(grid: RegionGrid, visit: (drawn: LatticeCell) => void): void {
  const size = 2 ** grid.depth;
  const descend = (cell: number, x: number, y: number, side: number): void => {
    const first = grid.quarters[cell];
    if (first < 0) return visit({ cell, x, y, size: side });
    const half = side / 2;
    for (let q = 0; q < 4; q++) descend(first + q, x + (q % 2) * half, y + Math.floor(q / 2) * half, half);
  };
  for (let row = 0; row < grid.rows; row++)
    for (let column = 0; column < grid.columns; column++) descend(row * grid.columns + column, column * size, row * size, size);
}

/** The classes some drawn cell shows, ascending. */
export function drawnClasses(grid: RegionGrid): number[] {
  const shown = new Set<number>();
  forEachDrawnCell(grid, ({ cell }) => shown.add(grid.classes[cell]));
  return [...shown].sort((a, b) => a - b);
}

/**
 * The borders between drawn cells of different classes, as lattice segments `x0, y0, x1, y1` (each
 * vertical or horizontal). Every cell contributes its right and upper edges, cut where the cells
 * across them change, so each border is listed once.
 */
export function regionBorders(grid: RegionGrid): Int32Array {
  const columns = latticeColumns(grid);
  const rows = latticeRows(grid);
  const segments: number[] = [];
  forEachDrawnCell(grid, ({ cell, x, y, size }) => {
    const own = grid.classes[cell];
    if (x + size < columns) {
      for (let at = y; at < y + size;) {
        const across = cellAtLattice(grid, x + size, at);
        const end = Math.min(y + size, across.y + across.size);
        if (grid.classes[across.cell] !== own) segments.push(x + size, at, x + size, end);
        at = end;
      }
    }
    if (y + size < rows) {
      for (let at = x; at < x + size;) {
        const across = cellAtLattice(grid, at, y + size);
        const end = Math.min(x + size, across.x + across.size);
        if (grid.classes[across.cell] !== own) segments.push(at, y + size, end, y + size);
        at = end;
      }
    }
  });
  return Int32Array.from(segments);
}
