/** Nearest neighbours by cosine distance, and how well neighbourhoods keep classes together. */

export interface Neighbour {
  index: number;
  /** 1 − cosine similarity: 0 for the same direction, 2 for opposite ones. */
  distance: number;
}

/** Rows scaled to unit length (zero rows stay zero), so a dot product is the cosine similarity. */
export function unitRows(rows: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(rows.length);
  for (let start = 0; start < rows.length; start += dim) {
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += rows[start + j] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < dim; j++) out[start + j] = rows[start + j] * scale;
  }
  return out;
}

/** The k rows nearest to row `query` by cosine distance, the query itself left out, nearest first. */
export function nearestNeighbours(unit: Float32Array, dim: number, query: number, k: number): Neighbour[] {
  const count = unit.length / dim;
  const q = unit.subarray(query * dim, (query + 1) * dim);
  const found: Neighbour[] = [];
  for (let i = 0; i < count; i++) {
    if (i === query) continue;
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += q[j] * unit[i * dim + j];
    insertBounded(found, { index: i, distance: 1 - dot }, k);
  }
  return found;
}

/** Keeps `list` sorted by distance and at most `k` long. */
function insertBounded(list: Neighbour[], item: Neighbour, k: number): void {
  if (list.length === k && item.distance >= list[k - 1].distance) return;
  let at = list.length;
  while (at > 0 && list[at - 1].distance > item.distance) at--;
  list.splice(at, 0, item);
  if (list.length > k) list.pop();
}

export type Metric = 'cosine' | 'euclidean';

/**
 * Leave-one-out k-nearest-neighbour accuracy: the share of points whose k nearest others (by `metric`)
 * vote for the point's own class. The usual measure of how well a space, or a 2-D map of it, keeps
 * classes apart. Points with a negative label are ignored.
 */
export function knnAccuracy(rows: Float32Array, dim: number, labels: ArrayLike<number>, k: number, metric: Metric): number {
  const points = metric === 'cosine' ? unitRows(rows, dim) : rows;
  const count = rows.length / dim;
  let correct = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (labels[i] < 0) continue;
    const nearest: Neighbour[] = [];
    for (let o = 0; o < count; o++) {
      if (o === i || labels[o] < 0) continue;
      let d = 0;
      if (metric === 'cosine') {
        for (let j = 0; j < dim; j++) d -= points[i * dim + j] * points[o * dim + j];
      } else {
        for (let j = 0; j < dim; j++) d += (points[i * dim + j] - points[o * dim + j]) ** 2;
      }
      insertBounded(nearest, { index: o, distance: d }, k);
    }
    total++;
    if (majority(nearest.map((n) => labels[n.index])) === labels[i]) correct++;
  }
  return total ? correct / total : 0;
}

/** The most common value; a tie goes to the one seen first (the nearer neighbour). */
function majority(values: number[]): number {
  const counts = new Map<number, number>();
  let best = values[0];
  for (const v of values) {
    counts.set(v, (counts.get(v) ?? 0) + 1);
    if (counts.get(v)! > counts.get(best)!) best = v;
  }
  return best;
}
