/**
 * The Boykov–Kolmogorov max-flow that GrabCut's cut runs on: tiny graphs whose flow and cut are worked
 * out by hand, and random graphs checked against the minimum cut found by trying every partition (the
 * max-flow min-cut theorem makes the two equal) and against the flow of Edmonds–Karp.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowGraph } from '../../src/engine/segmentation/maxflow';
import { seededRandom } from '../../src/engine/dataset/random';

interface Edge {
  from: number;
  to: number;
  capacity: number;
  reverse: number;
}

interface Problem {
  nodes: number;
  source: number[];
  sink: number[];
  edges: Edge[];
}

function solve(problem: Problem): { flow: number; sourceSide: boolean[] } {
  const graph = new FlowGraph(problem.nodes);
  problem.source.forEach((s, i) => graph.addTerminalWeights(i, s, problem.sink[i]));
  for (const e of problem.edges) graph.addEdge(e.from, e.to, e.capacity, e.reverse);
  const flow = graph.maxflow();
  return { flow, sourceSide: Array.from({ length: problem.nodes }, (_, i) => graph.isSourceSide(i)) };
}

/** The cost of cutting with `sourceSide` on the source's side. */
function cutCost(problem: Problem, sourceSide: boolean[]): number {
  let cost = 0;
  for (let i = 0; i < problem.nodes; i++) cost += sourceSide[i] ? problem.sink[i] : problem.source[i];
  for (const e of problem.edges) {
    if (sourceSide[e.from] && !sourceSide[e.to]) cost += e.capacity;
    if (sourceSide[e.to] && !sourceSide[e.from]) cost += e.reverse;
  }
  return cost;
}

function bruteForceMinCut(problem: Problem): number {
  let best = Infinity;
  for (let set = 0; set < 1 << problem.nodes; set++) {
    best = Math.min(
      best,
      cutCost(
        problem,
        Array.from({ length: problem.nodes }, (_, i) => ((set >> i) & 1) === 1),
      ),
    );
  }
  return best;
}

/** Edmonds–Karp on a dense matrix with the terminals as nodes n and n + 1: an independent flow. */
function edmondsKarp(problem: Problem): number {
  const n = problem.nodes + 2;
  const [s, t] = [problem.nodes, problem.nodes + 1];
  const capacity = Array.from({ length: n }, () => new Float64Array(n));
  problem.source.forEach((c, i) => (capacity[s][i] += c));
  problem.sink.forEach((c, i) => (capacity[i][t] += c));
  for (const e of problem.edges) {
    capacity[e.from][e.to] += e.capacity;
    capacity[e.to][e.from] += e.reverse;
  }
  let flow = 0;
  for (;;) {
    const previous = new Int32Array(n).fill(-1);
    previous[s] = s;
    const queue = [s];
    while (queue.length > 0 && previous[t] === -1) {
      const u = queue.shift()!;
      for (let v = 0; v < n; v++) {
        if (previous[v] === -1 && capacity[u][v] > 1e-12) {
          previous[v] = u;
          queue.push(v);
        }
      }
    }
    if (previous[t] === -1) return flow;
    let bottleneck = Infinity;
    for (let v = t; v !== s; v = previous[v]) bottleneck = Math.min(bottleneck, capacity[previous[v]][v]);
    for (let v = t; v !== s; v = previous[v]) {
      capacity[previous[v]][v] -= bottleneck;
      capacity[v][previous[v]] += bottleneck;
    }
    flow += bottleneck;
  }
}

test('a chain source → 0 → 1 → 2 → sink is cut at its weakest link', () => {
  const problem: Problem = {
    nodes: 3,
    source: [5, 0, 0],
    sink: [0, 0, 4],
    edges: [
      { from: 0, to: 1, capacity: 3, reverse: 0 },
      { from: 1, to: 2, capacity: 2, reverse: 0 },
    ],
  };
  const { flow, sourceSide } = solve(problem);
  assert.equal(flow, 2);
  assert.deepEqual(sourceSide, [true, true, false]);
});

test('two paths sharing a cross edge: flow 5, every source edge saturated, so no node stays on the source side', () => {
  // s→a 3, s→b 2, a→b 1, a→t 2, b→t 3: every edge out of s is used, max flow 5.
  const problem: Problem = {
    nodes: 2,
    source: [3, 2],
    sink: [2, 3],
    edges: [{ from: 0, to: 1, capacity: 1, reverse: 0 }],
  };
  const { flow, sourceSide } = solve(problem);
  assert.equal(flow, 5);
  assert.deepEqual(sourceSide, [false, false]);
  assert.equal(cutCost(problem, sourceSide), 5);
});

test('a node tied to both terminals passes the smaller weight straight through', () => {
  const { flow, sourceSide } = solve({ nodes: 1, source: [7], sink: [4], edges: [] });
  assert.equal(flow, 4);
  assert.deepEqual(sourceSide, [true]);
});

test('a strong edge holds two nodes together against weaker terminal pulls', () => {
  // 0 is pulled to the source (1), 1 to the sink (1); the edge of 10 both ways makes one side pay 1.
  const problem: Problem = { nodes: 2, source: [1, 0], sink: [0, 1], edges: [{ from: 0, to: 1, capacity: 10, reverse: 10 }] };
  const { flow, sourceSide } = solve(problem);
  assert.equal(flow, 1);
  assert.equal(sourceSide[0], sourceSide[1]);
});

test('on random graphs the flow equals the brute-force minimum cut and Edmonds–Karp, and the cut found costs the flow', () => {
  const next = seededRandom(20240611);
  for (let trial = 0; trial < 300; trial++) {
    const nodes = 2 + Math.floor(next() * 9);
    const problem: Problem = { nodes, source: [], sink: [], edges: [] };
    for (let i = 0; i < nodes; i++) {
      problem.source.push(next() < 0.4 ? Math.round(next() * 20) : 0);
      problem.sink.push(next() < 0.4 ? Math.round(next() * 20) : 0);
    }
    for (let i = 0; i < nodes; i++)
      for (let j = i + 1; j < nodes; j++)
        if (next() < 0.5) problem.edges.push({ from: i, to: j, capacity: next() * 10, reverse: next() < 0.5 ? next() * 10 : 0 });
    const { flow, sourceSide } = solve(problem);
    const expected = bruteForceMinCut(problem);
    assert.ok(Math.abs(flow - expected) < 1e-9, `trial ${trial}: flow ${flow}, minimum cut ${expected}`);
    assert.ok(Math.abs(edmondsKarp(problem) - expected) < 1e-9, `trial ${trial}: Edmonds–Karp disagrees`);
    assert.ok(Math.abs(cutCost(problem, sourceSide) - flow) < 1e-9, `trial ${trial}: the cut returned is not minimal`);
  }
});

test('a 4-connected grid of 256×256 with a vertical seam of weak edges is cut along the seam', () => {
  const [width, height] = [256, 256];
  const graph = new FlowGraph(width * height, 2 * width * height);
  for (let y = 0; y < height; y++) {
    graph.addTerminalWeights(y * width, 100, 0);
    graph.addTerminalWeights(y * width + width - 1, 0, 100);
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (x < width - 1) graph.addEdge(p, p + 1, x === 100 ? 0.5 : 5, x === 100 ? 0.5 : 5);
      if (y < height - 1) graph.addEdge(p, p + width, 5, 5);
    }
  }
  assert.equal(graph.maxflow(), 0.5 * height);
  for (let y = 0; y < height; y += 37) {
    assert.ok(graph.isSourceSide(y * width + 100));
    assert.ok(!graph.isSourceSide(y * width + 101));
  }
});
