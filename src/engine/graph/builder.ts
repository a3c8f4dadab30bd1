// Typed construction of ONNX graphs (opset 21) with static shape inference.
// Every op the engine emits goes through one method here, so `OpType` is the closed set of ops
// the autodiff table must cover.

import { Attr, DType, Graph, Node, Shape, TypedArray, Value, arrayFor, size } from './graph';

export const OP_TYPES = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Tanh', 'Erf', 'Sigmoid',
  'Sin', 'Cos', 'Abs', 'Max', 'Min', 'Relu',
  'MatMul', 'Gemm', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'Gelu', 'SoftmaxCrossEntropyLoss',
  'Gather', 'GatherElements', 'ScatterND', 'ScatterElements',
  'Reshape', 'Transpose', 'Slice', 'Concat', 'Split', 'Unsqueeze', 'Squeeze', 'Expand', 'Where',
  'ReduceSum', 'ReduceMean', 'ReduceMax', 'Cast', 'Identity',
  'Equal', 'Less', 'Greater', 'Not', 'And', 'Range', 'Trilu', 'Shape', 'BitwiseXor', 'BitShift', 'Loop',
] as const;
export type OpType = (typeof OP_TYPES)[number];

const i = (v: number): Attr => ({ kind: 'int', v });
const f = (v: number): Attr => ({ kind: 'float', v });

