/**
 * The few sparse-matrix operations the imputation's multigrid solver needs, on compressed sparse rows
 * in float64: multiplying by a vector and transposing; and the general product of two sparse matrices,
 * which the solver no longer needs (its Galerkin products come from the grid, `coarsening.ts`) but the
 * tests check those against.
 */

export interface SparseMatrix {
  rows: number;
  columns: number;
  /** Row i's entries are index/value[start[i] … start[i + 1]). */
  start: Int32Array;
  index: Int32Array;
  value: Float64Array;
}

/** out = a · x for `m` vectors stored interleaved (x[j * m + c] is entry j of vector c). */
export function multiply(a: SparseMatrix, x: Float64Array, out: Float64Array, m: number): void {
  const { start, index, value } = a;
  if (m === 1) {
    for (let i = 0; i < a.rows; i++) {
      let sum = 0;
      for (let e = start[i]; e < start[i + 1]; e++) sum += value[e] * x[index[e]];
      out[i] = sum;
    }
    return;
  }
  if (m === 3) {
    for (let i = 0; i < a.rows; i++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let e = start[i]; e < start[i + 1]; e++) {
        const v = value[e];
        const j = 3 * index[e];
        s0 += v * x[j];
        s1 += v * x[j + 1];
        s2 += v * x[j + 2];
      }
      out[3 * i] = s0;
      out[3 * i + 1] = s1;
      out[3 * i + 2] = s2;
    }
    return;
  }
  out.fill(0, 0, a.rows * m);
  for (let i = 0; i < a.rows; i++) {
    for (let e = start[i]; e < start[i + 1]; e++) {
      const v = value[e];
      const j = index[e] * m;
      for (let c = 0; c < m; c++) out[i * m + c] += v * x[j + c];
    }
  }
}

export function transpose(a: SparseMatrix): SparseMatrix {
  const start = new Int32Array(a.columns + 1);
  for (let e = 0; e < a.start[a.rows]; e++) start[a.index[e] + 1]++;
  for (let j = 0; j < a.columns; j++) start[j + 1] += start[j];
  const next = start.slice(0, a.columns);
  const index = new Int32Array(a.start[a.rows]);
  const value = new Float64Array(a.start[a.rows]);
  for (let i = 0; i < a.rows; i++) {
    for (let e = a.start[i]; e < a.start[i + 1]; e++) {
      const slot = next[a.index[e]]++;
      index[slot] = i;
      value[slot] = a.value[e];
    }
  }
  return { rows: a.columns, columns: a.rows, start, index, value };
}

/**
 * a · b, row by row with a dense accumulator (Gustavson's algorithm), in one pass into arrays sized for
 * the most entries the rows can have, then trimmed.
 */
export function product(a: SparseMatrix, b: SparseMatrix): SparseMatrix {
  let bound = 0;
  for (let e = 0; e < a.start[a.rows]; e++) bound += b.start[a.index[e] + 1] - b.start[a.index[e]];
  const start = new Int32Array(a.rows + 1);
  const index = new Int32Array(bound);
  const value = new Float64Array(bound);
  // Where column j's entry of the current row is; a slot before the row's start means none yet.
  const slotOf = new Int32Array(b.columns).fill(-1);
  let next = 0;
  for (let i = 0; i < a.rows; i++) {
    const rowStart = next;
    for (let e = a.start[i]; e < a.start[i + 1]; e++) {
      const factor = a.value[e];
      const k = a.index[e];
      for (let f = b.start[k]; f < b.start[k + 1]; f++) {
        const j = b.index[f];
        if (slotOf[j] < rowStart) {
          slotOf[j] = next;
          index[next] = j;
          value[next++] = factor * b.value[f];
        } else {
          value[slotOf[j]] += factor * b.value[f];
        }
      }
    }
    start[i + 1] = next;
  }
  return { rows: a.rows, columns: b.columns, start, index: index.slice(0, next), value: value.slice(0, next) };
}
