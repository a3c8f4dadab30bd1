// Reverse-mode autodiff over the graph IR. The engine owns everything common to all ops:
// which values need a gradient, reverse topological order, summing fan-out, un-broadcasting,
// and the error for a missing rule. The per-op rules live in gradients.ts.

import { GraphBuilder, OpType } from '../graph/builder';
import { DType, Graph, Node, Segment, Shape, Value, isFloat } from '../graph/graph';
import { GRADIENTS, GradContext } from './gradients';

export class MissingGradientError extends Error {}

/** Sums `g` over the axes along which `shape` was broadcast to `g.shape`. */
export function unbroadcast(b: GraphBuilder, g: Value, shape: Shape): Value {
  if (g.shape.length === shape.length && g.shape.every((d, k) => d === shape[k])) return g;
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  for (let k = 0; k < g.shape.length; k++) {
    if (k < lead || (shape[k - lead] === 1 && g.shape[k] !== 1)) axes.push(k);
  }
  const summed = axes.length ? b.reduceSum(g, axes, true) : g;
  return b.reshape(summed, shape);
}

export function zerosLike(b: GraphBuilder, v: Value): Value {
  return b.expand(b.scalar(0, v.dtype), v.shape);
}

/**
 * Builds the gradient of scalar `loss` with respect to each value of `wrt`, in the graph of `b`.
 * Only nodes on a path from some `wrt` value to `loss` are differentiated. Values of `wrt` that
 * `loss` does not depend on get zeros.
 */
export function gradients(b: GraphBuilder, loss: Value, wrt: Value[], seed?: Value): Map<Value, Value> {
  const nodes = b.graph.nodes;
  const wrtIds = new Set(wrt.map((v) => v.id));

  // Forward: values that depend on a wrt value (through float values).
  const dependsOnWrt = new Set<number>(wrtIds);
  for (const n of nodes) {
    if (n.inputs.some((x) => x && dependsOnWrt.has(x.id))) for (const y of n.outputs) if (isFloat(y.dtype)) dependsOnWrt.add(y.id);
  }
  // Backward: values the loss depends on.
  const feedsLoss = new Set<number>([loss.id]);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (n.outputs.some((y) => feedsLoss.has(y.id))) for (const x of n.inputs) if (x) feedsLoss.add(x.id);
  }
  const needs = (v: Value | null): v is Value => !!v && dependsOnWrt.has(v.id) && feedsLoss.has(v.id) && isFloat(v.dtype);

  const contributions = new Map<number, Value[]>();
  // While a segment's copies are differentiated: the gradients they give values outside the segment (its parameters).
  let outside: { copies: Set<number>; grads: Value[] } | null = null;
  const add = (v: Value, g: Value) => {
    if (outside && !outside.copies.has(v.id)) outside.grads.push(g);
    const list = contributions.get(v.id);
    if (list) list.push(g); else contributions.set(v.id, [g]);
  };
  const total = (v: Value): Value | undefined => {
    const list = contributions.get(v.id);
    if (!list) return undefined;
    const sum = list.reduce((acc, g) => b.add(acc, g));
    contributions.set(v.id, [sum]);
    return sum;
  };

  add(loss, seed ?? b.constant(loss.dtype, loss.shape, new Array(loss.shape.reduce((p, q) => p * q, 1)).fill(1)));

  const differentiate = (node: Node) => {
    if (!node.inputs.some(needs)) return;
    if (!node.outputs.some((y) => contributions.has(y.id))) return;
    const rule = GRADIENTS[node.op as OpType];
    if (rule === undefined || rule === 'unsupported') {
      throw new MissingGradientError(`no gradient rule for op ${node.op} (node '${node.name}'); add one to src/engine/autodiff/gradients.ts`);
    }
    if (rule === 'nondiff') {
      throw new MissingGradientError(`op ${node.op} (node '${node.name}') is not differentiable but lies between a trained value and the loss`);
    }
    const ctx = context(b, node, needs, total);
    const grads = b.scope(`grad/${node.name}`, () => rule(ctx));
    node.inputs.forEach((x, i) => {
      const g = grads[i];
      if (!needs(x) || !g) return;
      add(x, b.scope(`grad/${node.name}`, () => unbroadcast(b, g, x.shape)));
    });
  };

  // Gradient checkpointing: a segment's nodes are emitted again from its inputs once the gradient of its
  // output exists, and the copies are differentiated instead of the originals, whose values then die in
  // the forward pass. The copies read x' = x + 0 * gY[0] instead of x (and key' = key + 0 for a dropout
  // key): ONNX Runtime cannot merge them with the originals (common-subexpression elimination would
  // undo the recomputation) nor run them before gY exists. Dropout masks are keyed by (key, site), so
  // the copies draw the forward's masks. Nodes that read no segment input (index tables) are not copied.
  // A scalar read of v (its first element): a data dependency on v at the cost of one element.
  const firstElement = (v: Value) => b.reshape(b.slice(b.reshape(v, [-1]), 0, 0, 1), []);
  const recompute = (seg: Segment) => {
    const gY = needs(seg.output) ? total(seg.output) : undefined;
    if (!gY) return;
    const map = new Map<number, Value>();
    const mark = (copy: Value, of: Value) => {
      map.set(of.id, copy);
      if (dependsOnWrt.has(of.id)) dependsOnWrt.add(copy.id);
      if (feedsLoss.has(of.id)) feedsLoss.add(copy.id);
    };
    const copies = b.scope(`recompute/${seg.name}`, () => {
      const zero = b.mul(firstElement(gY), b.scalar(0, gY.dtype)); // [] 0, after gY
      const segNodes = nodes.slice(seg.start, seg.end);
      for (const x of seg.inputs) {
        if (segNodes.some((n) => n.inputs.includes(x))) mark(b.add(x, x.dtype === zero.dtype ? zero : b.cast(zero, x.dtype)), x);
      }
      return segNodes.map((n) => {
        if (!n.inputs.some((x) => x && map.has(x.id))) return n;
        if (Object.values(n.attrs).some((a) => a.kind === 'graph')) throw new Error(`recompute: node '${n.name}' of segment '${seg.name}' has a subgraph`);
        const outs = b.node(n.op as OpType, n.inputs.map((x) => (x && map.get(x.id)) ?? x), n.outputs.map((y): [DType, Shape] => [y.dtype, y.shape]), { ...n.attrs });
        n.outputs.forEach((y, k) => mark(outs[k], y));
        return b.graph.nodes[b.graph.nodes.length - 1];
      });
    });
    add(map.get(seg.output.id) ?? seg.output, gY);
    outside = { copies: new Set([...map.values()].map((v) => v.id)), grads: [] };
    for (let k = copies.length - 1; k >= 0; k--) differentiate(copies[k]);
    const paramGrads = outside.grads;
    outside = null;
    // The gradient leaving the segment also waits for the gradients of its parameters: ORT orders nodes
    // by a depth-first walk from the graph outputs, which would otherwise make every block's dX before
    // any block's dW and keep the activations those read (a few [B, T, C] per block) alive meanwhile.
    const after = paramGrads.length
      ? b.scope(`recompute/${seg.name}`, () => b.mul(paramGrads.map(firstElement).reduce((p, q) => b.add(p, q)), b.scalar(0, paramGrads[0].dtype)))
      : null;
    for (const x of seg.inputs) {
      const copy = map.get(x.id);
      const g = copy && needs(x) ? total(copy) : undefined;
      if (g) add(x, after && g.dtype === after.dtype ? b.scope(`recompute/${seg.name}`, () => b.add(g, after)) : g);
    }
  };

  const segmentEndingAt = new Map(b.graph.segments.map((s) => [s.end - 1, s]));
  checkSegments(b.graph);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const seg = segmentEndingAt.get(k);
    if (seg) {
      recompute(seg);
      k = seg.start;
    } else {
      differentiate(nodes[k]);
    }
  }
  return new Map(wrt.map((v) => [v, total(v) ?? zerosLike(b, v)]));
}

