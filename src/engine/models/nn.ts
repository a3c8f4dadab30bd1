// Layers shared by the model families, composed from graph primitives.
// `precise` (float64 check graphs) decomposes ops that ORT's CPU build has no float64 kernel for.

import { GraphBuilder } from '../graph/builder';
import { DType, Graph, Value, size } from '../graph/graph';

/** A named parameter tensor and its shape, as in a Hugging Face state_dict. */
export interface ParamShape { name: string; shape: number[]; }

export interface NnContext {
  b: GraphBuilder;
  dtype: DType;
  /** Decompose LayerNormalization and GELU (float64 gradient-check graphs). */
  decompose: boolean;
  /** Per-step uint32 key for dropout masks ([] scalar), or null when dropout is off. */
  dropoutKey: Value | null;
  /** Counts dropout sites so that every site draws an independent mask. */
  dropoutSites: number;
  /** LoRA adapters by the (frozen) weight they adapt: linear layers add scale * x A^T B^T. */
  lora?: Map<Value, LoraAdapter>;
  /**
   * Gradient checkpointing: each transformer block (`block`) is recomputed in the backward pass from
   * the residual stream entering it, so its activations do not live from the forward to the backward.
   */
  recompute?: boolean;
}

/** A low-rank update of one linear layer: A [r, in], B [out, r] (PEFT's lora_A / lora_B layout). */
export interface LoraAdapter {
  A: Value;
  B: Value;
  /** lora_alpha / r */
  scale: number;
}

/** x [..., in] -> scale * (x A^T) B^T [..., out], when `w` has an adapter. */
function loraDelta(c: NnContext, x: Value, w: Value): Value | null {
  const a = c.lora?.get(w);
  if (!a) return null;
  const { b } = c;
  const k = a.A.shape[1], n = a.B.shape[0];
  const h = b.gemm(b.reshape(x, [-1, k]), a.A, null, { transB: true }); // [*, r]
  const d = b.gemm(h, a.B, null, { transB: true, alpha: a.scale }); // [*, out]
  return b.reshape(d, [...x.shape.slice(0, -1), n]);
}

/**
 * One transformer block, x [B, T, C] -> [B, T, C]. With `c.recompute` its nodes form a checkpoint segment
 * (GraphBuilder.checkpoint) whose inputs are x and the dropout key: what the backward pass keeps of the
 * block is x; the attention scores [B, H, T, T] and the MLP's [B, T, I] are made again there.
 */
export function block(c: NnContext, x: Value, fn: (x: Value) => Value): Value {
  if (!c.recompute) return fn(x);
  return c.b.checkpoint(c.dropoutKey ? [x, c.dropoutKey] : [x], () => fn(x));
}

/** HF Conv1D / nn.Linear with weight stored [in, out]: y = x @ W + b. */
export function linear(c: NnContext, x: Value, w: Value, bias: Value | null): Value {
  const y = c.b.matmul(x, w);
  const yb = bias ? c.b.add(y, bias) : y;
  const d = loraDelta(c, x, w);
  return d ? c.b.add(yb, d) : yb;
}

/**
 * PyTorch nn.Linear with weight stored [out, in] (Llama family): y = x @ W^T + b, as one Gemm (transB)
 * over all positions. Measured on CPU (2 threads) against MatMul with a transposed view and against a
 * pre-transposed [in, out] weight: equal within noise for decode (M = 1, memory-bound), within 10% for
 * training shapes, and Gemm's transB needs no Transpose node in the forward or the backward graph.
 */
export function linearOutIn(c: NnContext, x: Value, w: Value, bias: Value | null): Value {
  const { b } = c;
  const [n, k] = w.shape;
  const y = b.reshape(b.gemm(b.reshape(x, [-1, k]), w, bias, { transB: true }), [...x.shape.slice(0, -1), n]); // [*, n]
  const d = loraDelta(c, x, w);
  return d ? b.add(y, d) : y;
}

