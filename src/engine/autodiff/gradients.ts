// One table of vector-Jacobian rules keyed by op type. A rule returns one gradient per input
// (null/undefined where none is needed); the engine un-broadcasts, sums fan-out and skips inputs
// that need no gradient. `Record<OpType, ...>` makes a missing entry a compile error.

import { GraphBuilder, OpType } from '../graph/builder';
import { Node, Value } from '../graph/graph';

export interface GradContext {
  b: GraphBuilder;
  node: Node;
  x(i: number): Value;
  y(i: number): Value;
  /** Total incoming gradient of output i (zeros when the output is unused). */
  gy(i: number): Value;
  hasGy(i: number): boolean;
  needs(i: number): boolean;
  attr(name: string, dflt: number): number;
  ints(name: string): number[] | undefined;
  constInts(i: number): number[];
}

export type Rule = (c: GradContext) => (Value | null | undefined)[];
export type RuleEntry = Rule | 'nondiff' | 'unsupported';

const zeros = (b: GraphBuilder, v: Value) => b.expand(b.scalar(0, v.dtype), v.shape);
const s = (b: GraphBuilder, x: number, like: Value) => b.scalar(x, like.dtype);
const swapLast = (v: Value) => { const p = v.shape.map((_, k) => k); [p[p.length - 2], p[p.length - 1]] = [p[p.length - 1], p[p.length - 2]]; return p; };
/** Re-inserts reduced axes so that `g` broadcasts against the input again. */
const keepDims = (c: GradContext, g: Value, axes: number[]) => (c.attr('keepdims', 1) ? g : c.b.unsqueeze(g, axes));

/** g @ B^T and A^T @ g; a rank-2 weight against batched activations becomes one flat GEMM. */
function matmulGrads({ b, x, gy, needs }: GradContext): (Value | null)[] {
  const A = x(0), B = x(1), g = gy(0);
  let gA: Value | null = null, gB: Value | null = null;
  if (B.shape.length === 2 && A.shape.length >= 2) {
    const [k, n] = B.shape;
    const A2 = b.reshape(A, [-1, k]);
    const g2 = b.reshape(g, [-1, n]);
    if (needs(0)) gA = b.reshape(b.gemm(g2, B, null, { transB: true }), A.shape);
    if (needs(1)) gB = b.gemm(A2, g2, null, { transA: true });
    return [gA, gB];
  }
  if (needs(0)) gA = b.matmul(g, b.transpose(B, swapLast(B)));
  if (needs(1)) gB = b.matmul(b.transpose(A, swapLast(A)), g);
  return [gA, gB];
}

function gemmGrads({ b, x, gy, needs, attr, node }: GradContext): (Value | null)[] {
  const A = x(0), B = x(1), g = gy(0);
  const tA = attr('transA', 0) === 1, tB = attr('transB', 0) === 1;
  const alpha = attr('alpha', 1), beta = attr('beta', 1);
  const gA = !needs(0) ? null : tA ? b.gemm(B, g, null, { transA: tB, transB: true, alpha }) : b.gemm(g, B, null, { transB: !tB, alpha });
  const gB = !needs(1) ? null : tB ? b.gemm(g, A, null, { transA: true, transB: tA, alpha }) : b.gemm(A, g, null, { transA: !tA, alpha });
  const gC = node.inputs[2] && needs(2) ? (beta === 1 ? g : b.mul(g, b.scalar(beta, g.dtype))) : null;
  return [gA, gB, gC];
}

/** LayerNormalization over the last axis, from its saved Mean and InvStdDev outputs. */
function layerNormGrads({ b, x, y, gy, needs, node }: GradContext): (Value | null)[] {
  const X = x(0), scale = x(1), g = gy(0);
  const xhat = b.mul(b.sub(X, y(1)), y(2)); // [..., C]
  const lead = X.shape.slice(0, -1).map((_, k) => k);
  const gScale = needs(1) ? b.reduceSum(b.mul(g, xhat), lead) : null;
  const gBias = node.inputs[2] && needs(2) ? b.reduceSum(g, lead) : null;
  let gX: Value | null = null;
  if (needs(0)) {
    const gh = b.mul(g, scale);
    const m1 = b.reduceMean(gh, [-1], true);
    const m2 = b.reduceMean(b.mul(gh, xhat), [-1], true);
    gX = b.mul(y(2), b.sub(b.sub(gh, m1), b.mul(xhat, m2)));
  }
  return [gX, gScale, gBias];
}

