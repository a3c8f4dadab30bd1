// Test helpers: build a graph, run it on ONNX Runtime (CPU), deterministic random data.

import * as ort from 'onnxruntime-node';
import { Graph, TypedArray, Value } from '../../src/engine/graph/graph';
import { GraphBuilder } from '../../src/engine/graph/builder';
import { toModelProto } from '../../src/engine/graph/serialize';
import { createSession, tensor } from '../../src/engine/runtime/session';
import { uniformRng } from '../../src/engine/random';

export function newBuilder(name = 'test'): GraphBuilder {
  return new GraphBuilder(new Graph(name));
}

export function uniform(n: number, lo: number, hi: number, seed: number): number[] {
  const r = uniformRng(seed); // seeded: test data never depends on Math.random
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export async function runGraph(b: GraphBuilder, outputs: Value[], feeds: Map<Value, TypedArray>): Promise<TypedArray[]> {
  b.graph.outputs = outputs;
  const { session } = await createSession(toModelProto(b.graph), { threads: 1 });
  const f: Record<string, ort.Tensor> = {};
  for (const [v, data] of feeds) f[v.name] = tensor(v.dtype, v.shape, data);
  const res = await session.run(f);
  const out = outputs.map((v) => res[v.name].data as TypedArray);
  await session.release();
  return out;
}

export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) {
    const e = Math.abs(a[k] - b[k]) / Math.max(floor, Math.abs(a[k]), Math.abs(b[k]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
}
