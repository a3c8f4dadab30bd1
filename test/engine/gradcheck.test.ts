// Table-driven gradient checks of every rule in the autodiff table: analytic VJPs from our graph
// against central finite differences, in float64 (float32 with looser tolerance where ORT's CPU
// build has no float64 kernel), per element for small tensors and along a random direction for
// large ones.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DType, Shape, Value, size } from '../../src/engine/graph/graph';
import { GraphBuilder, OP_TYPES } from '../../src/engine/graph/builder';
import { GRADIENTS } from '../../src/engine/autodiff/gradients';
import { gradients, MissingGradientError } from '../../src/engine/autodiff/autodiff';
import { toModelProto } from '../../src/engine/graph/serialize';
import { createSession, tensor } from '../../src/engine/runtime/session';
import { newBuilder, uniform } from './harness';

interface InputSpec { shape: Shape; lo?: number; hi?: number; }
interface Check {
  name: string;
  inputs: InputSpec[];
  dtype?: DType;
  build: (b: GraphBuilder, xs: Value[]) => Value;
}

const F = (shape: Shape, lo = -1, hi = 1): InputSpec => ({ shape, lo, hi });
const i64 = (b: GraphBuilder, shape: Shape, data: number[]) => b.constant('int64', shape, data);
const bool = (b: GraphBuilder, shape: Shape, data: number[]) => b.constant('bool', shape, data);