function geluGrads({ b, x, gy, node }: GradContext): Value[] {
  const X = x(0), g = gy(0);
  const a = node.attrs.approximate;
  if (a && a.kind === 'string' && a.v === 'tanh') {
    const k = Math.sqrt(2 / Math.PI);
    const x2 = b.mul(X, X);
    const t = b.tanh(b.mul(s(b, k, X), b.add(X, b.mul(s(b, 0.044715, X), b.mul(x2, X)))));
    const dt = b.mul(b.sub(s(b, 1, X), b.mul(t, t)), b.mul(s(b, k, X), b.add(s(b, 1, X), b.mul(s(b, 3 * 0.044715, X), x2))));
    return [b.mul(g, b.add(b.mul(s(b, 0.5, X), b.add(s(b, 1, X), t)), b.mul(b.mul(s(b, 0.5, X), X), dt)))];
  }
  const cdf = b.mul(s(b, 0.5, X), b.add(s(b, 1, X), b.erf(b.mul(X, s(b, Math.SQRT1_2, X)))));
  const pdf = b.mul(s(b, 1 / Math.sqrt(2 * Math.PI), X), b.exp(b.mul(s(b, -0.5, X), b.mul(X, X))));
  return [b.mul(g, b.add(cdf, b.mul(X, pdf)))];
}

function sliceGrads({ b, x, gy, constInts }: GradContext): (Value | null)[] {
  // Slices built by GraphBuilder.slice: one axis, step 1. Pad the gradient back with zeros.
  const X = x(0), g = gy(0);
  const [start] = constInts(1), [end] = constInts(2), [axis] = constInts(3);
  const steps = X.shape.slice();
  const parts: Value[] = [];
  if (start > 0) { steps[axis] = start; parts.push(b.expand(b.scalar(0, g.dtype), steps.slice())); }
  parts.push(g);
  const after = X.shape[axis] - Math.min(end, X.shape[axis]);
  if (after > 0) { steps[axis] = after; parts.push(b.expand(b.scalar(0, g.dtype), steps.slice())); }
  return [parts.length === 1 ? g : b.concat(parts, axis)];
}