export function broadcastShapes(a: Shape, b: Shape, what = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const x = a[a.length - n + k] ?? 1;
    const y = b[b.length - n + k] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`${what}: shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

const normAxis = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
};

export class GraphBuilder {
  private scopes: string[] = [];
  private constCache = new Map<string, Value>();

  constructor(readonly graph: Graph) {}

  /** A builder for a subgraph (e.g. a Loop body) that can read this graph's values. */
  subgraph(name: string): GraphBuilder {
    const b = new GraphBuilder(new Graph(name, this.graph));
    b.scopes = [...this.scopes];
    b.constCache = this.constCache; // constants live in the root graph, visible everywhere
    return b;
  }

  /** Names values created inside `fn` as `scope/...` (readable graphs in Netron). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try { return fn(); } finally { this.scopes.pop(); }
  }

  /**
   * Marks the nodes `fn` emits as a segment that the backward pass recomputes from `inputs` (autodiff.ts):
   * `fn` must read nothing that depends on the step's data other than `inputs` (parameters and constants
   * are fine), and nothing but its result may be read after it.
   */
  checkpoint(inputs: Value[], fn: () => Value): Value {
    const start = this.graph.nodes.length;
    const output = fn();
    const end = this.graph.nodes.length;
    const last = this.graph.segments[this.graph.segments.length - 1];
    if (last && last.end > start) throw new Error(`checkpoint: segments cannot nest ('${this.label('')}' inside '${last.name}')`);
    if (end > start) this.graph.segments.push({ name: this.label('segment'), start, end, inputs, output });
    return output;
  }

  private label(base: string): string {
    return this.scopes.length ? `${this.scopes.join('/')}/${base}` : base;
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    return this.graph.addInput(name, dtype, shape);
  }

  /** Emits a node; `outs` are [dtype, shape] pairs of its outputs. */
  node(op: OpType, inputs: (Value | null)[], outs: [DType, Shape][], attrs: Record<string, Attr> = {}): Value[] {
    const base = this.label(op);
    const outputs = outs.map(([d, s], k) => this.graph.newValue(outs.length > 1 ? `${base}.${k}` : base, d, s));
    this.graph.addNode(op, inputs, outputs, attrs, base);
    return outputs;
  }

  private one(op: OpType, inputs: (Value | null)[], dtype: DType, shape: Shape, attrs: Record<string, Attr> = {}): Value {
    return this.node(op, inputs, [[dtype, shape]], attrs)[0];
  }

  // ------------------------------------------------------------------ constants
  constant(dtype: DType, shape: Shape, data: ArrayLike<number> | ArrayLike<bigint>, name = 'const'): Value {
    const key = `${dtype}|${shape}|${Array.from(data as ArrayLike<number>).join(',')}`;
    const useCache = size(shape) <= 64;
    const hit = useCache ? this.constCache.get(key) : undefined;
    if (hit) return hit;
    const root = this.graph.root();
    const v = root.newValue(name, dtype, shape);
    const arr = arrayFor(dtype, size(shape));
    if (arr instanceof BigInt64Array) (data as ArrayLike<number>).length && arr.set(Array.from(data as ArrayLike<number>, (x) => BigInt(x)));
    else (arr as Exclude<TypedArray, BigInt64Array>).set(Array.from(data as ArrayLike<number>, Number));
    root.constants.push({ value: v, data: arr });
    if (useCache) this.constCache.set(key, v);
    return v;
  }

  scalar(x: number, dtype: DType = 'float32'): Value {
    return this.constant(dtype, [], [x]);
  }

  ints(xs: readonly number[]): Value {
    return this.constant('int64', [xs.length], xs);
  }

  /** A large constant given as a typed array (not deduplicated). */
  tensor(dtype: DType, shape: Shape, data: TypedArray, name = 'const'): Value {
    const root = this.graph.root();
    const v = root.newValue(name, dtype, shape);
    root.constants.push({ value: v, data });
    return v;
  }

  // ------------------------------------------------------------------ elementwise
  private binary(op: OpType, a: Value, b: Value, outDtype?: DType): Value {
    if (a.dtype !== b.dtype) throw new Error(`${op}: dtype mismatch ${a.dtype} (${a.name}) vs ${b.dtype} (${b.name})`);
    return this.one(op, [a, b], outDtype ?? a.dtype, broadcastShapes(a.shape, b.shape, op));
  }
  add(a: Value, b: Value): Value { return this.binary('Add', a, b); }
  sub(a: Value, b: Value): Value { return this.binary('Sub', a, b); }
  mul(a: Value, b: Value): Value { return this.binary('Mul', a, b); }
  div(a: Value, b: Value): Value { return this.binary('Div', a, b); }
  pow(a: Value, b: Value): Value { return this.binary('Pow', a, b); }
  max(a: Value, b: Value): Value { return this.binary('Max', a, b); }
  min(a: Value, b: Value): Value { return this.binary('Min', a, b); }
  equal(a: Value, b: Value): Value { return this.binary('Equal', a, b, 'bool'); }
  less(a: Value, b: Value): Value { return this.binary('Less', a, b, 'bool'); }
  greater(a: Value, b: Value): Value { return this.binary('Greater', a, b, 'bool'); }
  and(a: Value, b: Value): Value { return this.binary('And', a, b, 'bool'); }
  bitwiseXor(a: Value, b: Value): Value { return this.binary('BitwiseXor', a, b); }
  shiftRight(a: Value, b: Value): Value { return this.one('BitShift', [a, b], a.dtype, broadcastShapes(a.shape, b.shape), { direction: { kind: 'string', v: 'RIGHT' } }); }

  private unary(op: OpType, x: Value, attrs: Record<string, Attr> = {}): Value { return this.one(op, [x], x.dtype, x.shape, attrs); }
  neg(x: Value): Value { return this.unary('Neg', x); }
  exp(x: Value): Value { return this.unary('Exp', x); }
  log(x: Value): Value { return this.unary('Log', x); }
  sqrt(x: Value): Value { return this.unary('Sqrt', x); }
  reciprocal(x: Value): Value { return this.unary('Reciprocal', x); }
  tanh(x: Value): Value { return this.unary('Tanh', x); }
  erf(x: Value): Value { return this.unary('Erf', x); }
  sigmoid(x: Value): Value { return this.unary('Sigmoid', x); }
  sin(x: Value): Value { return this.unary('Sin', x); }
  cos(x: Value): Value { return this.unary('Cos', x); }
  abs(x: Value): Value { return this.unary('Abs', x); }
  relu(x: Value): Value { return this.unary('Relu', x); }
  not(x: Value): Value { return this.unary('Not', x); }
  identity(x: Value): Value { return this.unary('Identity', x); }
  /** GELU, exact (`none`) or tanh approximation (opset 20 op). */
  gelu(x: Value, approximate: 'none' | 'tanh'): Value { return this.unary('Gelu', x, { approximate: { kind: 'string', v: approximate } }); }
  softmax(x: Value, axis = -1): Value { return this.unary('Softmax', x, { axis: i(axis) }); }
  logSoftmax(x: Value, axis = -1): Value { return this.unary('LogSoftmax', x, { axis: i(axis) }); }
  cast(x: Value, to: DType): Value { return this.one('Cast', [x], to, x.shape, { to: i(ONNX_DTYPE[to]) }); }
  where(c: Value, a: Value, b: Value): Value {
    if (a.dtype !== b.dtype) throw new Error(`Where: dtype mismatch ${a.dtype} vs ${b.dtype}`);
    return this.one('Where', [c, a, b], a.dtype, broadcastShapes(c.shape, broadcastShapes(a.shape, b.shape)));
  }

  // ------------------------------------------------------------------ linear algebra
  matmul(a: Value, b: Value): Value {
    if (a.dtype !== b.dtype) throw new Error(`MatMul: dtype mismatch ${a.dtype} vs ${b.dtype}`);
    if (a.shape.length < 2 || b.shape.length < 2) throw new Error(`MatMul: rank >= 2 required, got [${a.shape}] x [${b.shape}]`);
    const [m, k] = a.shape.slice(-2);
    const [k2, n] = b.shape.slice(-2);
    if (k !== k2) throw new Error(`MatMul: inner dims differ: [${a.shape}] x [${b.shape}] (${a.name} x ${b.name})`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
    return this.one('MatMul', [a, b], a.dtype, [...batch, m, n]);
  }

  /** Y = alpha * A' B' + beta * C with A, B rank 2. */
  gemm(a: Value, b: Value, c: Value | null, o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): Value {
    const [m, k] = o.transA ? [a.shape[1], a.shape[0]] : a.shape;
    const [k2, n] = o.transB ? [b.shape[1], b.shape[0]] : b.shape;
    if (a.shape.length !== 2 || b.shape.length !== 2 || k !== k2) throw new Error(`Gemm: bad shapes [${a.shape}] x [${b.shape}]`);
    if (c) broadcastShapes([m, n], c.shape, 'Gemm bias');
    return this.one('Gemm', c ? [a, b, c] : [a, b], a.dtype, [m, n], {
      transA: i(o.transA ? 1 : 0), transB: i(o.transB ? 1 : 0), alpha: f(o.alpha ?? 1), beta: f(o.beta ?? 1),
    });
  }

  /** Fused LayerNormalization over the last axis; returns [Y, Mean, InvStdDev] (stats shaped [..., 1]). */
  layerNorm(x: Value, scale: Value, bias: Value | null, eps: number): [Value, Value, Value] {
    const statShape = [...x.shape.slice(0, -1), 1];
    const [y, mean, inv] = this.node('LayerNormalization', bias ? [x, scale, bias] : [x, scale],
      [[x.dtype, x.shape], [x.dtype, statShape], [x.dtype, statShape]], { axis: i(-1), epsilon: f(eps) });
    return [y, mean, inv];
  }

  /**
   * Per-row cross-entropy of scores [N, V] against labels [N] (int64; `ignoreIndex` rows give 0),
   * with the log-probabilities it computed on the way: [loss [N], logProb [N, V]].
   */
  softmaxCrossEntropy(scores: Value, labels: Value, ignoreIndex = -100): [Value, Value] {
    const [N, V] = scores.shape;
    if (scores.shape.length !== 2 || labels.shape.join() !== `${N}`) throw new Error(`SoftmaxCrossEntropyLoss: scores [N, V] and labels [N] expected, got [${scores.shape}] and [${labels.shape}]`);
    const [loss, logp] = this.node('SoftmaxCrossEntropyLoss', [scores, labels], [[scores.dtype, [N]], [scores.dtype, [N, V]]],
      { reduction: { kind: 'string', v: 'none' }, ignore_index: i(ignoreIndex) });
    return [loss, logp];
  }

  // ------------------------------------------------------------------ indexing
  gather(data: Value, indices: Value, axis = 0): Value {
    const a = normAxis(axis, data.shape.length);
    return this.one('Gather', [data, indices], data.dtype, [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)], { axis: i(a) });
  }
  gatherElements(data: Value, indices: Value, axis: number): Value {
    return this.one('GatherElements', [data, indices], data.dtype, indices.shape, { axis: i(normAxis(axis, data.shape.length)) });
  }
  scatterND(data: Value, indices: Value, updates: Value, reduction: 'none' | 'add' = 'none'): Value {
    return this.one('ScatterND', [data, indices, updates], data.dtype, data.shape, { reduction: { kind: 'string', v: reduction } });
  }
  scatterElements(data: Value, indices: Value, updates: Value, axis: number, reduction: 'none' | 'add' = 'none'): Value {
    return this.one('ScatterElements', [data, indices, updates], data.dtype, data.shape, { axis: i(normAxis(axis, data.shape.length)), reduction: { kind: 'string', v: reduction } });
  }

  // ------------------------------------------------------------------ shapes
  reshape(x: Value, shape: readonly number[]): Value {
    const known = shape.filter((d) => d !== -1);
    const rest = size(x.shape) / Math.max(1, size(known));
    const out = shape.map((d, k) => (d === -1 ? rest : d === 0 ? x.shape[k] : d));
    if (size(out) !== size(x.shape) || !Number.isInteger(rest)) throw new Error(`Reshape: cannot reshape [${x.shape}] (${x.name}) to [${shape}]`);
    if (out.length === x.shape.length && out.every((d, k) => d === x.shape[k])) return x;
    return this.one('Reshape', [x, this.ints(out)], x.dtype, out);
  }
  transpose(x: Value, perm: readonly number[]): Value {
    if (perm.length !== x.shape.length) throw new Error(`Transpose: perm [${perm}] for rank ${x.shape.length}`);
    return this.one('Transpose', [x], x.dtype, perm.map((p) => x.shape[p]), { perm: { kind: 'ints', v: [...perm] } });
  }
  /** Slice along one axis: [start, end) with step 1. */
  slice(x: Value, axis: number, start: number, end: number): Value {
    const a = normAxis(axis, x.shape.length);
    const e = Math.min(end, x.shape[a]);
    if (start < 0 || start > e) throw new Error(`Slice: [${start}, ${end}) on axis ${a} of [${x.shape}]`);
    const shape = x.shape.map((d, k) => (k === a ? e - start : d));
    return this.one('Slice', [x, this.ints([start]), this.ints([e]), this.ints([a])], x.dtype, shape);
  }
  concat(xs: Value[], axis: number): Value {
    const a = normAxis(axis, xs[0].shape.length);
    const shape = [...xs[0].shape];
    shape[a] = xs.reduce((s, x) => s + x.shape[a], 0);
    return this.one('Concat', xs, xs[0].dtype, shape, { axis: i(a) });
  }
  split(x: Value, axis: number, sizes: number[]): Value[] {
    const a = normAxis(axis, x.shape.length);
    if (sizes.reduce((s, n) => s + n, 0) !== x.shape[a]) throw new Error(`Split: sizes [${sizes}] do not sum to ${x.shape[a]}`);
    return this.node('Split', [x, this.ints(sizes)], sizes.map((n) => [x.dtype, x.shape.map((d, k) => (k === a ? n : d))]), { axis: i(a) });
  }
  unsqueeze(x: Value, axes: number[]): Value {
    const rank = x.shape.length + axes.length;
    const norm = axes.map((a) => normAxis(a, rank)).sort((p, q) => p - q);
    const shape: number[] = [];
    for (let k = 0, j = 0; k < rank; k++) shape.push(norm.includes(k) ? 1 : x.shape[j++]);
    return this.one('Unsqueeze', [x, this.ints(norm)], x.dtype, shape);
  }
  squeeze(x: Value, axes: number[]): Value {
    const norm = axes.map((a) => normAxis(a, x.shape.length));
    for (const a of norm) if (x.shape[a] !== 1) throw new Error(`Squeeze: axis ${a} of [${x.shape}] is not 1`);
    return this.one('Squeeze', [x, this.ints(norm)], x.dtype, x.shape.filter((_, k) => !norm.includes(k)));
  }
  expand(x: Value, shape: readonly number[]): Value {
    return this.one('Expand', [x, this.ints(shape)], x.dtype, broadcastShapes(x.shape, shape, 'Expand'));
  }
  range(start: Value, limit: Value, delta: Value, n: number): Value {
    return this.one('Range', [start, limit, delta], start.dtype, [n]);
  }
  trilu(x: Value, upper: boolean, k = 0): Value {
    return this.one('Trilu', [x, this.constant('int64', [], [k])], x.dtype, x.shape, { upper: i(upper ? 1 : 0) });
  }

  // ------------------------------------------------------------------ reductions
  private reduce(op: OpType, x: Value, axes: number[], keepdims: boolean): Value {
    const norm = axes.map((a) => normAxis(a, x.shape.length));
    const shape = keepdims ? x.shape.map((d, k) => (norm.includes(k) ? 1 : d)) : x.shape.filter((_, k) => !norm.includes(k));
    return this.one(op, [x, this.ints(norm)], x.dtype, shape, { keepdims: i(keepdims ? 1 : 0) });
  }
  reduceSum(x: Value, axes: number[], keepdims = false): Value { return this.reduce('ReduceSum', x, axes, keepdims); }
  reduceMean(x: Value, axes: number[], keepdims = false): Value { return this.reduce('ReduceMean', x, axes, keepdims); }
  reduceMax(x: Value, axes: number[], keepdims = false): Value { return this.reduce('ReduceMax', x, axes, keepdims); }
  /** Sum over every element, as a scalar. */
  sumAll(x: Value): Value { return this.reduceSum(x, x.shape.map((_, k) => k), false); }

  // ------------------------------------------------------------------ control flow
  /**
   * ONNX Loop. `body` receives (builder of the body graph, iteration number [int64 scalar], carried
   * values) and returns [new carried values, per-iteration scan outputs]. The body may read any value
   * of the enclosing graphs directly. Returns [final carried values, stacked scan outputs ([trips,
   * ...shape])]. trips: a static count, or an int64 scalar value known at run time with its largest
   * value (scan outputs are declared [max, ...] and come back with as many rows as trips were run).
   */
  loop(trips: number | { count: Value; max: number }, carried: Value[], body: (b: GraphBuilder, iter: Value, carried: Value[]) => [Value[], Value[]]): [Value[], Value[]] {
    const sb = this.subgraph(this.label('loop_body'));
    const iter = sb.graph.addInput('iter', 'int64', [], false);
    const condIn = sb.graph.addInput('cond_in', 'bool', [], false);
    const carriedIn = carried.map((c) => sb.graph.addInput(`${c.name}_in`, c.dtype, c.shape, false));
    const [nextCarried, scans] = body(sb, iter, carriedIn);
    nextCarried.forEach((v, k) => {
      if (v.dtype !== carried[k].dtype || v.shape.join() !== carried[k].shape.join()) throw new Error(`Loop: carried value ${k} changes type: [${carried[k].shape}] -> [${v.shape}]`);
    });
    // Body outputs must be produced inside the body; wrap outer-scope values with Identity.
    const own = (v: Value) => (v.graph === sb.graph && v.producer) ? v : sb.identity(v);
    sb.graph.outputs = [own(sb.identity(condIn)), ...nextCarried.map(own), ...scans.map(own)];
    const max = typeof trips === 'number' ? trips : trips.max;
    const outs: [DType, Shape][] = [...carried.map((c): [DType, Shape] => [c.dtype, c.shape]), ...scans.map((s): [DType, Shape] => [s.dtype, [max, ...s.shape]])];
    const count = typeof trips === 'number' ? this.constant('int64', [], [trips]) : trips.count;
    const res = this.node('Loop', [count, null, ...carried], outs, { body: { kind: 'graph', v: sb.graph } });
    return [res.slice(0, carried.length), res.slice(carried.length)];
  }
}

export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, uint32: 12 };

export type { Node, Value };
