/**
 * Maximum flow and minimum s–t cut by the Boykov–Kolmogorov algorithm ("An Experimental Comparison of
 * Min-Cut/Max-Flow Algorithms for Energy Minimization in Vision", PAMI 2004), the solver GrabCut uses:
 * two search trees grow from the source and the sink until they touch, the path found is augmented, and
 * the nodes cut off from their tree (orphans) are adopted or freed, so the trees are reused rather than
 * rebuilt. It suits grid graphs with short paths, where it beats push–relabel in practice.
 *
 * Written for graphs of up to a few hundred thousand nodes: every field is a typed array, arcs are stored
 * in pairs (arc `a` and its reverse `a ^ 1`), and capacities are float64 so that a saturated arc reaches
 * exactly zero.
 */

const NONE = -1;
const TERMINAL = -2;
const ORPHAN = -3;
const SOURCE_TREE = 0;
const SINK_TREE = 1;
const INFINITE_DISTANCE = 1e9;

export class FlowGraph {
  readonly nodeCount: number;
  private arcCount = 0;
  /** Arc fields: the node it enters, the next arc leaving the same node, its residual capacity. */
  private head: Int32Array;
  private nextArc: Int32Array;
  private residual: Float64Array;
  /** Node fields. `terminal` > 0: residual capacity from the source; < 0: to the sink (negated). */
  private firstArc: Int32Array;
  private terminal: Float64Array;
  private parent: Int32Array;
  private tree: Uint8Array;
  private timestamp: Int32Array;
  private distance: Int32Array;
  private flowValue = 0;

  /** `edgeCapacity`: how many `addEdge` calls to make room for (more grows the arrays). */
  constructor(nodeCount: number, edgeCapacity = 0) {
    this.nodeCount = nodeCount;
    this.head = new Int32Array(2 * edgeCapacity);
    this.nextArc = new Int32Array(2 * edgeCapacity);
    this.residual = new Float64Array(2 * edgeCapacity);
    this.firstArc = new Int32Array(nodeCount).fill(NONE);
    this.terminal = new Float64Array(nodeCount);
    this.parent = new Int32Array(nodeCount);
    this.tree = new Uint8Array(nodeCount);
    this.timestamp = new Int32Array(nodeCount);
    this.distance = new Int32Array(nodeCount);
  }

  /** Adds capacity from the source to `node` and from `node` to the sink (both ≥ 0). */
  addTerminalWeights(node: number, fromSource: number, toSink: number): void {
    checkCapacity(fromSource);
    checkCapacity(toSink);
    const before = this.terminal[node];
    // Flow through both terminal arcs at once is already decided: only the difference matters.
    if (before > 0) fromSource += before;
    else toSink -= before;
    this.flowValue += Math.min(fromSource, toSink);
    this.terminal[node] = fromSource - toSink;
  }

  /** An edge from `from` to `to` with capacity `capacity`, and `reverseCapacity` the other way. */
  addEdge(from: number, to: number, capacity: number, reverseCapacity: number): void {
    checkCapacity(capacity);
    checkCapacity(reverseCapacity);
    if (from === to) throw new Error('internal: an edge joins two different nodes');
    if (this.arcCount + 2 > this.head.length) this.grow();
    const a = this.arcCount;
    this.arcCount += 2;
    this.head[a] = to;
    this.residual[a] = capacity;
    this.nextArc[a] = this.firstArc[from];
    this.firstArc[from] = a;
    this.head[a + 1] = from;
    this.residual[a + 1] = reverseCapacity;
    this.nextArc[a + 1] = this.firstArc[to];
    this.firstArc[to] = a + 1;
  }