export const GRADIENTS: Record<OpType, RuleEntry> = {
  Add: ({ gy }) => [gy(0), gy(0)],
  Sub: ({ b, gy }) => [gy(0), b.neg(gy(0))],
  Mul: ({ b, x, gy, needs }) => [needs(0) ? b.mul(gy(0), x(1)) : null, needs(1) ? b.mul(gy(0), x(0)) : null],
  Div: ({ b, x, y, gy, needs }) => [needs(0) ? b.div(gy(0), x(1)) : null, needs(1) ? b.neg(b.div(b.mul(gy(0), y(0)), x(1))) : null],
  Pow: ({ b, x, y, gy, needs }) => [
    needs(0) ? b.mul(gy(0), b.mul(x(1), b.pow(x(0), b.sub(x(1), s(b, 1, x(1)))))) : null,
    needs(1) ? b.mul(gy(0), b.mul(y(0), b.log(x(0)))) : null,
  ],
  Neg: ({ b, gy }) => [b.neg(gy(0))],
  Exp: ({ b, y, gy }) => [b.mul(gy(0), y(0))],
  Log: ({ b, x, gy }) => [b.div(gy(0), x(0))],
  Sqrt: ({ b, y, gy }) => [b.div(b.mul(gy(0), s(b, 0.5, y(0))), y(0))],
  Reciprocal: ({ b, y, gy }) => [b.neg(b.mul(gy(0), b.mul(y(0), y(0))))],
  Tanh: ({ b, y, gy }) => [b.mul(gy(0), b.sub(s(b, 1, y(0)), b.mul(y(0), y(0))))],
  Erf: ({ b, x, gy }) => [b.mul(gy(0), b.mul(s(b, 2 / Math.sqrt(Math.PI), x(0)), b.exp(b.neg(b.mul(x(0), x(0))))))],
  Sigmoid: ({ b, y, gy }) => [b.mul(gy(0), b.mul(y(0), b.sub(s(b, 1, y(0)), y(0))))],
  Sin: ({ b, x, gy }) => [b.mul(gy(0), b.cos(x(0)))],
  Cos: ({ b, x, gy }) => [b.neg(b.mul(gy(0), b.sin(x(0))))],
  Abs: ({ b, x, gy }) => [b.where(b.less(x(0), s(b, 0, x(0))), b.neg(gy(0)), gy(0))],
  Relu: ({ b, x, gy }) => [b.where(b.greater(x(0), s(b, 0, x(0))), gy(0), s(b, 0, x(0)))],
  // Ties go to the first input.
  Max: ({ b, x, gy }) => { const second = b.less(x(0), x(1)); const z = s(b, 0, x(0)); return [b.where(second, z, gy(0)), b.where(second, gy(0), z)]; },
  Min: ({ b, x, gy }) => { const second = b.greater(x(0), x(1)); const z = s(b, 0, x(0)); return [b.where(second, z, gy(0)), b.where(second, gy(0), z)]; },

  MatMul: matmulGrads,
  Gemm: gemmGrads,
  Softmax: ({ b, y, gy, attr }) => {
    const a = attr('axis', -1);
    return [b.mul(y(0), b.sub(gy(0), b.reduceSum(b.mul(gy(0), y(0)), [a], true)))];
  },
  LogSoftmax: ({ b, y, gy, attr }) => [b.sub(gy(0), b.mul(b.exp(y(0)), b.reduceSum(gy(0), [attr('axis', -1)], true)))],
  LayerNormalization: layerNormGrads,
  // d loss_i / d scores_i = softmax_i - onehot(label_i), zero on ignored rows; one pass over [N, V].
  SoftmaxCrossEntropyLoss: ({ b, x, y, gy, hasGy, attr }) => {
    const labels = x(1), logp = y(1);
    const ignored = b.equal(labels, b.scalar(attr('ignore_index', -100), 'int64'));
    const g = b.unsqueeze(b.where(ignored, s(b, 0, logp), gy(0)), [1]); // [N, 1]
    const p = b.exp(logp);
    let d = b.scatterElements(b.mul(p, g), b.unsqueeze(b.where(ignored, b.scalar(0, 'int64'), labels), [1]), b.neg(g), 1, 'add');
    if (hasGy(1)) d = b.add(d, b.sub(gy(1), b.mul(p, b.reduceSum(gy(1), [1], true))));
    return [d, null];
  },
  Gelu: geluGrads,

  // Embedding lookups: the gradient scatters rows back, adding repeated indices.
  Gather: ({ b, x, gy, attr, node }) => {
    if (attr('axis', 0) !== 0) throw new Error(`Gather gradient supports axis 0 only (node '${node.name}')`);
    const idx = b.unsqueeze(x(1), [-1]);
    return [b.scatterND(zeros(b, x(0)), idx, gy(0), 'add'), null];
  },
  GatherElements: ({ b, x, gy, attr }) => [b.scatterElements(zeros(b, x(0)), x(1), gy(0), attr('axis', 0), 'add'), null],
  ScatterND: 'nondiff',
  ScatterElements: 'nondiff',

  Reshape: ({ b, x, gy }) => [b.reshape(gy(0), x(0).shape), null],
  Transpose: ({ b, gy, ints }) => {
    const perm = ints('perm')!;
    const inv = perm.map((_, k) => perm.indexOf(k));
    return [b.transpose(gy(0), inv)];
  },
  Slice: sliceGrads,
  Concat: ({ b, x, gy, attr, node }) => {
    const axis = attr('axis', 0);
    return b.split(gy(0), axis, node.inputs.map((v) => v!.shape[axis]));
  },
  Split: ({ b, node, gy, attr }) => [b.concat(node.outputs.map((_, k) => gy(k)), attr('axis', 0)), null],
  Unsqueeze: ({ b, x, gy }) => [b.reshape(gy(0), x(0).shape), null],
  Squeeze: ({ b, x, gy }) => [b.reshape(gy(0), x(0).shape), null],
  Expand: ({ gy }) => [gy(0), null], // the engine sums over the expanded axes
  Where: ({ b, x, gy, needs }) => {
    const z = s(b, 0, gy(0));
    return [null, needs(1) ? b.where(x(0), gy(0), z) : null, needs(2) ? b.where(x(0), z, gy(0)) : null];
  },

  ReduceSum: (c) => {
    const { b, x, gy, constInts } = c;
    const axes = constInts(1).map((a) => (a < 0 ? a + x(0).shape.length : a));
    return [b.expand(keepDims(c, gy(0), axes), x(0).shape), null];
  },
  ReduceMean: (c) => {
    const { b, x, gy, constInts } = c;
    const axes = constInts(1).map((a) => (a < 0 ? a + x(0).shape.length : a));
    const n = axes.reduce((p, a) => p * x(0).shape[a], 1);
    return [b.expand(b.div(keepDims(c, gy(0), axes), s(b, n, gy(0))), x(0).shape), null];
  },
  ReduceMax: (c) => {
    const { b, x, y, gy, constInts } = c;
    const axes = constInts(1).map((a) => (a < 0 ? a + x(0).shape.length : a));
    const hit = b.equal(x(0), keepDims(c, y(0), axes));
    return [b.where(hit, keepDims(c, gy(0), axes), s(b, 0, x(0))), null];
  },
  Cast: ({ b, x, gy }) => [b.cast(gy(0), x(0).dtype)],
  Identity: ({ gy }) => [gy(0)],
  Trilu: ({ b, gy, attr, constInts }) => [b.trilu(gy(0), attr('upper', 1) === 1, constInts(1)[0]), null],

  Equal: 'nondiff',
  Less: 'nondiff',
  Greater: 'nondiff',
  Not: 'nondiff',
  And: 'nondiff',
  Range: 'nondiff',
  Shape: 'nondiff',
  BitwiseXor: 'nondiff',
  BitShift: 'nondiff',
  Loop: 'unsupported',
};