const CHECKS: Check[] = [
  { name: 'Add broadcast', inputs: [F([2, 3]), F([3])], build: (b, [x, y]) => b.add(x, y) },
  { name: 'Sub broadcast', inputs: [F([2, 1]), F([2, 3])], build: (b, [x, y]) => b.sub(x, y) },
  { name: 'Mul broadcast', inputs: [F([2, 3, 4]), F([3, 1])], build: (b, [x, y]) => b.mul(x, y) },
  { name: 'Div', inputs: [F([2, 3]), F([2, 3], 0.5, 2)], build: (b, [x, y]) => b.div(x, y) },
  { name: 'Pow', inputs: [F([2, 3], 0.5, 2), F([2, 3], 0.5, 2)], build: (b, [x, y]) => b.pow(x, y) },
  { name: 'Pow scalar exponent', inputs: [F([5], 0.5, 2)], build: (b, [x]) => b.pow(x, b.scalar(3, x.dtype)) },
  { name: 'Neg', inputs: [F([4])], build: (b, [x]) => b.neg(x) },
  { name: 'Exp', inputs: [F([4])], build: (b, [x]) => b.exp(x) },
  { name: 'Log', inputs: [F([4], 0.2, 3)], build: (b, [x]) => b.log(x) },
  { name: 'Sqrt', inputs: [F([4], 0.2, 3)], build: (b, [x]) => b.sqrt(x) },
  { name: 'Reciprocal', inputs: [F([4], 0.5, 2)], build: (b, [x]) => b.reciprocal(x) },
  { name: 'Tanh', inputs: [F([6], -2, 2)], build: (b, [x]) => b.tanh(x) },
  { name: 'Erf', dtype: 'float32', inputs: [F([6], -2, 2)], build: (b, [x]) => b.erf(x) },
  { name: 'Sigmoid', inputs: [F([6], -3, 3)], build: (b, [x]) => b.sigmoid(x) },
  { name: 'Sin', inputs: [F([6], -3, 3)], build: (b, [x]) => b.sin(x) },
  { name: 'Cos', inputs: [F([6], -3, 3)], build: (b, [x]) => b.cos(x) },
  { name: 'Abs', inputs: [F([6], 0.1, 2)], build: (b, [x]) => b.abs(b.sub(x, b.scalar(1.05, x.dtype))) },
  { name: 'Relu', inputs: [F([6], 0.1, 2)], build: (b, [x]) => b.relu(b.sub(x, b.scalar(1.05, x.dtype))) },
  { name: 'Max', inputs: [F([6]), F([6])], build: (b, [x, y]) => b.max(x, y) },
  { name: 'Min', inputs: [F([6]), F([6])], build: (b, [x, y]) => b.min(x, y) },
  { name: 'MatMul activations x weight', inputs: [F([2, 3, 4]), F([4, 5])], build: (b, [x, w]) => b.matmul(x, w) },
  { name: 'MatMul batched (attention)', inputs: [F([2, 2, 3, 4]), F([2, 2, 4, 3])], build: (b, [x, y]) => b.matmul(x, y) },
  { name: 'MatMul batch broadcast', inputs: [F([2, 3, 4]), F([1, 4, 2])], build: (b, [x, y]) => b.matmul(x, y) },
  { name: 'Gemm', inputs: [F([3, 4]), F([4, 5]), F([5])], build: (b, [a, w, c]) => b.gemm(a, w, c, { alpha: 0.7, beta: 1.3 }) },
  { name: 'Gemm transA', inputs: [F([4, 3]), F([4, 5])], build: (b, [a, w]) => b.gemm(a, w, null, { transA: true }) },
  { name: 'Gemm transB', inputs: [F([3, 4]), F([5, 4]), F([3, 5])], build: (b, [a, w, c]) => b.gemm(a, w, c, { transB: true }) },
  { name: 'Gemm transA transB', inputs: [F([4, 3]), F([5, 4])], build: (b, [a, w]) => b.gemm(a, w, null, { transA: true, transB: true, alpha: 2 }) },
  { name: 'Softmax last axis', inputs: [F([2, 5], -2, 2)], build: (b, [x]) => b.softmax(x, -1) },
  { name: 'Softmax axis 1', inputs: [F([2, 3, 4], -2, 2)], build: (b, [x]) => b.softmax(x, 1) },
  { name: 'LogSoftmax', inputs: [F([3, 5], -2, 2)], build: (b, [x]) => b.logSoftmax(x, -1) },
  { name: 'SoftmaxCrossEntropyLoss (per-row loss, ignored rows)', inputs: [F([4, 5], -2, 2)], build: (b, [x]) => b.softmaxCrossEntropy(x, i64(b, [4], [3, -100, 0, 4]))[0] },
  { name: 'SoftmaxCrossEntropyLoss (log-prob output)', inputs: [F([3, 5], -2, 2)], build: (b, [x]) => b.softmaxCrossEntropy(x, i64(b, [3], [1, 2, -100]))[1] },
  { name: 'LayerNormalization', dtype: 'float32', inputs: [F([2, 3, 6], -2, 2), F([6], 0.5, 1.5), F([6])], build: (b, [x, g, c]) => b.layerNorm(x, g, c, 1e-5)[0] },
  { name: 'Gelu tanh', dtype: 'float32', inputs: [F([8], -3, 3)], build: (b, [x]) => b.gelu(x, 'tanh') },
  { name: 'Gelu exact', dtype: 'float32', inputs: [F([8], -3, 3)], build: (b, [x]) => b.gelu(x, 'none') },
  { name: 'Gather (embedding, repeated ids)', inputs: [F([7, 3])], build: (b, [w]) => b.gather(w, i64(b, [2, 4], [1, 3, 3, 0, 6, 1, 1, 2])) },
  { name: 'GatherElements', inputs: [F([3, 5])], build: (b, [x]) => b.gatherElements(x, i64(b, [3, 2], [0, 4, 2, 2, 1, 3]), 1) },
  { name: 'Reshape', inputs: [F([2, 6])], build: (b, [x]) => b.reshape(x, [3, 4]) },
  { name: 'Transpose', inputs: [F([2, 3, 4])], build: (b, [x]) => b.transpose(x, [2, 0, 1]) },
  { name: 'Slice', inputs: [F([3, 6])], build: (b, [x]) => b.slice(x, 1, 2, 5) },
  { name: 'Concat', inputs: [F([2, 1]), F([2, 3]), F([2, 2])], build: (b, [x, y, z]) => b.concat([x, y, z], 1) },
  { name: 'Split (one part unused)', inputs: [F([2, 6])], build: (b, [x]) => { const [p, , r] = b.split(x, 1, [2, 1, 3]); return b.concat([r, p], 1); } },
  { name: 'Unsqueeze', inputs: [F([2, 3])], build: (b, [x]) => b.unsqueeze(x, [0, 2]) },
  { name: 'Squeeze', inputs: [F([2, 1, 3])], build: (b, [x]) => b.squeeze(x, [1]) },
  { name: 'Expand', inputs: [F([3, 1])], build: (b, [x]) => b.expand(x, [2, 3, 4]) },
  { name: 'Where', inputs: [F([2, 3]), F([3])], build: (b, [x, y]) => b.where(bool(b, [2, 3], [1, 0, 1, 0, 0, 1]), x, y) },
  { name: 'ReduceSum keepdims', inputs: [F([2, 3, 4])], build: (b, [x]) => b.reduceSum(x, [1], true) },
  { name: 'ReduceSum', inputs: [F([2, 3, 4])], build: (b, [x]) => b.reduceSum(x, [0, 2], false) },
  { name: 'ReduceMean', inputs: [F([2, 3, 4])], build: (b, [x]) => b.reduceMean(x, [-1], false) },
  { name: 'ReduceMax', inputs: [F([2, 5])], build: (b, [x]) => b.reduceMax(x, [1], false) },
  { name: 'Cast', dtype: 'float32', inputs: [F([4])], build: (b, [x]) => { const d = b.cast(x, 'float64'); return b.cast(b.mul(d, d), 'float32'); } },
  { name: 'Identity', inputs: [F([4])], build: (b, [x]) => b.identity(x) },
  { name: 'Trilu', inputs: [F([2, 4, 4])], build: (b, [x]) => b.trilu(x, false) },
];