  /** Solves the flow; returns its value. Afterwards `isSourceSide` gives the minimum cut. */
  maxflow(): number {
    const { head, nextArc, residual, firstArc, parent, tree, timestamp, distance } = this;
    const n = this.nodeCount;
    const queue = new ActiveQueue(n);
    const orphans = new ActiveQueue(n);
    for (let i = 0; i < n; i++) {
      timestamp[i] = 0;
      if (this.terminal[i] !== 0) {
        tree[i] = this.terminal[i] > 0 ? SOURCE_TREE : SINK_TREE;
        parent[i] = TERMINAL;
        distance[i] = 1;
        queue.push(i);
      } else {
        parent[i] = NONE;
      }
    }
    let time = 0;
    let current = NONE;
    for (;;) {
      let i = current;
      if (i !== NONE) {
        queue.active[i] = 0;
        if (parent[i] === NONE) i = NONE;
      }
      if (i === NONE) {
        i = queue.popLive(parent);
        if (i === NONE) break;
      }
      // Grow i's tree by one layer; stop at an arc that reaches the other tree.
      let meeting = NONE;
      const side = tree[i];
      for (let a = firstArc[i]; a !== NONE; a = nextArc[a]) {
        if (residual[side === SOURCE_TREE ? a : a ^ 1] <= 0) continue;
        const j = head[a];
        if (parent[j] === NONE) {
          tree[j] = side;
          parent[j] = a ^ 1;
          timestamp[j] = timestamp[i];
          distance[j] = distance[i] + 1;
          queue.push(j);
        } else if (tree[j] !== side) {
          meeting = side === SOURCE_TREE ? a : a ^ 1;
          break;
        } else if (timestamp[j] <= timestamp[i] && distance[j] > distance[i]) {
          // Keeps paths to the root short.
          parent[j] = a ^ 1;
          timestamp[j] = timestamp[i];
          distance[j] = distance[i] + 1;
        }
      }
      time++;
      if (meeting === NONE) {
        current = NONE;
        continue;
      }
      queue.active[i] = 1;
      current = i;
      this.augment(meeting, orphans);
      while (orphans.size > 0) this.adopt(orphans.pop(), time, queue, orphans);
    }
    return this.flowValue;
  }

  /** After `maxflow`: whether `node` lies on the source's side of the minimum cut (reachable from it). */
  isSourceSide(node: number): boolean {
    return this.parent[node] !== NONE && this.tree[node] === SOURCE_TREE;
  }

  /** Pushes the bottleneck along source → … → arc `middle` → … → sink; saturated links make orphans. */
  private augment(middle: number, orphans: ActiveQueue): void {
    const { head, residual, parent, terminal } = this;
    let bottleneck = residual[middle];
    let s = head[middle ^ 1];
    while (parent[s] !== TERMINAL) {
      bottleneck = Math.min(bottleneck, residual[parent[s] ^ 1]);
      s = head[parent[s]];
    }
    bottleneck = Math.min(bottleneck, terminal[s]);
    let t = head[middle];
    while (parent[t] !== TERMINAL) {
      bottleneck = Math.min(bottleneck, residual[parent[t]]);
      t = head[parent[t]];
    }
    bottleneck = Math.min(bottleneck, -terminal[t]);

    residual[middle] -= bottleneck;
    residual[middle ^ 1] += bottleneck;
    for (s = head[middle ^ 1]; parent[s] !== TERMINAL;) {
      const a = parent[s];
      residual[a] += bottleneck;
      residual[a ^ 1] -= bottleneck;
      const up = head[a];
      if (residual[a ^ 1] === 0) this.makeOrphan(s, orphans);
      s = up;
    }
    terminal[s] -= bottleneck;
    if (terminal[s] === 0) this.makeOrphan(s, orphans);
    for (t = head[middle]; parent[t] !== TERMINAL;) {
      const a = parent[t];
      residual[a ^ 1] += bottleneck;
      residual[a] -= bottleneck;
      const up = head[a];
      if (residual[a] === 0) this.makeOrphan(t, orphans);
      t = up;
    }
    terminal[t] += bottleneck;
    if (terminal[t] === 0) this.makeOrphan(t, orphans);
    this.flowValue += bottleneck;
  }