/** Recomputation needs every value a segment makes, but its output, to be read inside it only. */
function checkSegments(g: Graph): void {
  if (!g.segments.length) return;
  const inside = new Map<number, Segment>();
  for (const s of g.segments) for (let k = s.start; k < s.end; k++) for (const y of g.nodes[k].outputs) if (y !== s.output) inside.set(y.id, s);
  const check = (x: Value | null, at: number | null, where: string) => {
    const s = x && inside.get(x.id);
    if (s && (at === null || at < s.start || at >= s.end)) throw new Error(`recompute: '${x!.name}' of segment '${s.name}' is read outside it (${where})`);
  };
  g.nodes.forEach((n, k) => n.inputs.forEach((x) => check(x, k, `node '${n.name}'`)));
  for (const y of g.outputs) check(y, null, 'a graph output');
}

function context(b: GraphBuilder, node: Node, needs: (v: Value | null) => boolean, total: (v: Value) => Value | undefined): GradContext {
  return {
    b,
    node,
    x: (i) => {
      const v = node.inputs[i];
      if (!v) throw new Error(`${node.op} '${node.name}': input ${i} is absent`);
      return v;
    },
    y: (i) => node.outputs[i],
    gy: (i) => total(node.outputs[i]) ?? zerosLike(b, node.outputs[i]),
    hasGy: (i) => total(node.outputs[i]) !== undefined,
    needs: (i) => needs(node.inputs[i] ?? null),
    attr: (name, dflt) => {
      const a = node.attrs[name];
      return a && (a.kind === 'int' || a.kind === 'float') ? a.v : dflt;
    },
    constInts: (i) => {
      const v = node.inputs[i];
      const data = v && b.graph.constantData(v);
      if (!data) throw new Error(`${node.op} '${node.name}': input ${i} must be a constant`);
      return Array.from(data as ArrayLike<number | bigint>, Number);
    },
    ints: (name) => {
      const a = node.attrs[name];
      return a && a.kind === 'ints' ? a.v : undefined;
    },
  };
}
