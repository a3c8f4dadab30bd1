// The most memory a graph's intermediate tensors hold at once when its nodes run in order and every
// tensor is freed after its last reader: what ONNX Runtime's allocation planner does on the CPU with
// the memory pattern off (src/engine/runtime/session.ts), up to its own reordering and in-place reuse.
// Reshape-like ops give views of their input (ORT reuses the buffer); graph inputs and constants are
// counted by the caller (they are fed or stored, not allocated by a run).

import { DType, Graph, Node, Value, size } from '../graph/graph';

const BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, int64: 8, int32: 4, uint32: 4, bool: 1 };

/** Ops whose output shares its input's buffer. */
const VIEWS = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity']);

export const valueBytes = (v: Value): number => size(v.shape) * BYTES[v.dtype];

export interface GraphPeak {
  /** Bytes of intermediate tensors alive at the peak (graph outputs included). */
  peakBytes: number;
  /** Bytes of the graph's outputs (alive at the end of a run). */
  outputBytes: number;
}

/** Values a node reads, including those its subgraphs (Loop bodies) read from enclosing graphs. */
function reads(node: Node): Value[] {
  const out: Value[] = node.inputs.filter((x): x is Value => x !== null);
  for (const a of Object.values(node.attrs)) {
    if (a.kind !== 'graph') continue;
    for (const n of a.v.nodes) out.push(...reads(n));
    out.push(...a.v.outputs);
  }
  return out;
}

/**
 * `outputsBound`: the graph's outputs are written into buffers the caller bound (the IO-binding
 * runtime's in-place update), so a run does not allocate them.
 */
export function graphPeak(g: Graph, o: { outputsBound?: boolean } = {}): GraphPeak {
  // Storage: a view's storage is its input's.
  const storage = new Map<Value, Value>();
  const root = (v: Value): Value => storage.get(v) ?? v;
  for (const n of g.nodes) {
    if (VIEWS.has(n.op) && n.inputs[0] && n.inputs[0].graph === g && n.inputs[0].producer) storage.set(n.outputs[0], root(n.inputs[0]));
  }
  const lastUse = new Map<Value, number>();
  g.nodes.forEach((n, i) => { for (const v of reads(n)) lastUse.set(root(v), i); });
  for (const v of g.outputs) lastUse.set(root(v), Infinity);

  const freeAt = new Map<number, Value[]>();
  let live = 0, peak = 0;
  const bound = new Set(o.outputsBound ? g.outputs.map(root) : []);
  g.nodes.forEach((n, i) => {
    let transient = 0;
    for (const a of Object.values(n.attrs)) if (a.kind === 'graph') transient = Math.max(transient, graphPeak(a.v).peakBytes);
    for (const y of n.outputs) {
      if (storage.has(y) || bound.has(y)) continue;
      live += valueBytes(y);
      const at = lastUse.get(y) ?? i; // never read: freed right after its node
      if (at !== Infinity) freeAt.set(at, [...(freeAt.get(at) ?? []), y]);
    }
    peak = Math.max(peak, live + transient);
    for (const y of freeAt.get(i) ?? []) live -= valueBytes(y);
  });
  const outputBytes = [...new Set(g.outputs.map(root))].filter((v) => v.graph === g && v.producer).reduce((s, v) => s + valueBytes(v), 0);
  return { peakBytes: peak, outputBytes };
}

/** Bytes of the constants a graph stores (masks, index tables): ORT holds them as initializers. */
export function constantBytes(g: Graph): number {
  return g.root().constants.reduce((s, c) => s + valueBytes(c.value), 0);
}