async function gradCheck(c: Check): Promise<void> {
  const dtype = c.dtype ?? 'float64';
  const b = newBuilder(c.name.replace(/\W+/g, '_'));
  const xs = c.inputs.map((s, k) => b.input(`x${k}`, dtype, s.shape));
  const y = c.build(b, xs);
  // Random cotangent so that every output element matters: loss = sum(y * r).
  const r = b.constant(dtype, y.shape, uniform(size(y.shape), -1, 1, 99));
  const loss = b.sumAll(b.mul(y, r));
  const g = gradients(b, loss, xs);
  b.graph.outputs = [loss, ...xs.map((x) => g.get(x)!)];
  const { session } = await createSession(toModelProto(b.graph), { threads: 1 });
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const data = c.inputs.map((s, k) => Arr.from(uniform(size(s.shape), s.lo ?? -1, s.hi ?? 1, 7 + 13 * k)));
  const run = async (ds: (Float64Array | Float32Array)[]) => {
    const feeds = Object.fromEntries(xs.map((x, k) => [x.name, tensor(dtype, x.shape, ds[k])]));
    const out = await session.run(feeds);
    return b.graph.outputs.map((o) => Array.from(out[o.name].data as Float64Array));
  };
  const [[, ...analytic]] = [await run(data)].map(([l, ...gs]) => [l, ...gs] as const);
  const eps = dtype === 'float64' ? 1e-6 : 1e-2;
  const tol = dtype === 'float64' ? 1e-6 : 2e-2;
  const lossAt = async (k: number, dir: ArrayLike<number>, h: number) => {
    const ds = data.map((d) => d.slice());
    for (let e = 0; e < ds[k].length; e++) ds[k][e] += h * dir[e];
    return (await run(ds))[0][0];
  };
  for (let k = 0; k < xs.length; k++) {
    const n = data[k].length;
    const gk = analytic[k] as number[];
    assert.equal(gk.length, n, `${c.name}: gradient of x${k} has ${gk.length} elements, expected ${n}`);
    const dirs: number[][] = [];
    if (n <= 32) for (let e = 0; e < n; e++) { const d = new Array(n).fill(0); d[e] = 1; dirs.push(d); }
    else dirs.push(uniform(n, -1, 1, 1234 + k));
    for (const d of dirs) {
      const fd = ((await lossAt(k, d, eps)) - (await lossAt(k, d, -eps))) / (2 * eps);
      const an = d.reduce((s, v, e) => s + v * gk[e], 0);
      const err = Math.abs(fd - an) / Math.max(1e-3, Math.abs(fd), Math.abs(an));
      assert.ok(err < tol, `${c.name}: d loss/d x${k} along ${n <= 32 ? `element ${d.indexOf(1)}` : 'random direction'}: analytic ${an}, finite difference ${fd} (rel err ${err.toExponential(2)})`);
    }
  }
  await session.release();
}

for (const c of CHECKS) test(`gradient: ${c.name}`, () => gradCheck(c));

test('every differentiable op in the rule table has a gradient check', () => {
  const covered = new Set<string>();
  for (const c of CHECKS) {
    const b = newBuilder();
    const xs = c.inputs.map((s, k) => b.input(`x${k}`, c.dtype ?? 'float64', s.shape));
    c.build(b, xs);
    for (const n of b.graph.nodes) covered.add(n.op);
  }
  const missing = OP_TYPES.filter((op) => typeof GRADIENTS[op] === 'function' && !covered.has(op));
  assert.deepEqual(missing, [], `ops with a gradient rule but no check: ${missing.join(', ')}`);
});

test('a missing or non-differentiable rule is a clear error naming op and node', () => {
  const b = newBuilder();
  const x = b.input('x', 'float64', [3]);
  const [[y]] = b.loop(2, [x], (sb, _i, [c]) => [[sb.mul(c, c)], []]);
  assert.throws(() => gradients(b, b.sumAll(y), [x]), (e: unknown) => e instanceof MissingGradientError && /Loop/.test(e.message) && /loop_body|Loop/.test(e.message));
  const b2 = newBuilder();
  const x2 = b2.input('x', 'float64', [3]);
  const bits = b2.cast(b2.bitwiseXor(b2.cast(x2, 'uint32'), b2.constant('uint32', [3], [1, 2, 3])), 'float64');
  // The path through Cast->uint32 is integer-valued: no gradient flows, and that is not an error.
  const g = gradients(b2, b2.sumAll(b2.add(bits, x2)), [x2]);
  assert.ok(g.get(x2));
});