  private makeOrphan(node: number, orphans: ActiveQueue): void {
    this.parent[node] = ORPHAN;
    orphans.push(node);
  }

  /** Finds an orphan a new parent in its tree (the nearest to the root), or frees it and orphans its children. */
  private adopt(i: number, time: number, queue: ActiveQueue, orphans: ActiveQueue): void {
    const { head, nextArc, residual, firstArc, parent, tree, timestamp, distance } = this;
    const side = tree[i];
    let best = NONE;
    let bestDistance = INFINITE_DISTANCE;
    for (let a = firstArc[i]; a !== NONE; a = nextArc[a]) {
      if (residual[side === SOURCE_TREE ? a ^ 1 : a] <= 0) continue;
      let j = head[a];
      if (parent[j] === NONE || tree[j] !== side) continue;
      // Does j still lead to the root? Count the steps, stopping at a node checked at this time.
      let d = 0;
      for (;;) {
        if (timestamp[j] === time) {
          d += distance[j];
          break;
        }
        const up = parent[j];
        d++;
        if (up === TERMINAL) {
          timestamp[j] = time;
          distance[j] = 1;
          break;
        }
        if (up === ORPHAN) {
          d = INFINITE_DISTANCE;
          break;
        }
        j = head[up];
      }
      if (d >= INFINITE_DISTANCE) continue;
      if (d < bestDistance) {
        best = a;
        bestDistance = d;
      }
      for (j = head[a]; timestamp[j] !== time; j = head[parent[j]]) {
        timestamp[j] = time;
        distance[j] = d--;
      }
    }
    if (best !== NONE) {
      parent[i] = best;
      timestamp[i] = time;
      distance[i] = bestDistance + 1;
      return;
    }
    parent[i] = NONE;
    for (let a = firstArc[i]; a !== NONE; a = nextArc[a]) {
      const j = head[a];
      if (parent[j] === NONE || tree[j] !== side) continue;
      if (residual[side === SOURCE_TREE ? a ^ 1 : a] > 0) queue.push(j);
      const up = parent[j];
      if (up !== TERMINAL && up !== ORPHAN && head[up] === i) this.makeOrphan(j, orphans);
    }
  }

  private grow(): void {
    const size = Math.max(16, this.head.length * 2);
    const grown = <T extends Int32Array | Float64Array>(old: T, make: (n: number) => T) => {
      const array = make(size);
      array.set(old);
      return array;
    };
    this.head = grown(this.head, (n) => new Int32Array(n));
    this.nextArc = grown(this.nextArc, (n) => new Int32Array(n));
    this.residual = grown(this.residual, (n) => new Float64Array(n));
  }
}

function checkCapacity(value: number): void {
  if (!(value >= 0 && Number.isFinite(value))) throw new Error(`internal: a capacity must be finite and non-negative (got ${value})`);
}

/** A first-in first-out ring of node numbers, each held at most once (`active` marks the members). */
class ActiveQueue {
  readonly active: Uint8Array;
  private readonly ring: Int32Array;
  private start = 0;
  size = 0;

  constructor(nodeCount: number) {
    this.active = new Uint8Array(nodeCount);
    this.ring = new Int32Array(Math.max(1, nodeCount));
  }

  push(node: number): void {
    if (this.active[node]) return;
    this.active[node] = 1;
    this.ring[(this.start + this.size) % this.ring.length] = node;
    this.size++;
  }

  pop(): number {
    const node = this.ring[this.start];
    this.start = (this.start + 1) % this.ring.length;
    this.size--;
    this.active[node] = 0;
    return node;
  }

  /** The next member still in a tree (freed nodes are dropped), or NONE. */
  popLive(parent: Int32Array): number {
    while (this.size > 0) {
      const node = this.pop();
      if (parent[node] !== NONE) return node;
    }
    return NONE;
  }
}