/** LayerNorm over the last axis. */
export function layerNorm(c: NnContext, x: Value, w: Value, bias: Value, eps: number): Value {
  const { b } = c;
  if (!c.decompose) return b.layerNorm(x, w, bias, eps)[0];
  const xc = b.sub(x, b.reduceMean(x, [-1], true));
  const inv = b.reciprocal(b.sqrt(b.add(b.reduceMean(b.mul(xc, xc), [-1], true), b.scalar(eps, x.dtype))));
  return b.add(b.mul(b.mul(xc, inv), w), bias);
}

/** RMSNorm (Llama): x * rsqrt(mean(x^2) + eps) * w. */
export function rmsNorm(c: NnContext, x: Value, w: Value, eps: number): Value {
  const { b } = c;
  const ms = b.reduceMean(b.mul(x, x), [-1], true);
  return b.mul(b.mul(x, b.reciprocal(b.sqrt(b.add(ms, b.scalar(eps, x.dtype))))), w);
}

export function gelu(c: NnContext, x: Value, approximate: 'none' | 'tanh'): Value {
  const { b } = c;
  if (!c.decompose) return b.gelu(x, approximate);
  const s = (v: number) => b.scalar(v, x.dtype);
  if (approximate === 'tanh') {
    const inner = b.mul(s(Math.sqrt(2 / Math.PI)), b.add(x, b.mul(s(0.044715), b.mul(b.mul(x, x), x))));
    return b.mul(b.mul(s(0.5), x), b.add(s(1), b.tanh(inner)));
  }
  return b.mul(b.mul(s(0.5), x), b.add(s(1), b.erf(b.mul(x, s(Math.SQRT1_2)))));
}

/**
 * SiLU, x * sigmoid(x). ORT's optimizer fuses that pattern into com.microsoft.QuickGelu, which has no
 * float64 kernel (a float64 graph without a backward pass fails to load), so `decompose` writes
 * x / (1 + exp(-x)) instead.
 */
export function silu(c: NnContext, x: Value): Value {
  const { b } = c;
  if (c.decompose) return b.div(x, b.add(b.scalar(1, x.dtype), b.exp(b.neg(x))));
  return b.mul(x, b.sigmoid(x));
}

/**
 * Inverted dropout with a counter-based mask: keep iff hash(element, site, key) >= p * 2^32.
 * The mask depends only on (key, site, element index), so a resumed run replays it exactly
 * (ORT's seeded random ops keep hidden state and cannot).
 */
export function dropout(c: NnContext, x: Value, p: number): Value {
  if (!c.dropoutKey || p <= 0) return x;
  const { b } = c;
  const site = ++c.dropoutSites;
  const u = (v: number) => b.scalar(v >>> 0, 'uint32');
  const n = size(x.shape);
  const idx = b.reshape(b.cast(b.range(b.scalar(0, 'int32'), b.scalar(n, 'int32'), b.scalar(1, 'int32'), n), 'uint32'), x.shape);
  const salt = b.add(b.mul(c.dropoutKey, u(0x9e3779b1)), u(Math.imul(site, 0x7feb352d)));
  let h = b.bitwiseXor(b.mul(idx, u(0x85ebca77)), salt);
  // murmur3 fmix32
  h = b.bitwiseXor(h, b.shiftRight(h, u(16)));
  h = b.mul(h, u(0x85ebca6b));
  h = b.bitwiseXor(h, b.shiftRight(h, u(13)));
  h = b.mul(h, u(0xc2b2ae35));
  h = b.bitwiseXor(h, b.shiftRight(h, u(16)));
  const keep = b.not(b.less(h, u(Math.min(0xffffffff, Math.round(p * 2 ** 32)))));
  const scale = b.mul(b.cast(keep, x.dtype), b.scalar(1 / (1 - p), x.dtype));
  return b.mul(x, scale);
}

/**
 * Incremental decoding against a static key/value cache (generation graphs, src/engine/generate/).
 * A model's forward pass takes this instead of full causal attention: the S new tokens of row b
 * sit at positions `positions[b, 0..S-1]`, and each layer's attention reads the cache.
 */
