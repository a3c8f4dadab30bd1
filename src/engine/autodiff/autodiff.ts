// Reverse-mode autodiff over the graph IR. The engine owns everything common to all ops:
// which values need a gradient, reverse topological order, summing fan-out, un-broadcasting,
// and the error for a missing rule. The per-op rules live in gradients.ts.

import { GraphBuilder, OpType } from '../graph/builder';
import { Node, Shape, Value, isFloat } from '../graph/graph';
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
  const add = (v: Value, g: Value) => {
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

  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k];
    if (!node.inputs.some(needs)) continue;
    if (!node.outputs.some((y) => contributions.has(y.id))) continue;
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
  }
  return new Map(wrt.map((v) => [v, total(v) ?? zerosLike(b, v)]));
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
