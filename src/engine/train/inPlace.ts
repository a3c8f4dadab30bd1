// Which outputs of a step may be written into their input's own buffer (an in-place update of the
// parameters and optimizer state, with no second copy of them).
//
// ORT executes a session's nodes one at a time (executionMode 'sequential', our only mode), in an order
// that respects data dependencies and nothing else. Writing output y into input x's memory is
// therefore safe when every node that reads x is y's producer or runs before it by dependency: an
// ancestor of y's producer. The producer itself reads x and writes y element by element (the last
// node of an optimizer update is elementwise), or is the Loop that reads x once at its start and
// writes y at its end. A node counts as reading x when x is its input or a body graph of it (a Loop's)
// reads x from the enclosing scope.
//
// For the training step this holds by construction: a parameter is read by the forward and the
// backward, which the update's gradient depends on, and by the update itself; the optimizer state only
// by the update. With clipping every update also waits for the global norm, so for every gradient. The
// check below does not assume any of that; it verifies it on the compiled graph, per pair, and the
// runner double-buffers a pair that fails (test/engine/boundRunner.test.ts compares both with
// onnxruntime-node's copying run, bit for bit).

import { Graph, Node, Value } from '../graph/graph';
import type { TrainStepGraph } from './trainStep';

/** Values read by `g`'s nodes (and their bodies), recursively, that belong to an enclosing graph. */
function captured(g: Graph, into: Set<Value>): Set<Value> {
  for (const n of g.nodes) {
    for (const x of n.inputs) if (x && x.graph !== g) into.add(x);
    for (const a of Object.values(n.attrs)) if (a.kind === 'graph') captured(a.v, into);
  }
  return into;
}

/** For each [input, output] pair of `graph`'s own values: may the output be written into the input's buffer? */
export function inPlaceSafe(graph: Graph, pairs: readonly (readonly [Value, Value])[]): boolean[] {
  // What each root node reads, its body graphs' captures included.
  const reads = new Map<Node, Set<Value>>();
  for (const n of graph.nodes) {
    const r = new Set<Value>(n.inputs.filter((x): x is Value => !!x));
    for (const a of Object.values(n.attrs)) if (a.kind === 'graph') captured(a.v, r);
    reads.set(n, r);
  }
  const readers = new Map<Value, Node[]>();
  for (const [n, r] of reads) for (const x of r) (readers.get(x) ?? readers.set(x, []).get(x)!).push(n);

  const ancestorsOf = new Map<Node, Set<Node>>();
  const ancestors = (n: Node): Set<Node> => {
    const known = ancestorsOf.get(n);
    if (known) return known;
    const seen = new Set<Node>();
    const stack = [n];
    while (stack.length) {
      for (const x of reads.get(stack.pop()!) ?? []) {
        const p = x.producer;
        if (p && p !== n && !seen.has(p) && reads.has(p)) { seen.add(p); stack.push(p); }
      }
    }
    ancestorsOf.set(n, seen);
    return seen;
  };

  return pairs.map(([x, y]) => {
    const producer = y.producer;
    if (!producer || !reads.has(producer) || x.producer || !graph.inputs.includes(x)) return false;
    const before = ancestors(producer);
    return (readers.get(x) ?? []).every((r) => r === producer || before.has(r));
  });
}

/** A training step's state buffers, per unit ([params, ...state]): the input, the output that replaces it, and whether it may be written in place. */
export interface StepBuffer { input: Value; output: Value; inPlace: boolean }

export function stepBuffers(step: TrainStepGraph): StepBuffer[][] {
  const rows = step.inputs.groups.map((g, gi) => {
    const outs = [step.outputs.groups[gi].params, ...step.outputs.groups[gi].state];
    return [g.params, ...g.state].map((input, si) => ({ input, output: outs[si] }));
  });
  const safe = inPlaceSafe(step.graph, rows.flat().map((r) => [r.input, r.output] as const));
  let at = 0;
  return rows.map((row) => row.map((r) => ({ ...r, inPlace: safe[at++] })));
}