export interface KvCacheStep {
  /** Position of each new token, [B, S] int64 (learned position embeddings, rotary tables). */
  positions: Value;
  /** Cache slots per row: every position is below it (the size of position tables). */
  capacity: number;
  /**
   * Attention of layer `layer` for the new tokens: q [B, H, S, hd], k/v [B, Hkv, S, hd] (after rotary);
   * returns [B, S, H*hd]. It also records the layer's new keys and values as graph outputs.
   */
  attend(c: NnContext, layer: number, q: Value, k: Value, v: Value): Value;
  /** The hidden states whose logits are wanted: [B, S, C] -> [B, S', C] (e.g. each row's last prompt token). */
  select(x: Value): Value;
}

const causalMasks = new WeakMap<Graph, Map<string, Value>>();

/**
 * The additive causal mask [T, T] (0 where a query may see the key, at or before it; -1e9 after it),
 * one constant per graph, length and dtype, shared by every layer: at T = 2048 a float32 copy is
 * 16 MiB, which a 30-layer model would otherwise hold 30 times.
 */
export function causalMask(b: GraphBuilder, T: number, dtype: DType): Value {
  const root = b.graph.root();
  let masks = causalMasks.get(root);
  if (!masks) causalMasks.set(root, (masks = new Map()));
  const key = `${dtype}|${T}`;
  let mask = masks.get(key);
  if (!mask) {
    const data = dtype === 'float64' ? new Float64Array(T * T) : new Float32Array(T * T);
    for (let r = 0; r < T; r++) data.fill(-1e9, r * T + r + 1, (r + 1) * T);
    mask = b.tensor(dtype, [T, T], data, 'causal_mask');
    masks.set(key, mask);
  }
  return mask;
}

/**
 * Causal scaled dot-product attention. q [B, H, T, hd], k/v [B, Hkv, T, hd] (Hkv divides H:
 * grouped-query attention repeats each kv head H/Hkv times). Returns [B, T, H*hd].
 */
export function causalAttention(c: NnContext, q: Value, k: Value, v: Value, attnDropout: number): Value {
  const { b } = c;
  const [B, H, T, hd] = q.shape;
  const Hkv = k.shape[1];
  if (Hkv !== H) {
    const rep = H / Hkv;
    const repeat = (t: Value) => b.reshape(b.expand(b.unsqueeze(t, [2]), [B, Hkv, rep, T, hd]), [B, H, T, hd]);
    k = repeat(k);
    v = repeat(v);
  }
  const qs = b.mul(q, b.scalar(1 / Math.sqrt(hd), q.dtype));
  let att = b.matmul(qs, b.transpose(k, [0, 1, 3, 2])); // [B, H, T, T]
  att = b.add(att, causalMask(b, T, q.dtype));
  att = dropout(c, b.softmax(att, -1), attnDropout);
  const y = b.matmul(att, v); // [B, H, T, hd]
  return b.reshape(b.transpose(y, [0, 2, 1, 3]), [B, T, H * hd]);
}

/**
 * Mean next-token cross-entropy over targets != -100. logits [B, T, V], targets [B, T] int64
 * (already shifted: targets[t] is the token after position t). A batch with no counted target
 * gives loss 0 and zero gradients, never NaN.
 */
export function crossEntropy(c: NnContext, logits: Value, targets: Value): { loss: Value; count: Value } {
  const { b } = c;
  const V = logits.shape[logits.shape.length - 1];
  const N = size(logits.shape) / V;
  const t = b.reshape(targets, [N]);
  // ORT's fused kernel (one pass, per-row loss, ignored rows 0) with its own gradient rule: the
  // backward materialises fewer [N, V] tensors than LogSoftmax + GatherElements.
  const [perRow] = b.softmaxCrossEntropy(b.reshape(logits, [N, V]), t, -100);
  const count = b.reduceSum(b.cast(b.not(b.equal(t, b.scalar(-100, 'int64'))), logits.dtype), [0]);
  const total = b.reduceSum(perRow, [0]);
  return { loss: b.div(total, b.max(count, b.scalar(1, logits.dtype))), count };
}
